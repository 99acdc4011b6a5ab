"""The one path from a request to a page's numbers, as named steps.

`run(page, source, query)`: pick the engine for the source, say whether the rollups may answer
at all (the source keeps them; the page asks `sources` per tile and series), open one
read-consistent snapshot, register the buckets, let the page run
its named statements for the period and the previous one (`Page.compute`, through a
`Context`), count the data-quality orphans, and shape the result with the shared header.
`export(...)` runs one CSV of a page the same way. The CLI, the HTTP API and the page all go
through here, so they cannot disagree. Rendering is not done here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from convoscope.engines import Engine, Tables
from convoscope.engines import of as engine_of
from convoscope.pages.common import (
    ORPHANS_SQL,
    Context,
    Export,
    Page,
    Rows,
    bucket_table,
    header,
)
from convoscope.query import Query, QueryError


def run(page: Page, source: Tables | Engine, query: Query, *, rollups: bool = True) -> BaseModel:
    """Every number of `page` for `query`, in one read-consistent pass; from the rollups where
    they can answer unless `rollups=False` (the tests compare the two paths)."""
    _check_filters(page.title, page.filters, query)
    engine = engine_of(source)
    context = Context(engine, query, rollups=rollups and engine.rollups)
    with engine.snapshot():
        _register_buckets(context)
        body = page.compute(context)
        quality = context.one(ORPHANS_SQL, query.period)
    # a page may count more (Sales Attribution: orphan refunds) in its own `data_quality`
    quality |= body.pop("data_quality", {})
    return page.result(**header(query), **body, data_quality=quality)


def export(item: Export, source: Tables | Engine, query: Query) -> list[Any]:
    """The lines of one CSV of a page, from one snapshot."""
    _check_filters(item.title, item.filters, query)
    engine = engine_of(source)
    context = Context(engine, query, rollups=engine.rollups)
    with engine.snapshot():
        _register_buckets(context)
        rows: Rows = item.rows(context)
        return list(rows)


def _check_filters(title: str, filters: tuple[str, ...], query: Query) -> None:
    """A filter the page does not take is refused by name (the spec: Chatbot Performance
    refuses the teammates filter), rather than ignored."""
    for name in query.filters():
        if name not in filters:
            raise QueryError(name, f"does not apply to the {title or 'this'} page")


def _register_buckets(context: Context) -> None:
    context.register("buckets", bucket_table((b.start, b.end) for b in context.query.buckets))
