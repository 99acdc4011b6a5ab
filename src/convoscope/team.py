"""Query -> TeamResult: every number of the Team Performance page (SPEC section 5).

Built like `overview`: `run(store, query)` is the one path from a request to numbers for the
CLI, the HTTP API and the page. Every element is an *item* (a metric, the teammate it is
attributed to, the timestamp that anchors it, a value, its conversation), gathered from the
derived tables by one statement; one aggregation over the items, grouped at once by metric,
by teammate, by bucket and by CSAT score (`GROUPING SETS`), gives the tiles, the teammates
table, the efficiency chart and the CSAT breakdown, so a tile and its rows or buckets can
never disagree. Durations are exact microseconds until the final division: means over
integers, medians and 90th percentiles by `quantile_cont` (linear interpolation between
closest ranks, as numpy's default).

Filters: channels and departments narrow the conversations (`scope`); the teammates filter
keeps the items attributed to a selected teammate, except successful transfers (attributed to
nobody), which keep those of the conversations where a selected teammate wrote or closed.
Choices the spec leaves open, written down here:

- With a teammates filter the table lists every selected teammate, with empty figures for one
  who did nothing in the period (a manager who picks someone expects a row).
- CLOSED CONVERSATIONS and RESOLUTION TIME count the same conversations (escalated, closed in
  the period): the count is the resolution time's count.
- Business-hours resolution: the workspace's business hours become a small table of UTC
  intervals (`business_hours.intervals`) over the span the period's resolutions cover, and a
  conversation's business time is its overlap with them, summed in SQL.
"""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
from pydantic import BaseModel

from convoscope import business_hours, scope
from convoscope.engine import Engine, Tables, one
from convoscope.engine import of as engine_of
from convoscope.overview import DataQuality, bucket_table, period_out
from convoscope.query import Period, Query
from convoscope.store import Workspace

DURATIONS = ("initial_response", "response", "resolution", "resolution_business")
ATTRIBUTED = (*DURATIONS, "addressed")  # always to a teammate (null: closed by an unknown one)


class Durations(BaseModel):
    mean: float | None
    median: float | None
    p90: float | None
    count: int


class Csat(BaseModel):
    mean: float | None
    count: int


class TeamTiles(BaseModel):
    initial_response_seconds: Durations
    response_seconds: Durations
    resolution_seconds: Durations
    resolution_business_seconds: Durations
    csat: Csat
    successful_transfers: int
    addressed_conversations: int
    closed_conversations: int


class TeamTilesWithPrevious(TeamTiles):
    previous: TeamTiles


class Efficiency(BaseModel):
    initial_response_seconds: list[float | None]
    response_seconds: list[float | None]
    resolution_seconds: list[float | None]
    csat: list[float | None]


class TeammateRow(BaseModel):
    teammate_id: str | None
    initial_response_seconds: Durations
    response_seconds: Durations
    resolution_seconds: Durations
    resolution_business_seconds: Durations
    csat: Csat
    addressed_conversations: int
    closed_conversations: int


class TeamResult(BaseModel):
    """The pinned JSON of Team Performance (see the README); field order is output order."""

    workspace: str
    period: dict[str, str]
    previous_period: dict[str, str]
    granularity: str
    channels: list[str] | None
    departments: list[str] | None
    teammates: list[str] | None
    buckets: list[str]
    in_progress_bucket: int | None
    tiles: TeamTilesWithPrevious
    efficiency: Efficiency
    csat_breakdown: dict[str, int]
    by_teammate: list[TeammateRow]
    data_quality: DataQuality


_INTERVAL_SCHEMA = pa.schema([("start_at", pa.timestamp("us")), ("end_at", pa.timestamp("us"))])

# The conversations the period's resolutions come from: escalated, closed in the period.
EARLIEST_ESCALATION_SQL = f"""
SELECT min(escalated_at) FROM conversations AS c
WHERE workspace = $ws AND escalated_at IS NOT NULL AND closed_at >= $start AND closed_at < $end
  AND {scope.conversation("c", teammates=False)}
"""

