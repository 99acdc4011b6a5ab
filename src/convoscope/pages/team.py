"""The Team Performance page (SPEC section 5): its statements, result, CSV and text.

Every element is an *item* (a metric, the teammate it is attributed to, the timestamp that
anchors it, a value, its conversation), gathered from the derived tables by one statement;
two aggregations of the same items give the tiles and the teammates table (by metric and by
teammate, with the percentiles and distinct counts those show) and the efficiency chart and
CSAT breakdown (by bucket and by score, sums and counts only: a percentile over a year's items
costs as much again per grouping, measured 664 ms against 356 ms for a year at two million
events), so a tile and its rows or buckets can never disagree. Durations are exact
microseconds until the final division: means from exact sums (no AVG: Spark sums BIGINT in
DOUBLE), medians and 90th percentiles by `quantile_cont` (linear interpolation between
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
  intervals (`business_hours.intervals`, in the workspace's zone whatever zone the report is
  asked in) over the span the period's resolutions cover, and a conversation's business time
  is its overlap with them, summed in SQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from convoscope import business_hours, scope
from convoscope.engines import Engine, Frame, Row, Tables
from convoscope.exports import UNKNOWN_TEAMMATE
from convoscope.pages import runner
from convoscope.pages.common import (
    STATEMENTS,
    Block,
    Context,
    Csat,
    DataQuality,
    Durations,
    Export,
    Header,
    Page,
    Result,
    Rows,
    Table,
    both_periods,
    csat,
    durations,
    seconds,
    slot_of,
    split_periods,
)
from convoscope.pages.text import IN_PROGRESS, change, duration, heading, labels
from convoscope.pages.text import score as score_text
from convoscope.query import Query
from convoscope.store import Workspace

DURATIONS = ("initial_response", "response", "resolution", "resolution_business")
ATTRIBUTED = (*DURATIONS, "addressed")  # always to a teammate (null: closed by an unknown one)


class TeamTiles(Result):
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


class Efficiency(Result):
    initial_response_seconds: list[float | None]
    response_seconds: list[float | None]
    resolution_seconds: list[float | None]
    csat: list[float | None]


class TeammateRow(Result):
    teammate_id: str | None
    initial_response_seconds: Durations
    response_seconds: Durations
    resolution_seconds: Durations
    resolution_business_seconds: Durations
    csat: Csat
    addressed_conversations: int
    closed_conversations: int


class TeamResult(Header):
    """The pinned JSON of Team Performance (see the README); field order is output order."""

    tiles: TeamTilesWithPrevious
    efficiency: Efficiency
    csat_breakdown: dict[str, int]
    by_teammate: list[TeammateRow]
    data_quality: DataQuality


_INTERVAL_COLUMNS = {"start_at": "TIMESTAMP", "end_at": "TIMESTAMP"}

# The conversations the period's resolutions come from: escalated, closed in the period.
EARLIEST_ESCALATION_SQL = f"""
SELECT min(escalated_at) AS earliest FROM conversations AS c
WHERE workspace = $ws AND escalated_at IS NOT NULL AND closed_at >= $start AND closed_at < $end
  AND {scope.conversation("c", teammates=False)}
