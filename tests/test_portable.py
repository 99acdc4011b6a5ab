"""The one SQL source, checked statement by statement: every statement that runs on both
engines keeps to the portable subset written down in `convoscope.engines.base`, and its Spark text
is kept in tests/golden/spark so that a SQLGlot upgrade that changes it shows in review
(`CONVOSCOPE_UPDATE_GOLDEN=1 pytest tests/test_portable.py` rewrites the files). Running them
on both engines is `tests/test_spark.py`'s job."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from convoscope import catalog, conversations, scope
from convoscope.engines import dialects
from convoscope.store import DERIVED_TABLES, ROLLUP_TABLES

GOLDEN = Path(__file__).parent / "golden" / "spark"
# Every statement both engines run, by name (`convoscope.catalog`).
CATALOG = catalog.statements()
SHARED = {name: statement.sql for name, statement in CATALOG.items()}
# What a statement may read: the derived tables and rollups, the small tables a request
# registers, the cut's inputs and its own results as views (`conversations.CUT`), and the
# derived rows the rollups are summed from on a lake.
READABLE = {
    *DERIVED_TABLES,
    *ROLLUP_TABLES,
    "buckets",
    "business_hours",
    "flow_catalogue",
    "thread_events",
    "workspaces",
    *(name for name, _ in conversations.CUT),
}
# The parameters statements may read: scalars, and the lists of text of `scope.LISTS`.
SCALARS = {
    "ws",
    "start",
    "end",
    "slot_end",
    "previous_slot_end",
    "surveyed_from",
    "by_channel",
    "by_department",
    "no_department",
    "by_teammate",
    "by_flow",
    "no_flow",
    "by_flow_type",
    "no_flow_type",
    "now",
    "inactivity_us",
    "window_us",
    "window_start",
    "previous_start",
    "previous_end",
    "on_slots",
}
# Functions SQLGlot does not know in one dialect or the other are engine-only unless listed
# here, with the reason they are portable: the names `SparkEngine` writes itself.
SPELLED_FOR_SPARK = {"ARRAYS_OVERLAP", "PERCENTILE", "TIMESTAMP_SECONDS"}


@pytest.mark.parametrize("name", sorted(SHARED))
def test_each_shared_statement_keeps_to_the_portable_subset(name):
    sql = SHARED[name]
    tree = sqlglot.parse_one(sql, read="duckdb")
    used = {p.name for p in tree.find_all(exp.Placeholder)}
    assert used <= SCALARS | set(scope.LISTS), used - SCALARS - set(scope.LISTS)
    assert not list(tree.find_all(exp.Avg)), "AVG: Spark averages BIGINT in DOUBLE"
    unknown = {f.name.upper() for f in tree.find_all(exp.Anonymous)}
    assert not unknown, f"functions SQLGlot cannot carry to Spark: {unknown}"
    spark_text = sqlglot.parse_one(dialects.transpile(sql, {}, dialects.SPARK), read="spark")
    assert {f.name.upper() for f in spark_text.find_all(exp.Anonymous)} <= SPELLED_FOR_SPARK
    assert not re.search(r"\bMATERIALIZED\b", spark_text.sql("spark"))


UPDATING = bool(os.environ.get("CONVOSCOPE_UPDATE_GOLDEN"))


@pytest.mark.parametrize("name", sorted(SHARED))
def test_the_spark_text_of_each_statement_is_kept_for_review(name):
    text = dialects.transpile(SHARED[name], {}, dialects.SPARK) + "\n"
    path = GOLDEN / f"{name}.sql"
    if UPDATING:
        # CI compares, never rewrites: a rewrite there would pass whatever the text became
        assert not os.environ.get("CI"), "CONVOSCOPE_UPDATE_GOLDEN is refused under CI"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text


def test_every_golden_file_is_a_statement_s():
    stray = {p.stem for p in GOLDEN.glob("*.sql")} - set(SHARED)
    if UPDATING and not os.environ.get("CI"):
        for name in stray:
            (GOLDEN / f"{name}.sql").unlink()
        stray = set()
    assert not stray, f"golden files of no statement (renamed or removed?): {sorted(stray)}"


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_each_statement_reads_only_what_every_engine_provides(name):
    assert CATALOG[name].reads <= READABLE, CATALOG[name].reads - READABLE


def test_a_parameter_outside_the_subset_is_refused():
    with pytest.raises(TypeError, match="portable subset"):
        dialects.transpile("SELECT $x", {"x": 1.5}, dialects.SPARK)


def test_each_statement_of_the_cut_reads_only_the_cut_s_earlier_views():
    """Spark keeps the cut's frames at once, each when the views it reads are made
    (`engines.spark.derive`): a statement reading a later one would wait for nothing."""
    names = [name for name, _ in conversations.CUT]
    for i, (name, sql) in enumerate(conversations.CUT):
        assert dialects.tables_read(sql) & set(names) <= set(names[:i]), name
    assert dialects.tables_read(
        "WITH a AS (SELECT * FROM b) SELECT * FROM a JOIN (SELECT * FROM c) USING (x)"
    ) == {"b", "c"}