ITEMS_SQL = f"""
WITH scoped AS NOT MATERIALIZED (
    SELECT * FROM conversations AS c
    WHERE c.workspace = $ws AND {scope.conversation("c", teammates=False)}
), closed AS (
    SELECT conversation_id, closed_by, escalated_at, closed_at, resolution_us FROM scoped
    WHERE escalated_at IS NOT NULL AND closed_at >= $start AND closed_at < $end
), business AS (
    SELECT c.conversation_id, any_value(c.closed_by) AS closed_by,
           any_value(c.closed_at) AS closed_at,
           -- greatest/least skip NULLs: without the filter, a resolution that meets no
           -- business interval would count whole
           coalesce(sum(date_diff('microsecond', greatest(h.start_at, c.escalated_at),
                                  least(h.end_at, c.closed_at)))
                    FILTER (WHERE h.start_at IS NOT NULL), 0) AS business_us
    FROM closed AS c
    LEFT JOIN business_hours AS h ON h.start_at < c.closed_at AND h.end_at > c.escalated_at
    GROUP BY c.conversation_id
), items AS (
    SELECT 'initial_response' AS metric, first_responder AS teammate_id,
           first_response_at AS at, initial_response_us AS value, conversation_id
    FROM scoped
    WHERE initial_response_us IS NOT NULL
      AND first_response_at >= $start AND first_response_at < $end
    UNION ALL
    SELECT 'response', w.teammate_id, w.answered_at, w.response_us, w.conversation_id
    FROM response_waits AS w
    WHERE w.workspace = $ws AND w.answered_at >= $start AND w.answered_at < $end
      AND {scope.in_scope("w", teammates=False)}
    UNION ALL
    SELECT 'resolution', closed_by, closed_at, resolution_us, conversation_id FROM closed
    UNION ALL
    SELECT 'resolution_business', closed_by, closed_at, business_us, conversation_id
    FROM business
    UNION ALL
    SELECT 'csat', coalesce(c.closed_by, c.last_responder), s.ts, s.score, s.conversation_id
    FROM surveys AS s JOIN scoped AS c ON c.conversation_id = s.conversation_id
    WHERE s.workspace = $ws AND s.ts >= $start AND s.ts < $end
    UNION ALL
    SELECT 'addressed', e.teammate_id, e.ts, NULL, e.conversation_id
    FROM conversation_events AS e
    WHERE e.workspace = $ws AND e.sender = 'teammate' AND e.ts >= $start AND e.ts < $end
      AND {scope.in_scope("e", teammates=False)}
    UNION ALL
    SELECT 'transfer', NULL, escalated_at, NULL, conversation_id FROM conversations AS c
    WHERE c.workspace = $ws AND c.transferred
      AND c.escalated_at >= $start AND c.escalated_at < $end AND {scope.conversation("c")}
)
SELECT metric, teammate_id, idx, score,
       GROUPING(teammate_id) = 0 AS by_teammate, GROUPING(idx) = 0 AS by_bucket,
       GROUPING(score) = 0 AS by_score,
       count(*), sum(value), quantile_cont(value, 0.5), quantile_cont(value, 0.9),
       count(DISTINCT conversation_id)
FROM (
    SELECT i.*, b.idx, CASE WHEN i.metric = 'csat' THEN i.value END AS score
    FROM items AS i JOIN buckets AS b ON i.at >= b.start_at AND i.at < b.end_at
    WHERE $teammates IS NULL OR i.metric = 'transfer'
       OR list_contains($teammates, i.teammate_id)
) AS placed
GROUP BY GROUPING SETS ((metric), (metric, teammate_id), (metric, idx), (metric, score))
"""

ORPHAN_SQL = f"""
SELECT (SELECT count(*) FROM orphan_closes AS o
        WHERE workspace = $ws AND ts >= $start AND ts < $end AND {scope.CHANNEL.format(a="o")}),
       (SELECT count(*) FROM surveys AS s
        WHERE workspace = $ws AND conversation_id IS NULL AND ts >= $start AND ts < $end
          AND {scope.CHANNEL.format(a="s")})
"""


class _Figures:
    """One aggregation row per (metric, teammate | bucket | score | nothing)."""

    def __init__(self, rows: list[tuple]) -> None:
        self.total: dict[str, tuple] = {}
        self.teammate: dict[tuple[str, str | None], tuple] = {}
        self.bucket: dict[tuple[str, int], tuple] = {}
        self.score: dict[int, int] = {}
        for metric, teammate, idx, score, by_teammate, by_bucket, by_score, *figures in rows:
            if by_teammate:
                self.teammate[(metric, teammate)] = tuple(figures)
            elif by_bucket:
                self.bucket[(metric, idx)] = tuple(figures)
            elif by_score:
                if score is not None:
                    self.score[int(score)] = figures[0]
            else:
                self.total[metric] = tuple(figures)


def _seconds(us: float | None) -> float | None:
    return None if us is None else round(us / 1_000_000, 6)


def _durations(figures: tuple | None) -> Durations:
    if figures is None:
        return Durations(mean=None, median=None, p90=None, count=0)
    count, total, median, p90, _ = figures
    mean = total / count  # a mean from the exact sum (no AVG: Spark's sums BIGINT in DOUBLE)
    return Durations(mean=_seconds(mean), median=_seconds(median), p90=_seconds(p90), count=count)


def _csat(figures: tuple | None) -> Csat:
    if figures is None:
        return Csat(mean=None, count=0)
    return Csat(mean=round(figures[1] / figures[0], 6), count=figures[0])


def _count(figures: tuple | None, distinct: bool = False) -> int:
    return 0 if figures is None else int(figures[4] if distinct else figures[0])