"""

# The items of the period and of the previous one (`both_periods`; `in_period` tells them
# apart). Only the tiles of the previous period are shown, but grouping its items by teammate
# too costs less than a statement.
ITEMS_SQL = f"""
WITH scoped AS NOT MATERIALIZED (
    SELECT * FROM conversations AS c
    WHERE c.workspace = $ws AND {scope.conversation("c", teammates=False)}
), closed AS (
    SELECT conversation_id, closed_by, escalated_at, closed_at, resolution_us FROM scoped
    WHERE escalated_at IS NOT NULL AND {both_periods("closed_at")}
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
      AND {both_periods("first_response_at")}
    UNION ALL
    SELECT 'response', w.teammate_id, w.answered_at, w.response_us, w.conversation_id
    FROM response_waits AS w
    WHERE w.workspace = $ws AND {both_periods("w.answered_at")}
      AND {scope.in_scope("w", teammates=False)}
    UNION ALL
    SELECT 'resolution', closed_by, closed_at, resolution_us, conversation_id FROM closed
    UNION ALL
    SELECT 'resolution_business', closed_by, closed_at, business_us, conversation_id
    FROM business
    UNION ALL
    SELECT 'csat', coalesce(c.closed_by, c.last_responder), s.ts, s.score, s.conversation_id
    FROM surveys AS s JOIN scoped AS c ON c.conversation_id = s.conversation_id
    WHERE s.workspace = $ws AND {both_periods("s.ts")} AND s.about = 'teammate'
      -- a survey's conversation ended at most the CSAT window before it: bounded so, the
      -- scan skips the older conversations (figures in bench/README.md)
      AND c.ended_at >= $surveyed_from AND c.started_at < $end
    UNION ALL
    SELECT 'addressed', e.teammate_id, e.ts, NULL, e.conversation_id
    FROM conversation_events AS e
    WHERE e.workspace = $ws AND e.sender = 'teammate' AND {both_periods("e.ts")}
      AND {scope.in_scope("e", teammates=False)}
    UNION ALL
    SELECT 'transfer', NULL, escalated_at, NULL, conversation_id FROM conversations AS c
    WHERE c.workspace = $ws AND c.transferred
      AND {both_periods("c.escalated_at")} AND {scope.conversation("c")}
), chosen AS (
    SELECT i.*, i.at >= $start AS in_period FROM items AS i
    WHERE NOT $by_teammate OR metric = 'transfer' OR list_contains($teammates, teammate_id)
)
SELECT in_period, metric, teammate_id, CAST(NULL AS INTEGER) AS idx,
       CAST(NULL AS BIGINT) AS score,
       GROUPING(teammate_id) = 0 AS by_teammate, false AS by_bucket, false AS by_score,
       count(*) AS n, sum(value) AS total, quantile_cont(value, 0.5) AS median,
       quantile_cont(value, 0.9) AS p90,
       count(DISTINCT CASE WHEN metric = 'addressed' THEN conversation_id END) AS conversations
FROM chosen
GROUP BY GROUPING SETS ((in_period, metric), (in_period, metric, teammate_id))
UNION ALL
SELECT true, metric, CAST(NULL AS VARCHAR), idx, score, false, GROUPING(idx) = 0,
       GROUPING(score) = 0,
       sum(n), sum(total), CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS BIGINT)
