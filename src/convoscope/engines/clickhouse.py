"""The pages' statements on ClickHouse's embedded engine (chDB), over a lake: the read side of a
third engine, proving the seam (`engines.base`).

Each derived table and rollup of the lake (`lake.Lake`: hive-partitioned Parquet,
`derived/<table>/workspace=W/day=D/`) is a view over its files for one workspace; a table with
no file yet is an empty one of the store's columns. Statements are the pages' own, spelled by
`dialects.CLICKHOUSE`; the session computes in UTC, so the zone-less UTC timestamps of the
lake and of the parameters mean what they mean on DuckDB. What a full third engine would
still need (deriving the lake, not only reading it) is in the README.

chDB is an optional dependency (`pip install 'convoscope[clickhouse]'`): only this module
imports it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from itertools import count
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from convoscope.engines import dialects
from convoscope.engines.base import Frame, LakeOptions, Row
from convoscope.lake import CHANNELS_SQL, Lake, LakeError, underived
from convoscope.store import DERIVED_TABLES, ROLLUP_TABLES, Workspace
from convoscope.store.tables import TABLES

if TYPE_CHECKING:
    from chdb.session import Session

# UTC; the hive partition columns; and an alias never shadows a column of the same name inside
# the same SELECT (`sum(engaged) AS engaged, ... sum(engaged)`: standard SQL reads the column).
SETTINGS = {"session_timezone": "UTC", "use_hive_partitioning": 1, "prefer_column_name_to_alias": 1}


_ENGINES = count()


class ClickHouseEngine:
    """The statements of every page on chDB, over one workspace of a lake (`engines.Engine`)."""

    def __init__(self, lake: Lake, workspace: str):
        from chdb.session import Session

        self.lake = lake
        self.session: Session = Session()  # chDB keeps one state per process: a database each
        self.database = f"convoscope_{next(_ENGINES)}"
        self.session.query(f"CREATE DATABASE {self.database}")
        self._use()
        manifest = lake.manifest()  # one committed state for the whole report
        if manifest is None:
            raise LakeError(underived(lake))
        self.rollups = all(manifest.tables.get(t) for t in ROLLUP_TABLES)
        for table in (*DERIVED_TABLES, *ROLLUP_TABLES):
            files = manifest.files(lake, table)
            if files:
                union = " UNION ALL ".join(
                    f"SELECT * EXCEPT (day, run) FROM file({_text(f)}, Parquet)" for f in files
                )
                self.session.query(
                    f"CREATE VIEW {table} AS SELECT * FROM ({union}) "
                    f"WHERE workspace = {_text(workspace)}"
                )
            else:
                self._create(table, _empty(table))

    def workspace(self, name: str) -> Workspace | None:
        return self.lake.workspace(name)

    def channels(self, workspace: str) -> list[str]:
        return [r["channel"] for r in self.rows(CHANNELS_SQL, {"ws": workspace})]

    def rows(self, sql: str, params: Mapping[str, Any]) -> list[Row]:
        text = dialects.transpile(sql, params, dialects.CLICKHOUSE)
        self._use()
        table = self.session.query(text, "ArrowTable")
        return _naive(table).to_pylist()

    def close(self) -> None:
        self.session.query(f"DROP DATABASE IF EXISTS {self.database}")

    def _use(self) -> None:
        """This engine's database and settings for the next statements."""
        self.session.query(f"USE {self.database}")
        for name, value in SETTINGS.items():
            self.session.query(f"SET {name} = {_text(str(value))}")

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        yield  # the lake's files do not change under a report (a derivation runs apart)

    def register(self, name: str, frame: Frame) -> None:
        self._use()
        self.session.query(f"DROP TABLE IF EXISTS {name}")
        self._create(name, frame.arrow())

    def _create(self, name: str, table: pa.Table) -> None:
        """A table `name` holding `table` (chDB reads the local variable by its name)."""
        source = table  # noqa: F841 - read by chDB's Python() table function
        self.session.query(f"CREATE TABLE {name} ENGINE = Memory AS SELECT * FROM Python(source)")


def _text(value: str) -> str:
    """A string literal of ClickHouse's SQL (quotes and backslashes escaped by SQLGlot)."""
    from sqlglot import exp

    return exp.Literal.string(value).sql(dialect="clickhouse")


# The Arrow type of each column type of `store.tables`.
_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "TIMESTAMP": pa.timestamp("us"),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "TINYINT": pa.int8(),
    "BOOLEAN": pa.bool_(),
    "UBIGINT": pa.uint64(),
    "VARCHAR[]": pa.list_(pa.string()),
    "DECIMAL(18,4)": pa.decimal128(18, 4),
}


@cache
def _empty(table: str) -> pa.Table:
    """An empty table with the declared columns and types."""
    columns = TABLES[table].columns
    schema = pa.schema([pa.field(c.name, _ARROW_TYPES[c.type], c.nullable) for c in columns])
    return schema.empty_table()


def _naive(table: pa.Table) -> pa.Table:
    """Timestamps as zone-less UTC, as the other engines give them (chDB tags them UTC)."""
    columns = [
        c.cast(pa.timestamp(c.type.unit)) if pa.types.is_timestamp(c.type) and c.type.tz else c
        for c in table.columns
    ]
    return pa.Table.from_arrays(columns, names=table.column_names)


@contextmanager
def open_lake(lake: Lake, workspace: str, options: LakeOptions) -> Iterator[ClickHouseEngine]:
    """chDB over the lake's derived tables for one workspace."""
    engine = ClickHouseEngine(lake, workspace)
    try:
        yield engine
    finally:
        engine.close()
