"""The seam between the pages and the engine that runs their statements.

The pages (`convoscope.pages`) are written as SQL statements in DuckDB's dialect with named
parameters (`$ws`, `$start`...). They run them through an `Engine`: `rows(sql, params)`
executes one statement and gives its rows by column name, `snapshot()` opens one
read-consistent pass with small tables (buckets, business hours) registered for its
statements, `workspace(name)` gives the settings, and `rollups` says whether rollup tables
are kept. `DuckEngine` runs them on DuckDB (the store's file, or the lake's Parquet
through `lake.LakeTables`); `spark.SparkEngine` transpiles the same text for Spark. Nothing
above this module knows which one runs.

The portable subset every statement keeps (checked by `tests/test_portable.py` on each of them):
parameters are scalars or lists of text, bound by name (other engines bind them as typed
literals; a list is never NULL: `scope.LISTS`); no `AVG` over integers (sums and
counts, divided in Python: exact on both engines); explicit casts to the table types; only
functions both engines have, as SQLGlot names them (`PORTABLE_FUNCTIONS`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import duckdb

from convoscope.store import Workspace

if TYPE_CHECKING:
    import pyarrow as pa

Row = dict[str, Any]  # one result row, by column name


class EngineError(RuntimeError):
    """An engine that cannot run as asked (e.g. a Spark session that refused a setting)."""


class Tables(Protocol):
    """Where DuckDB finds the derived tables: a `Store`, or a lake's `LakeTables`."""

    @property
    def rollups(self) -> bool:
        """Whether the rollup tables are kept (read after `con`: a lake's state may change)."""
        ...

    @property
    def con(self) -> duckdb.DuckDBPyConnection: ...

    def workspace(self, name: str) -> Workspace | None: ...

    # what the filter pickers list
    def channels(self, workspace: str) -> list[str]: ...

    def departments(self, workspace: str) -> list[str]: ...

    def teammates(self, workspace: str) -> list[str]: ...

    def flows(self, workspace: str) -> list[str]: ...


@dataclass(frozen=True)
class Frame:
    """A small table of one request (the buckets, business hours, the flow catalogue): its
    columns with their SQL types, and its rows as Python values. Each engine makes it visible
    its own way; DuckDB fills a temporary table from list parameters, so a page builds no
    Arrow (building Arrow from Python values imports pandas where it is installed: 0.3 s of
    a `convoscope report` process)."""

    columns: Mapping[str, str]  # name -> INTEGER, TIMESTAMP or VARCHAR
    rows: Sequence[Sequence[Any]]

    def values(self) -> dict[str, list[Any]]:
        """Each column's values, by name."""
        return {name: [row[i] for row in self.rows] for i, name in enumerate(self.columns)}

    def arrow(self) -> pa.Table:
        """The same as an Arrow table (for the engines that take one: Spark, chDB)."""
        import pyarrow as pa

        types = {"INTEGER": pa.int32(), "TIMESTAMP": pa.timestamp("us"), "VARCHAR": pa.string()}
        schema = pa.schema([(name, types[kind]) for name, kind in self.columns.items()])
        return pa.Table.from_pydict(self.values(), schema=schema)


class Engine(Protocol):
    rollups: bool  # whether the rollup tables are kept (else the rows answer everything)

    def workspace(self, name: str) -> Workspace | None:
        """The workspace's settings (its zone and business hours are read in that zone)."""
        ...

    def rows(self, sql: str, params: Mapping[str, Any]) -> list[Row]:
        """Every row of one statement by column name, its parameters bound by name (unused
        ones ignored)."""
        ...

    def snapshot(self) -> AbstractContextManager[None]:
        """One read-consistent pass over the derived tables."""
        ...

    def register(self, name: str, frame: Frame) -> None:
        """Make a small table visible by name to the snapshot's statements (until its end)."""
        ...

    def channels(self, workspace: str) -> list[str]:
        """The channels with data (the channel picker, and the check of a channel filter)."""
        ...


@dataclass(frozen=True)
class LakeOptions:
    """How an engine that reads a lake is reached (Spark's master or Connect URL)."""

    master: str | None = None
    remote: str | None = None