FROM (
    SELECT s.metric, s.n, s.total, b.idx, s.score
    -- counted per slot first (`slot_of`)
    FROM (SELECT i.metric, {slot_of("i.at")} AS slot,
                 CASE WHEN i.metric = 'csat' THEN i.value END AS score, count(*) AS n,
                 sum(i.value) AS total
          FROM chosen AS i WHERE i.in_period GROUP BY i.metric, slot, score) AS s
    JOIN buckets AS b ON s.slot >= b.start_at AND s.slot < b.end_at
) AS placed
GROUP BY GROUPING SETS ((metric, idx), (metric, score))
"""


class _Figures:
    """One aggregation row per (metric, teammate | bucket | score | nothing)."""

    def __init__(self, rows: list[Row]) -> None:
        self.total: dict[str, Row] = {}
        self.teammate: dict[tuple[str, str | None], Row] = {}
        self.bucket: dict[tuple[str, int], Row] = {}
        self.score: dict[int, int] = {}
        for row in rows:
            metric = row["metric"]
            if row["by_teammate"]:
                self.teammate[(metric, row["teammate_id"])] = row
            elif row["by_bucket"]:
                self.bucket[(metric, row["idx"])] = row
            elif row["by_score"]:
                if row["score"] is not None:
                    self.score[int(row["score"])] = row["n"]
            else:
                self.total[metric] = row


def _csat(row: Row | None) -> Csat:
    return csat(None, 0) if row is None else csat(row["total"], row["n"])


def _count(row: Row | None, distinct: bool = False) -> int:
    return 0 if row is None else int(row["conversations"] if distinct else row["n"])


def _tiles(f: _Figures) -> TeamTiles:
    return TeamTiles(
        **{f"{m}_seconds": durations(f.total.get(m)) for m in DURATIONS},
        csat=_csat(f.total.get("csat")),
        successful_transfers=_count(f.total.get("transfer")),
        addressed_conversations=_count(f.total.get("addressed"), distinct=True),
        closed_conversations=_count(f.total.get("resolution")),
    )


def _row(f: _Figures, teammate: str | None) -> TeammateRow:
    return TeammateRow(
        teammate_id=teammate,
        **{f"{m}_seconds": durations(f.teammate.get((m, teammate))) for m in DURATIONS},
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
    rows = [f.bucket.get((metric, i)) for i in range(n)]
    means = [None if r is None else r["total"] / r["n"] for r in rows]
    if metric == "csat":
        return [None if m is None else round(m, 6) for m in means]
    return [seconds(m) for m in means]


def _business_hours(context: Context, workspace: Workspace | None) -> Frame:
    """UTC intervals inside business hours, over every resolution either period can hold.
    The hours are the workspace's wall-clock hours, read in the workspace's zone whatever
    zone the report is asked in (SPEC section 5): the viewer's zone moves the period, never
    the opening hours."""
    query = context.query
    hours = workspace.business_hours if workspace else None
    if workspace is None or hours is None or not business_hours.any_set(hours):  # 24/7
        spans = [(datetime(1900, 1, 1), datetime(3000, 1, 1))]
    else:
        # one statement over both periods (and any gap between them: an earlier start only
        # adds intervals no resolution of either period meets)
        end = max(query.period.end, query.previous.end)
        start = min(query.period.start, query.previous.start)
        first = context.one(EARLIEST_ESCALATION_SQL, query.period, start=start, end=end)
        earliest = first["earliest"]
        spans = (
            []
            if earliest is None
            else list(business_hours.intervals(earliest, end, hours, workspace.timezone))
        )
    return Frame(_INTERVAL_COLUMNS, spans)


def _figures(context: Context, workspace: Workspace | None) -> tuple[_Figures, _Figures]:
    """The items of the query's period and of the previous one aggregated. A survey belongs
    to a conversation that ended at most the workspace's CSAT window before it (SPEC section
    2; the window is fixed when the workspace is made, and a lake re-cuts everything when it
    changes)."""
    query = context.query
    window = timedelta(seconds=workspace.csat_window_seconds if workspace else 366 * 86400)
    rows = context.both(ITEMS_SQL, surveyed_from=query.previous.start - window)
    now, before = split_periods(rows)
    return _Figures(now), _Figures(before)


def compute(context: Context) -> dict[str, Any]:
    query = context.query
    workspace = context.engine.workspace(query.workspace)
    context.register("business_hours", _business_hours(context, workspace))
    current, previous = _figures(context, workspace)
    n = len(query.buckets)
    return {
        "tiles": TeamTilesWithPrevious(**_tiles(current).model_dump(), previous=_tiles(previous)),
        "efficiency": Efficiency(
            initial_response_seconds=_series(current, "initial_response", n),
            response_seconds=_series(current, "response", n),
            resolution_seconds=_series(current, "resolution", n),
            csat=_series(current, "csat", n),
        ),
        "csat_breakdown": {str(s): current.score.get(s, 0) for s in range(1, 6)},
        "by_teammate": _rows(current, query),
    }


_STATS = ("mean", "median", "p90", "count")
TEAMMATE_COLUMNS = (
    "teammate_id",
    *(f"{d}_seconds_{stat}" for d in DURATIONS for stat in _STATS),
    "csat_mean",
    "csat_count",
    "addressed_conversations",
    "closed_conversations",
)


def _teammate_lines(context: Context) -> Rows:
    """The teammates table: one line per teammate, every element (unknown: its label)."""
    for row in compute(context)["by_teammate"]:
        durations = [getattr(row, f"{d}_seconds") for d in DURATIONS]
        yield (
            UNKNOWN_TEAMMATE if row.teammate_id is None else row.teammate_id,
            *(v for d in durations for v in (d.mean, d.median, d.p90, d.count)),
            row.csat.mean,
            row.csat.count,
            row.addressed_conversations,
            row.closed_conversations,
        )


def text(result: TeamResult) -> list[Block]:
    t, prev = result.tiles, result.tiles.previous
    times = [
        (
            name,
            duration(now.mean),
            duration(now.median),
            duration(now.p90),
            now.count,
            change(now.mean, before.mean),
        )
        for name, now, before in (
            ("Initial response", t.initial_response_seconds, prev.initial_response_seconds),
            ("Response", t.response_seconds, prev.response_seconds),
            ("Resolution", t.resolution_seconds, prev.resolution_seconds),
            (
                "  in business hours",
                t.resolution_business_seconds,
                prev.resolution_business_seconds,
            ),
        )
    ]
    counts: list[tuple[object, ...]] = [
        (
            "CSAT",
            score_text(t.csat.mean),
            score_text(prev.csat.mean),
            change(t.csat.mean, prev.csat.mean),
        )
    ] + [
        (name, now_count, before_count, change(now_count, before_count))
        for name, now_count, before_count in (
            ("  surveys", t.csat.count, prev.csat.count),
            ("Successful transfers", t.successful_transfers, prev.successful_transfers),
            ("Addressed conversations", t.addressed_conversations, prev.addressed_conversations),
            ("Closed conversations", t.closed_conversations, prev.closed_conversations),
        )
    ]
    e = result.efficiency
    blocks: list[Block] = [
        heading(result),
        Table(
            "Times (the change: of the mean, against the previous period)",
            ("time", "mean", "median", "p90", "count", "change"),
            times,
        ),
        Table("Tiles", ("tile", "value", "previous", "change"), counts),
        Table(
            "Conversation efficiency & CSAT (means)",
            ("bucket", "initial", "response", "resolution", "CSAT"),
            [
                (
                    label,
                    duration(e.initial_response_seconds[i]),
                    duration(e.response_seconds[i]),
                    duration(e.resolution_seconds[i]),
                    score_text(e.csat[i]),
                )
                for i, label in enumerate(labels(result))
            ],
        ),
    ]
    if result.in_progress_bucket is not None:
        blocks.append(IN_PROGRESS)
    scores = ", ".join(f"{k}: {v}" for k, v in result.csat_breakdown.items())
    blocks.append(f"CSAT scores {scores}; orphan surveys: {result.data_quality.orphan_surveys}")
    teammates = [
        (UNKNOWN_TEAMMATE if row.teammate_id is None else row.teammate_id, row)
        for row in result.by_teammate
    ]
    blocks += [
        Table(
            "Teammates: times (means)",
            ("teammate", "initial response", "response", "resolution", "in business hours"),
            [
                (
                    name,
                    duration(row.initial_response_seconds.mean),
                    duration(row.response_seconds.mean),
                    duration(row.resolution_seconds.mean),
                    duration(row.resolution_business_seconds.mean),
                )
                for name, row in teammates
            ],
        ),
        Table(
            "Teammates: satisfaction and volume",
            ("teammate", "CSAT", "surveys", "addressed", "closed"),
            [
                (
                    name,
                    score_text(row.csat.mean),
                    row.csat.count,
                    row.addressed_conversations,
                    row.closed_conversations,
                )
                for name, row in teammates
            ],
        ),
    ]
    return blocks


PAGE = Page(
    name="team",
    title="Team Performance",
    titles={"en": "Team performance", "fr": "Performance de l’équipe"},
    summary="Every number of the Team Performance page (the JSON of `convoscope report --page "
    "team`). Without a period, the last 7 days.",
    web_path="/team",
    result=TeamResult,
    compute=compute,
    statements={
        **STATEMENTS,
        "items": ITEMS_SQL,
        "earliest_escalation": EARLIEST_ESCALATION_SQL,
    },
    text=text,
    exports=(
        Export(
            name="teammates",
            summary="The Team Performance teammates table: one row per teammate, every element.",
            columns=TEAMMATE_COLUMNS,
            rows=_teammate_lines,
        ),
    ),
)


def run(source: Tables | Engine, query: Query) -> TeamResult:
    """Team Performance for `query` (`runner.run` of this page, typed)."""
    result = runner.run(PAGE, source, query)
    assert isinstance(result, TeamResult)
    return result