def _tiles(f: _Figures) -> TeamTiles:
    return TeamTiles(
        **{f"{m}_seconds": _durations(f.total.get(m)) for m in DURATIONS},
        csat=_csat(f.total.get("csat")),
        successful_transfers=_count(f.total.get("transfer")),
        addressed_conversations=_count(f.total.get("addressed"), distinct=True),
        closed_conversations=_count(f.total.get("resolution")),
    )


def _row(f: _Figures, teammate: str | None) -> TeammateRow:
    return TeammateRow(
        teammate_id=teammate,
        **{f"{m}_seconds": _durations(f.teammate.get((m, teammate))) for m in DURATIONS},
        csat=_csat(f.teammate.get(("csat", teammate)) if teammate is not None else None),
        addressed_conversations=_count(f.teammate.get(("addressed", teammate)), distinct=True),
        closed_conversations=_count(f.teammate.get(("resolution", teammate))),
    )


def _rows(f: _Figures, query: Query) -> list[TeammateRow]:
    if query.teammates:
        teammates: list[str | None] = list(query.teammates)
    else:  # everyone something is attributed to; a survey attributed to nobody is in no row
        found = {t for (m, t) in f.teammate if m in ATTRIBUTED or (m == "csat" and t)}
        teammates = [t for t in sorted(t for t in found if t is not None)]
        if None in found:
            teammates.append(None)
    return [_row(f, t) for t in teammates]


def _series(f: _Figures, metric: str, n: int) -> list[float | None]:
    figures = [f.bucket.get((metric, i)) for i in range(n)]
    means = [None if g is None else g[1] / g[0] for g in figures]
    if metric == "csat":
        return [None if m is None else round(m, 6) for m in means]
    return [_seconds(m) for m in means]


def _business_hours(engine: Engine, query: Query, workspace: Workspace | None) -> pa.Table:
    """UTC intervals inside business hours, over every resolution either period can hold.
    The hours are the workspace's wall-clock hours, read in the workspace's zone whatever
    zone the report is asked in (SPEC section 5): the viewer's zone moves the period, never
    the opening hours."""
    hours = workspace.business_hours if workspace else None
    if workspace is None or hours is None or not business_hours.any_set(hours):  # 24/7
        spans = [(datetime(1900, 1, 1), datetime(3000, 1, 1))]
    else:
        starts = []
        for period in (query.previous, query.period):
            params = {**scope.params(query), "start": period.start, "end": period.end}
            rows = engine.rows(EARLIEST_ESCALATION_SQL, params)
            if rows and rows[0][0] is not None:
                starts.append(rows[0][0])
        end = max(query.period.end, query.previous.end)
        spans = (
            list(business_hours.intervals(min(starts), end, hours, workspace.timezone))
            if starts
            else []
        )
    return pa.Table.from_pylist(
        [{"start_at": s, "end_at": e} for s, e in spans], schema=_INTERVAL_SCHEMA
    )


def _figures(engine: Engine, query: Query, period: Period) -> _Figures:
    params = {**scope.params(query), "start": period.start, "end": period.end}
    return _Figures(engine.rows(ITEMS_SQL, params))


def run(source: Tables | Engine, query: Query) -> TeamResult:
    """Compute Team Performance for `query` in one read-consistent pass."""
    engine = engine_of(source)
    workspace = engine.workspace(query.workspace)
    n = len(query.buckets)
    with engine.snapshot():
        engine.register("business_hours", _business_hours(engine, query, workspace))
        engine.register("buckets", bucket_table((b.start, b.end) for b in query.buckets))
        current = _figures(engine, query, query.period)
        engine.register("buckets", bucket_table([(query.previous.start, query.previous.end)]))
        previous = _figures(engine, query, query.previous)
        orphans = one(
            engine,
            ORPHAN_SQL,
            {**scope.params(query), "start": query.period.start, "end": query.period.end},
        )
    return TeamResult(
        workspace=query.workspace,
        period=period_out(query, query.period),
        previous_period=period_out(query, query.previous),
        granularity=query.granularity.value,
        channels=_listed(query.channels),
        departments=_listed(query.departments),
        teammates=_listed(query.teammates),
        buckets=[b.label for b in query.buckets],
        in_progress_bucket=query.in_progress_bucket,
        tiles=TeamTilesWithPrevious(**_tiles(current).model_dump(), previous=_tiles(previous)),
        efficiency=Efficiency(
            initial_response_seconds=_series(current, "initial_response", n),
            response_seconds=_series(current, "response", n),
            resolution_seconds=_series(current, "resolution", n),
            csat=_series(current, "csat", n),
        ),
        csat_breakdown={str(s): current.score.get(s, 0) for s in range(1, 6)},
        by_teammate=_rows(current, query),
        data_quality=DataQuality(orphan_closes=orphans[0], orphan_surveys=orphans[1]),
    )


def _listed(items: tuple[str, ...] | None) -> list[str] | None:
    return list(items) if items else None
