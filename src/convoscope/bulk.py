"""Event records checked set-based in DuckDB: the fast way in for files and the demo.

`events.validate_batch` defines what a valid event is, one Python object per record (tens of
microseconds each). This module is a filter in front of it: one SQL pass over a whole file (or
Arrow table) that accepts a record only when it can prove the record valid and convert it
exactly as the model would, and that is conservative everywhere else. When any record is
*suspect* nothing is staged and the caller runs the per-record path on the same input, which
either names every record and field at fault with the usual messages or accepts what was valid
in a form this filter does not vouch for (a welcome written "yes", a score of 5.0, a
timestamp with a space for its T or nanoseconds). Error messages and stored values therefore
come from one definition; `tests/test_bulk.py` checks on random records that both paths store
the same rows.

What is proven here, per SPEC section 1 and the model in `events`: the record is an object
with no unknown and no repeated key; every field has the JSON or column type the model accepts
without coercion; strings are within the model's lengths (counted in code points); the
timestamp is strict RFC 3339 (`T`, at most microseconds, `Z` or a +hh:mm offset) and within the
years allowed; the cross-field rules hold; a department has a letter or digit (so it is not
blank) and does not mention a reserved name.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from convoscope.event_fields import (
    BOOLEAN_FIELDS,
    CONTENT_FIELDS,
    FIRST_YEAR,
    LAST_YEAR,
    value_rule,
)
from convoscope.events import RULES, Event, validate_batch
from convoscope.store import Staging

FIELDS = ("event_id", "workspace", *CONTENT_FIELDS)  # every field an event may have
_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"}
# Strict RFC 3339 with the ranges of each part; DuckDB's cast then rejects impossible dates.
_TS = (
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d"
    r"(\.\d{1,6})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$"
)
_BOM = b"\xef\xbb\xbf"
_LINES = "json_lines"  # a JSON Lines file's lines, numbered (`jsonl`)


@dataclass(frozen=True)
class Source:
    """A relation of records: SQL that yields `idx` (file order) and the per-field columns
    `<field>_k` (kind: str, bool, int, tstz, null, absent or other) and `<field>_v` (text),
    plus `<name>_b` for each of `BOOLEAN_FIELDS`, `score_i`, `ts_t` (a UTC instant) and
    `broken` (the record cannot be trusted as a whole: not an object, unknown or repeated
    keys)."""

    sql: str


# A field's value as `json_extract` gives it: yyjson's text of it (NULL when the key is absent).
# Its kind and its text are read from that text rather than parsed again per field: a string
# starts with a quote and, when it holds no escape, is the text between its quotes.
def _kind_of_json(item: str) -> str:
    return (
        f"CASE WHEN {item} IS NULL THEN 'absent' ELSE CASE left({item}, 1) "
        "WHEN '\"' THEN 'str' WHEN 't' THEN 'bool' WHEN 'f' THEN 'bool' WHEN 'n' THEN 'null' "
        f"ELSE CASE WHEN regexp_full_match({item}, '-?[0-9]+') THEN 'int' ELSE 'other' END "
        "END END"
    )


def _text_of_json(item: str) -> str:
    return (
        f"CASE WHEN left({item}, 1) = '\"' THEN CASE WHEN contains({item}, '\\') "
        f"THEN {item} ->> '$' ELSE {item}[2:-2] END END"
    )


def jsonl(con: duckdb.DuckDBPyConnection, path: Path) -> Source | None:
    """A JSON Lines file, or None when it starts with a byte-order mark (which Python's `json`
    refuses and DuckDB's reader might skip). DuckDB refuses escaped lone surrogates, as the
    model does (`tests/test_bulk.py` holds it to that). The lines are numbered into a
    temporary table first (`file_source` drops it): numbering them in the check itself would
    run the whole check on one thread."""
    with path.open("rb") as f:
        if f.read(3) == _BOM:
            return None
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_LINES} AS SELECT row_number() OVER () - 1 AS idx, json "
        f"FROM read_ndjson_objects({_literal(str(path))})"
    )
    paths = ", ".join(f"'$.{name}'" for name in FIELDS)
    columns = []
    for i, name in enumerate(FIELDS, start=1):
        item = f"v[{i}]"
        columns += [f"{_kind_of_json(item)} AS {name}_k", f"{_text_of_json(item)} AS {name}_v"]
    allowed = ", ".join(f"'{name}'" for name in FIELDS)
    unknown = f"list_filter(keys, lambda k: NOT list_contains([{allowed}], k))"
    booleans = "".join(
        f"v[{FIELDS.index(name) + 1}] = 'true' AS {name}_b, " for name in BOOLEAN_FIELDS
    )
    score = FIELDS.index("score") + 1
    return Source(
        f"""
        SELECT idx, {", ".join(columns)}, {booleans}
               TRY_CAST(v[{score}]::VARCHAR AS BIGINT) AS score_i,
               NULL::TIMESTAMP AS ts_t,
               json_type(json) <> 'OBJECT'
                 OR len(keys) <> len(list_distinct(keys))
                 OR len({unknown}) > 0 AS broken
        FROM (
            SELECT idx, json, json_keys(json) AS keys, json_extract(json, [{paths}]) AS v
            FROM {_LINES}
        )
        """
    )


def columns(con: duckdb.DuckDBPyConnection, relation: str, idx: str) -> Source:
    """Typed columns (a Parquet file, an Arrow table): a null is an absent field, as in the
    per-record path; a column type the model would have to coerce makes its values suspect."""
    described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    types = {row[0]: str(row[1]) for row in described}
    unknown = [name for name in types if name not in FIELDS and name != idx]
    selected = [f"{idx} AS idx"]
    for name in FIELDS:
        kind = types.get(name)
        col = f'"{name}"'
        tag = (
            "str"
            if kind == "VARCHAR"
            else "bool"
            if kind == "BOOLEAN"
            else "int"
            if kind in _INTEGERS
            else "tstz"
            if kind == "TIMESTAMP WITH TIME ZONE"
            else "other"
        )
        if kind is None:
            selected += [f"'absent' AS {name}_k", f"NULL::VARCHAR AS {name}_v"]
        else:
            selected += [
                f"CASE WHEN {col} IS NULL THEN 'absent' ELSE '{tag}' END AS {name}_k",
                f"{col}::VARCHAR AS {name}_v" if tag == "str" else f"NULL::VARCHAR AS {name}_v",
            ]
    score, ts = types.get("score"), types.get("ts")
    selected += [
        f'"{name}" AS {name}_b' if types.get(name) == "BOOLEAN" else f"NULL::BOOLEAN AS {name}_b"
        for name in BOOLEAN_FIELDS
    ]
    selected += [
        '"score"::BIGINT AS score_i' if score in _INTEGERS else "NULL::BIGINT AS score_i",
        "timezone('UTC', \"ts\") AS ts_t"
        if ts == "TIMESTAMP WITH TIME ZONE"
        else "NULL::TIMESTAMP AS ts_t",
        " OR ".join(f'"{name}" IS NOT NULL' for name in unknown) + " AS broken"
        if unknown
        else "false AS broken",
    ]
    return Source(f"SELECT {', '.join(selected)} FROM {relation}")


def parquet(con: duckdb.DuckDBPyConnection, path: Path) -> Source:
    """A Parquet file, numbered in file order."""
    relation = f"read_parquet({_literal(str(path))}, file_row_number = true)"
    return columns(con, relation, "file_row_number")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def value(field: str, column: str | None = None) -> str:
    """The field's own rule (`event_fields.LIMITS`) over its text column (or `column`)."""
    return value_rule(field, column or f"{field}_v")


# The fields that are text checked by their own rule alone (an amount is text too: its rule is
# its pattern, and the store keeps it as written).
_TEXT = ("flow", "flow_type", "step", "about", "customer_ref", "order_id", "currency", "source")


def _checked_sql(source: Source, workspace: str) -> str:
    """Each record's values as the model converts them, and `ok` when it is proven valid."""
    local = "TRY_CAST(left(ts_v, CASE WHEN ts_v[-1] = 'Z' THEN -1 ELSE -6 END) AS TIMESTAMP)"
    offset = (
        "CASE WHEN ts_v[-1] = 'Z' THEN 0 ELSE (CASE WHEN ts_v[-6] = '-' THEN -1 ELSE 1 END) "
        "* (TRY_CAST(ts_v[-5:-4] AS INTEGER) * 60 + TRY_CAST(ts_v[-2:] AS INTEGER)) END"
    )
    years = f"BETWEEN {FIRST_YEAR} AND {LAST_YEAR}"
    optional = "IN ('absent', 'null')"
    rules = [
        "NOT broken",
        f"event_id_k = 'str' AND {value('event_id')}",
        f"workspace_k {optional} OR (workspace_k = 'str' AND workspace_v = $workspace)",
        f"(ts_k = 'str' AND regexp_full_match(ts_v, '{_TS}') AND year(ts_local) {years}) "
        # An instant's local year is in its zone, unknown here: a day's margin keeps it safe.
        f"OR (ts_k = 'tstz' AND ts_t BETWEEN TIMESTAMP '{FIRST_YEAR}-01-02' "
        f"AND TIMESTAMP '{LAST_YEAR}-12-31')",
        f"year(ts) {years}",
        f"channel_k {optional} OR (channel_k = 'str' AND {value('channel')})",
        f"customer_id_k {optional} OR (customer_id_k = 'str' AND {value('customer_id')})",
        f"type_k = 'str' AND {value('type')}",
        f"sender_k {optional} OR (sender_k = 'str' AND {value('sender')})",
        f"teammate_id_k {optional} OR (teammate_id_k = 'str' AND {value('teammate_id')})",
        *(
            f"{b}_k = 'absent' OR ({b}_k = 'bool' AND {b}_b IS NOT NULL) "
            f"OR ({b}_k = 'str' AND {b}_v IN ('true', 'false'))"
            for b in BOOLEAN_FIELDS
        ),
        f"department_k {optional} OR (department_k = 'str' AND {value('department')} "
        # not blank, no reserved name: else the model decides, per record
        "AND regexp_matches(department_v, '[\\pL\\pN]') "
        "AND NOT regexp_matches(department_v, '(?i)none|department'))",
        f"score_k {optional} OR (score_k = 'int' AND {value('score', 'score_i')}) "
        "OR (score_k = 'str' AND regexp_full_match(score_v, '[1-5]'))",
        *(
            f"{name}_k {optional} OR ({name}_k = 'str' AND {value(name)})"
            for name in (*_TEXT, "amount")
        ),
        # The cross-field rules of SPEC section 1.
        *(rule.sql for rule in RULES),
    ]
    ok = " AND ".join(f"coalesce({rule}, false)" for rule in rules)
    booleans = ", ".join(
        f"CASE {b}_k WHEN 'bool' THEN {b}_b WHEN 'str' THEN {b}_v = 'true' ELSE false END AS {b}"
        for b in BOOLEAN_FIELDS
    )
    texts = ", ".join(_TEXT)
    renamed = ", ".join(f"{n}_v AS {n}" for n in _TEXT)
    return f"""
        SELECT idx, event_id, ts, channel, customer_id, type, sender, teammate_id, welcome,
               department, score, {texts}, amount, flow_end, fallback, test,
               {ok} AS ok
        FROM (
            SELECT *, event_id_v AS event_id, {renamed},
                   amount_v AS amount,
                   CASE WHEN ts_k = 'tstz' THEN ts_t ELSE ts_local - to_minutes({offset}) END
                       AS ts,
                   channel_v AS channel, customer_id_v AS customer_id, type_v AS type,
                   sender_v AS sender, teammate_id_v AS teammate_id, {booleans},
                   department_v AS department,
                   CASE score_k WHEN 'int' THEN score_i WHEN 'str' THEN TRY_CAST(score_v AS BIGINT)
                       END AS score
            FROM (SELECT *, {local} AS ts_local FROM ({source.sql}))
        )
        """


FILE_FORMATS = ("jsonl", "parquet")
# The demo's records as Arrow columns (what a Parquet file of SPEC records holds).
RECORD_SCHEMA = pa.schema(
    [(name, pa.string()) for name in FIELDS if name not in (*BOOLEAN_FIELDS, "score")]
    + [(name, pa.bool_()) for name in BOOLEAN_FIELDS]
    + [("score", pa.int64())]
)


@contextmanager
def file_source(con: duckdb.DuckDBPyConnection, path: Path, fmt: str) -> Iterator[Source | None]:
    """A file of SPEC records (one of FILE_FORMATS) as a Source, or None when DuckDB cannot
    read it (the per-record path then says why); what it made on `con` is dropped after."""
    try:
        try:
            source = jsonl(con, path) if fmt == "jsonl" else parquet(con, path)
        except duckdb.Error:
            source = None
        yield source
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_LINES}")


