"""The seam between the metrics and the engine that runs them.

The pages (`convoscope.pages`) are written as SQL statements in DuckDB's dialect with named
parameters (`$ws`, `$start`...). They run them through an `Engine`: `rows(sql, params)`
executes one statement and gives its rows by column name, `snapshot()` opens one
read-consistent pass with small tables (buckets, business hours) registered for its
statements, `workspace(name)` gives the settings, and `rollups` says whether rollup tables
are kept. `DuckEngine` runs them on DuckDB (the store's file, or the lake's Parquet
through `lake.LakeTables`); `spark.SparkEngine` transpiles the same text for Spark. Nothing
above this module knows which one runs.

The portable subset every statement keeps (checked by `tests/test_portable.py` on each of them):
parameters are scalars or lists of text, bound by name (`SparkEngine` binds them as typed
literals, a missing list as a typed NULL: `scope.LISTS`); no `AVG` over integers (sums and
counts, divided in Python: exact on both engines); explicit casts to the table types; only
functions both engines have, as SQLGlot names them (`PORTABLE_FUNCTIONS`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from convoscope.store import Workspace, bound

Row = dict[str, Any]  # one result row, by column name


class Tables(Protocol):
    """Where DuckDB finds the derived tables: a `Store`, or a lake's `LakeTables`."""

    rollups: bool

    @property
    def con(self) -> duckdb.DuckDBPyConnection: ...

    def workspace(self, name: str) -> Workspace | None: ...

    # what the filter pickers list
    def channels(self, workspace: str) -> list[str]: ...

    def departments(self, workspace: str) -> list[str]: ...

    def teammates(self, workspace: str) -> list[str]: ...


class Engine(Protocol):
    rollups: bool

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

    def register(self, name: str, table: pa.Table) -> None:
        """Make a small table visible by name to the snapshot's statements (until its end)."""
        ...


class DuckEngine:
    """Statements on DuckDB, in one transaction per snapshot (this thread's cursor)."""

    def __init__(self, tables: Tables):
        self.tables = tables
        self.con = tables.con
        self.rollups = tables.rollups
        self._registered: set[str] = set()

    def workspace(self, name: str) -> Workspace | None:
        return self.tables.workspace(name)

    def rows(self, sql: str, params: Mapping[str, Any]) -> list[Row]:
        cursor = self.con.execute(sql, bound(sql, dict(params)))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        self.con.begin()
        try:
            yield
        finally:
            for name in self._registered:
                self.con.unregister(name)
            self._registered.clear()
            self.con.rollback()

    def register(self, name: str, table: pa.Table) -> None:
        if name in self._registered:
            self.con.unregister(name)
        self.con.register(name, table)
        self._registered.add(name)


def of(source: Tables | Engine) -> Engine:
    """The engine for `source`: an engine as it is, DuckDB for a store or a lake's tables."""
    if hasattr(source, "rows"):
        return source  # type: ignore[return-value]
    return DuckEngine(source)  # type: ignore[arg-type]
