"""Statements on DuckDB: the store's file, or a lake's derived Parquet (`lake.LakeTables`).

DuckDB runs the statements as written; a statement's parameters are the ones it names
(`dialects.bound`); a snapshot is one transaction on this thread's cursor, the small
tables of the request (buckets, business hours) temporary tables inside it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from convoscope import conversations
from convoscope.engines.base import Frame, LakeOptions, Row, Tables
from convoscope.store import Workspace, bound

if TYPE_CHECKING:
    from convoscope.lake import Lake


class DuckEngine:
    """Statements on DuckDB, in one transaction per snapshot (this thread's cursor)."""

    def __init__(self, tables: Tables):
        self.tables = tables
        self.con = tables.con
        self.rollups = tables.rollups

    def workspace(self, name: str) -> Workspace | None:
        return self.tables.workspace(name)

    def channels(self, workspace: str) -> list[str]:
        return self.tables.channels(workspace)

    def rows(self, sql: str, params: Mapping[str, Any]) -> list[Row]:
        cursor = self.con.execute(sql, bound(self.con, sql, dict(params)))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        conversations.settle(self.tables)  # read-your-writes
        self.con.begin()
        try:
            yield
        finally:  # also drops the temporary tables of `register`
            self.con.rollback()

    def register(self, name: str, frame: Frame) -> None:
        """A temporary table made in the snapshot's transaction (its rollback drops it), filled
        by one statement from a list parameter per column."""
        columns = ", ".join(
            f"unnest(${column}::{kind}[]) AS {column}" for column, kind in frame.columns.items()
        )
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {columns}", frame.values())


@contextmanager
def open_lake(lake: Lake, workspace: str, options: LakeOptions) -> Iterator[DuckEngine]:
    """DuckDB over the lake's derived Parquet (`lake.LakeTables`, the `serve --lake` path)."""
    from convoscope.lake import LakeTables

    tables = LakeTables(lake, lake.workspace)
    try:
        yield DuckEngine(tables)
    finally:
        tables.close()
