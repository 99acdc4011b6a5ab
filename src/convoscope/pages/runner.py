"""The one path from a request to a page's numbers, as named steps.

`run(page, source, query)`: pick the engine for the source, decide whether the rollups may
answer (`sources`), open one read-consistent snapshot, register the buckets, let the page run
its named statements for the period and the previous one (`Page.compute`, through a
`Context`), count the data-quality orphans, and shape the result with the shared header.
`export(...)` runs one CSV of a page the same way. The CLI, the HTTP API and the page all go
through here, so they cannot disagree. Rendering is not done here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from pydantic import BaseModel

from convoscope import scope
from convoscope.engines import Engine, Row, Tables
from convoscope.engines import of as engine_of
from convoscope.pages.common import (
    ORPHANS_SQL,
    DataQuality,
    Export,
    Page,
    Rows,
    bucket_table,
    header,
)
from convoscope.query import Period, Query


@dataclass(frozen=True)
class Context:
    """What a page's step works with: the engine inside one snapshot, the query, and whether
    the rollups may answer (the source keeps them and the caller did not ask for rows)."""

    engine: Engine
    query: Query
    rollups: bool

    def params(self, period: Period, **extra: Any) -> dict[str, Any]:
        """The parameters of every statement: the filters (`scope`), the period, and more."""
        return {**scope.params(self.query), "start": period.start, "end": period.end, **extra}

    def rows(self, sql: str, period: Period, **extra: Any) -> list[Row]:
        return self.engine.rows(sql, self.params(period, **extra))

    def one(self, sql: str, period: Period, **extra: Any) -> Row:
        """The row of a statement that always returns exactly one (an aggregate)."""
        rows = self.rows(sql, period, **extra)
        if len(rows) != 1:
            raise RuntimeError(f"{len(rows)} rows from: {sql.strip()[:60]}")
        return rows[0]

    def series(self, sql: str, period: Period, columns: Mapping[str, str]) -> dict[str, list]:
        """A per-bucket statement (an `idx` column) as zero-filled lists, one per value column
        (`columns`: the statement's column -> the series' name)."""
        n = len(self.query.buckets)
        out: dict[str, list] = {name: [0] * n for name in columns.values()}
        for row in self.rows(sql, period):
            for column, name in columns.items():
                out[name][row["idx"]] = int(row[column])
        return out

    def register(self, name: str, table: pa.Table) -> None:
        self.engine.register(name, table)


def run(page: Page, source: Tables | Engine, query: Query, *, rollups: bool = True) -> BaseModel:
    """Every number of `page` for `query`, in one read-consistent pass; from the rollups where
    they can answer unless `rollups=False` (the tests compare the two paths)."""
    engine = engine_of(source)
    context = Context(engine, query, rollups=rollups and engine.rollups)
    with engine.snapshot():
        _register_buckets(context)
        body = page.compute(context)
        quality = context.one(ORPHANS_SQL, query.period)
    return page.result(**header(query), **body, data_quality=DataQuality(**quality))


def export(item: Export, source: Tables | Engine, query: Query) -> list[Any]:
    """The lines of one CSV of a page, from one snapshot."""
    engine = engine_of(source)
    context = Context(engine, query, rollups=engine.rollups)
    with engine.snapshot():
        _register_buckets(context)
        rows: Rows = item.rows(context)
        return list(rows)


def _register_buckets(context: Context) -> None:
    context.register("buckets", bucket_table((b.start, b.end) for b in context.query.buckets))