def stage_file(
    staging: Staging,
    path: Path,
    fmt: str,
    workspace: str,
    per_record: Callable[[], Iterable[Sequence[Event]]],
) -> None:
    """Stage a file of SPEC records (one of FILE_FORMATS) set-based; if any record is
    suspect, stage the batches of `per_record` instead (which raise EventError with every
    record and field at fault)."""
    with file_source(staging.con, path, fmt) as source:
        staged = source is not None and stage(staging, source, workspace)
    if not staged:
        for batch in per_record():
            staging.add(workspace, batch)


def stage_records(
    staging: Staging, workspace: str, records: Sequence[Mapping[str, Any]], offset: int
) -> None:
    """Stage records held in Python (the demo) set-based, through an Arrow table; if any is
    suspect, validate them per record (`offset` numbers them in the whole input)."""
    table = _arrow(records)
    if table is not None:
        staging.con.register("records", table)
        try:
            if stage(staging, columns(staging.con, "records", "idx"), workspace):
                return
        finally:
            staging.con.unregister("records")
    staging.add(workspace, validate_batch(records, workspace, offset))


def _arrow(records: Sequence[Mapping[str, Any]]) -> pa.Table | None:
    """The records as RECORD_SCHEMA columns, or None unless Arrow infers exactly each column's
    type (a column mixing 5 and 5.5, or text and bytes, must not be converted: Arrow would
    make 5.5 into 5) and no record has an unknown key or a null boolean (an error for the
    model, not an absence). Arrow reads the records once, as structs, in C++: a list per
    field built in Python was most of the demo's time."""
    try:
        rows = pa.array(records)  # each key's type inferred over every record
    except (pa.ArrowException, ValueError, OverflowError):  # mixed types, a lone surrogate
        return None
    if not pa.types.is_struct(rows.type) or rows.null_count:
        return None
    given = {field.name for field in rows.type}
    if not given <= set(FIELDS):
        return None
    arrays = []
    for field in RECORD_SCHEMA:
        if field.name not in given:
            arrays.append(pa.nulls(len(rows), field.type))
            continue
        array = rows.field(field.name)
        if array.type not in (field.type, pa.null()):
            return None
        arrays.append(array.cast(field.type))
    for name in BOOLEAN_FIELDS:
        column = arrays[RECORD_SCHEMA.get_field_index(name)]
        if (
            name in given
            and column.null_count
            # records holding the key, counted at C speed (a generator was a quarter of this)
            and sum(map(operator.contains, records, itertools.repeat(name)))
            != len(column) - column.null_count
        ):
            return None
    arrays.append(pa.array(range(len(records)), pa.int64()))
    return pa.Table.from_arrays(arrays, schema=RECORD_SCHEMA.append(pa.field("idx", pa.int64())))


def stage(staging: Staging, source: Source, workspace: str) -> bool:
    """Stage every record of `source` for `workspace` if all are proven valid; else stage
    nothing and return False. A source DuckDB cannot read is also False: the per-record path
    then says what is wrong with it."""
    con = staging.con
    try:
        try:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE checked AS {_checked_sql(source, workspace)}",
                {"workspace": workspace},
            )
        except (duckdb.Error, pa.ArrowException):
            return False
        (suspect,) = con.execute("SELECT count(*) FROM checked WHERE NOT ok").fetchone() or (0,)
        if suspect:
            return False
        staging.add_checked(workspace, "checked")
        return True
    finally:
        con.execute("DROP TABLE IF EXISTS checked")
