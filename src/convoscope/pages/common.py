"""What every page shares: the declaration of a page, its header, data quality, and the helpers
its statements and results use.

A page is a unit (`Page`): its name and paths, its result model, its named statements, the
step that turns them into numbers (`compute`, given a `Context`), its CSV exports and its
terminal view (`Table`s and lines of text). The header of every result (workspace, periods,
granularity, filters, buckets) and the data-quality counters come from here, once, so no page
builds them again. This module does not run anything: `runner` does, and `convoscope.pages`
lists the pages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from convoscope import scope
from convoscope.engines import Engine, Frame, Row
from convoscope.pages import sources
from convoscope.query import Period, Query


class Result(BaseModel):
    """A part of a page's result. Its validator is built when first used (`defer_build`), so
    that a command reading one page does not build every page's (issue 19: the start)."""

    model_config = ConfigDict(defer_build=True)


class DataQuality(Result):
    orphan_closes: int
    orphan_surveys: int


class _Opening(Result):
    workspace: str
    period: dict[str, str]
    previous_period: dict[str, str]
    granularity: str
    channels: list[str] | None
    departments: list[str] | None


_IN_PROGRESS = Field(description="Index of the bucket holding now (still filling up), else null.")


class Header(_Opening):
    """The opening fields of a page's JSON, in output order (`FlowHeader`: with the flow
    filters instead of the teammates')."""

    teammates: list[str] | None
    buckets: list[str]
    in_progress_bucket: int | None = _IN_PROGRESS


class FlowHeader(_Opening):
    flow_types: list[str] | None
    flows: list[str] | None
    buckets: list[str]
    in_progress_bucket: int | None = _IN_PROGRESS


class Durations(Result):
    """Durations in seconds: the mean, the median and the 90th percentile (linear
    interpolation between closest ranks), null when there is none."""

    mean: float | None
    median: float | None
    p90: float | None
    count: int


class Csat(Result):
    mean: float | None
    count: int


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
        "flow_types": _listed(query.flow_types),
        "flows": _listed(query.flows),
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


def seconds(us: float | None) -> float | None:
    """Microseconds as seconds, rounded to the microsecond."""
    return None if us is None else round(us / 1_000_000, 6)


def durations(row: Row | None) -> Durations:
    """A row's exact sum (`total`, microseconds), count (`n`), `median` and `p90`."""
    if row is None or not row["n"]:
        return Durations(mean=None, median=None, p90=None, count=0)
    return Durations(
        mean=seconds(row["total"] / row["n"]),
        median=seconds(row["median"]),
        p90=seconds(row["p90"]),
        count=row["n"],
    )


def csat(total: int | None, n: int) -> Csat:
    """The mean of `n` scores summing to `total`, to 6 decimals."""
    return Csat(mean=round(total / n, 6) if n and total is not None else None, count=n)


def average_seconds(total_us: int | None, n: int) -> float | None:
    """A mean of microsecond durations in seconds, rounded to the microsecond, from its exact
    sum and count (rows and rollups both give these, so they round alike)."""
    if not n or total_us is None:
        return None
    return float(round(Fraction(int(total_us), n * 1_000_000), 6))


def both_periods(column: str) -> str:
    """A condition keeping the rows whose `column` lies in the period or in the previous one
    (`Context.both`), for a statement that computes both at once (its rows told apart by
    `column >= $start`): a short period's cost is mostly the statement's own."""
    c = column
    return f"{c} >= $previous_start AND {c} < $end AND ({c} >= $start OR {c} < $previous_end)"


def split_periods(rows: list[Row]) -> tuple[list[Row], list[Row]]:
    """The rows of a statement over both periods (`both_periods`): the period's, the
    previous one's."""
    return [r for r in rows if r["in_period"]], [r for r in rows if not r["in_period"]]


