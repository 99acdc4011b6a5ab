"""What every page shares: the declaration of a page, its header, data quality, and the helpers
its statements and results use.

A page is a unit (`Page`): its name and paths, its result model, its named statements, the
step that turns them into numbers (`compute`, given a `runner.Context`), its CSV exports and
its terminal view. The header of every result (workspace, periods, granularity, filters,
buckets) and the data-quality counters come from here, once, so no page builds them again.
This module does not run anything: `runner` does, and `convoscope.pages` lists the pages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from pydantic import BaseModel, Field

from convoscope import scope
from convoscope.query import Period, Query

if TYPE_CHECKING:
    from convoscope.pages.runner import Context
    from convoscope.pages.text import Block


class DataQuality(BaseModel):
    orphan_closes: int
    orphan_surveys: int


class Header(BaseModel):
    """The opening fields of every page's JSON, in output order."""

    workspace: str
    period: dict[str, str]
    previous_period: dict[str, str]
    granularity: str
    channels: list[str] | None
    departments: list[str] | None
    teammates: list[str] | None
    buckets: list[str]
    in_progress_bucket: int | None = Field(
        description="Index of the bucket holding now (still filling up), else null."
    )


def period_out(query: Query, period: Period) -> dict[str, str]:
    return {
        "from": period.first.isoformat(),
        "to": period.last.isoformat(),
        "timezone": query.timezone,
    }


def header(query: Query) -> dict[str, Any]:
    """The `Header` fields of `query`, for a page's result."""
    return {
        "workspace": query.workspace,
        "period": period_out(query, query.period),
        "previous_period": period_out(query, query.previous),
        "granularity": query.granularity.value,
        "channels": _listed(query.channels),
        "departments": _listed(query.departments),
        "teammates": _listed(query.teammates),
        "buckets": [b.label for b in query.buckets],
        "in_progress_bucket": query.in_progress_bucket,
    }


def _listed(items: tuple[str, ...] | None) -> list[str] | None:
    return list(items) if items else None


# Orphan closes and orphan surveys of the period: they have no conversation, so the channel
# filter is the only one that reaches them (SPEC section 3).
ORPHANS_SQL = f"""
SELECT (SELECT count(*) FROM orphan_closes AS o
        WHERE workspace = $ws AND ts >= $start AND ts < $end
          AND {scope.CHANNEL.format(a="o")}) AS orphan_closes,
       (SELECT count(*) FROM surveys AS s
        WHERE workspace = $ws AND conversation_id IS NULL AND ts >= $start AND ts < $end
          AND {scope.CHANNEL.format(a="s")}) AS orphan_surveys
"""
STATEMENTS = {"orphans": ORPHANS_SQL}


def average_seconds(total_us: int | None, n: int) -> float | None:
    """A mean of microsecond durations in seconds, rounded to the microsecond, from its exact
    sum and count (rows and rollups both give these, so they round alike)."""
    if not n or total_us is None:
        return None
    return float(round(Fraction(int(total_us), n * 1_000_000), 6))


_BUCKET_SCHEMA = pa.schema(
    [("idx", pa.int32()), ("start_at", pa.timestamp("us")), ("end_at", pa.timestamp("us"))]
)


def bucket_table(spans: Iterable[tuple[datetime, datetime]]) -> pa.Table:
    """Buckets as a table of UTC ranges (`idx`, `start_at`, `end_at`) for a statement to join."""
    return pa.Table.from_pylist(
        [{"idx": i, "start_at": s, "end_at": e} for i, (s, e) in enumerate(spans)],
        schema=_BUCKET_SCHEMA,
    )


Rows = Iterator[Sequence[Any]]


@dataclass(frozen=True)
class Export:
    """A CSV a page offers: `GET /v1/reports/<name>.csv` and `convoscope export <name>`."""

    name: str
    summary: str
    columns: tuple[str, ...]
    rows: Callable[[Context], Rows]  # the values of each line, in `columns` order


@dataclass(frozen=True)
class Page:
    """One analytics page, everything about it that the API, the CLI, the web shell and the
    portability test need (`convoscope.pages` registers them)."""

    name: str  # `convoscope report --page <name>`, `GET /v1/<name>`
    title: str
    summary: str  # the API's description of `GET /v1/<name>`
    web_path: str  # where the web app serves the page
    result: type[BaseModel]  # a `Header` subclass ending in `data_quality`
    compute: Callable[[Context], dict[str, Any]]  # the result's own fields
    statements: Mapping[str, str]  # every statement it runs, by name (both engines)
    text: Callable[[Any], list[Block]]  # the terminal view of a result
    exports: tuple[Export, ...] = field(default=())

    @property
    def api_path(self) -> str:
        return f"/v1/{self.name}"