def slot_of(column: str) -> str:
    """The 15-minute slot of `column` when every bucket starts on one (`$on_slots`, see
    `sources.starts_on_slots`), else `column` itself: rows counted per slot, then placed in
    buckets, are a few thousand rows for a year instead of every row."""
    return f"CASE WHEN $on_slots THEN time_bucket(INTERVAL 15 MINUTE, {column}) ELSE {column} END"


_BUCKET_COLUMNS = {"idx": "INTEGER", "start_at": "TIMESTAMP", "end_at": "TIMESTAMP"}


def bucket_table(spans: Iterable[tuple[datetime, datetime]]) -> Frame:
    """Buckets as a table of UTC ranges (`idx`, `start_at`, `end_at`) for a statement to join."""
    return Frame(_BUCKET_COLUMNS, [(i, s, e) for i, (s, e) in enumerate(spans)])


@dataclass(frozen=True)
class Context:
    """What a page's step works with: the engine inside one snapshot, the query, and whether
    the rollups may answer (the source keeps them and the caller did not ask for rows)."""

    engine: Engine
    query: Query
    rollups: bool

    def params(self, period: Period, **extra: Any) -> dict[str, Any]:
        """The parameters of every statement: the filters (`scope`), the period, whether the
        buckets start on slots (`slot_of`), and more."""
        return {
            **scope.params(self.query),
            "start": period.start,
            "end": period.end,
            "on_slots": self.on_slots,
            **extra,
        }

    @cached_property
    def on_slots(self) -> bool:
        """Whether the query's buckets start on slots (`slot_of`), decided once a request."""
        return sources.starts_on_slots(self.query)

    def rows(self, sql: str, period: Period, **extra: Any) -> list[Row]:
        return self.engine.rows(sql, self.params(period, **extra))

    def both(self, sql: str, *, previous: bool = True, **extra: Any) -> list[Row]:
        """The rows of a statement over the query's period and the previous one (`both_periods`;
        `previous=False`: the period's alone, the previous one given empty)."""
        period, before = self.query.period, self.query.previous
        start, end = (before.start, before.end) if previous else (period.start, period.start)
        return self.rows(sql, period, previous_start=start, previous_end=end, **extra)

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

    def register(self, name: str, table: Frame) -> None:
        self.engine.register(name, table)


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]  # the first is left-aligned, the others right-aligned
    rows: Sequence[Sequence[object]]


Block = Table | str  # a table, or one line of text


Rows = Iterator[Sequence[Any]]


TEAM_FILTERS = ("channels", "departments", "teammates")
FLOW_FILTERS = ("channels", "departments", "flow_types", "flows")


@dataclass(frozen=True)
class Export:
    """A CSV a page offers: `GET /v1/reports/<name>.csv` and `convoscope export <name>`."""

    name: str
    summary: str
    columns: tuple[str, ...]
    rows: Callable[[Context], Rows]  # the values of each line, in `columns` order
    # its page's title and filters, filled in when `convoscope.pages` registers it
    title: str = ""
    filters: tuple[str, ...] = TEAM_FILTERS


@dataclass(frozen=True)
class Page:
    """One analytics page, everything about it that the API, the CLI, the web shell and the
    portability test need (`convoscope.pages` registers them)."""

    name: str  # `convoscope report --page <name>`, `GET /v1/<name>`
    title: str
    titles: Mapping[str, str]  # its menu entry in the web app, per language (en, fr)
    summary: str  # the API's description of `GET /v1/<name>`
    web_path: str  # where the web app serves the page
    result: type[BaseModel]  # a `Header` subclass ending in `data_quality`
    compute: Callable[[Context], dict[str, Any]]  # the result's own fields
    statements: Mapping[str, str]  # every statement it runs, by name (both engines)
    text: Callable[[Any], list[Block]]  # the terminal view of a result
    exports: tuple[Export, ...] = field(default=())
    # the filters it takes (`query.FILTERS`); a request setting another is refused
    filters: tuple[str, ...] = TEAM_FILTERS

    @property
    def api_path(self) -> str:
        return f"/v1/{self.name}"
