"""Query -> OverviewResult: every number of the Conversation Overview page (SPEC section 4).

`run(store, query)` is the one path from a request to numbers; the CLI, the HTTP API and the
web page all serve its result unchanged. Each element is one SQL statement over the derived
`conversations` table (or `conversation_events` for message and transfer-request counts),
narrowed by the filters of `scope`, anchored on the
timestamp the spec names; buckets arrive as a small table of UTC ranges built by `query`, so
the SQL never does calendar arithmetic. Rendering (CSV, terminal, page) is not done here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from itertools import pairwise
from typing import Any, Literal

import pyarrow as pa
from pydantic import BaseModel, Field

from convoscope import scope
from convoscope.engine import Engine, Tables, one
from convoscope.engine import of as engine_of
from convoscope.query import Period, Query
from convoscope.store import bound, only_row


class Durations(BaseModel):
    all: float | None
    teammate: float | None
    chatbot: float | None


class Tiles(BaseModel):
    average_conversation_duration_seconds: Durations
    total_conversations: int
    engaged_conversations: int
    unique_customers: int


class TilesWithPrevious(Tiles):
    previous: Tiles


class Engagement(BaseModel):
    engaged: list[int]
    non_engaged: list[int]


class Messages(BaseModel):
    teammate: list[int]
    chatbot: list[int]
    customer: list[int]


class Traffic(BaseModel):
    transfer_requests: list[int]
    engaged_conversations: list[int]


class DepartmentRow(BaseModel):
    department: str | None
    conversations: int
    teammates_involved: int
    avg_resolution_seconds: float | None


class SupportSplit(BaseModel):
    teammate: int
    chatbot: int


class SupportType(BaseModel):
    all: SupportSplit
    engaged: SupportSplit


class DataQuality(BaseModel):
    orphan_closes: int
    orphan_surveys: int


class OverviewResult(BaseModel):
    """The pinned JSON of the overview (see the README); field order is the output order."""

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
    tiles: TilesWithPrevious
    engagement: Engagement
    messages: Messages
    traffic: Traffic
    closed_by_department: list[DepartmentRow]
    support_type: SupportType
    data_quality: DataQuality


_BUCKET_SCHEMA = pa.schema(
    [("idx", pa.int32()), ("start_at", pa.timestamp("us")), ("end_at", pa.timestamp("us"))]
)

# Tiles, from the rows: counts, then the sums of durations the averages divide (`_average`),
# in the column order of ROLLUP_TILES_SQL.
TILES_SQL = f"""
SELECT count(*) AS total,
       count(*) FILTER (WHERE engaged) AS engaged,
       count(DISTINCT customer_id) AS customers,
       sum(duration_us) FILTER (WHERE engaged) AS duration_all,
       sum(duration_us) FILTER (WHERE engaged AND support_type = 'teammate') AS duration_teammate,
       sum(duration_us) FILTER (WHERE engaged AND support_type = 'chatbot') AS duration_chatbot,
       count(*) FILTER (WHERE support_type = 'teammate') AS all_teammate,
       count(*) FILTER (WHERE support_type = 'chatbot') AS all_chatbot,
       count(*) FILTER (WHERE engaged AND support_type = 'teammate') AS engaged_teammate,
       count(*) FILTER (WHERE engaged AND support_type = 'chatbot') AS engaged_chatbot
FROM conversations AS c
WHERE workspace = $ws AND started_at >= $start AND started_at < $end
  AND {scope.conversation("c")}
"""

ENGAGEMENT_SQL = f"""
SELECT b.idx, count(*) FILTER (WHERE c.engaged), count(*) FILTER (WHERE NOT c.engaged)
FROM conversations c JOIN buckets b ON c.started_at >= b.start_at AND c.started_at < b.end_at
WHERE c.workspace = $ws AND {scope.conversation("c")}
GROUP BY b.idx
"""

EVENTS_SQL = f"""
SELECT b.idx,
       count(*) FILTER (WHERE e.sender = 'teammate'),
       count(*) FILTER (WHERE e.sender = 'chatbot'),
       count(*) FILTER (WHERE e.sender = 'customer'),
       count(*) FILTER (WHERE e.type = 'transfer_request')
FROM conversation_events e JOIN buckets b ON e.ts >= b.start_at AND e.ts < b.end_at
WHERE e.workspace = $ws AND {scope.in_scope("e")}
GROUP BY b.idx
"""

IN_PROGRESS_SQL = f"""
SELECT b.idx, count(*)
FROM conversations c JOIN buckets b ON c.started_at < b.end_at AND c.ended_at >= b.start_at
WHERE c.workspace = $ws AND c.engaged AND {scope.conversation("c")}
  AND c.started_at < $end AND c.ended_at >= $start
GROUP BY b.idx
"""

# The same numbers from the rollups (see `rollups`): sums over the period's whole slots, plus
# the conversations that started in the last, partial slot when the period ends off a slot (a
# previous period compared up to the current minute); unique customers are counted from the
# rows (a distinct count cannot be summed).
_SLOTS = f"r.workspace = $ws AND {scope.conversation('r', teammates=False)}"
ROLLUP_TILES_SQL = f"""
SELECT coalesce(sum(conversations), 0), coalesce(sum(engaged), 0),
       (SELECT count(DISTINCT customer_id) FROM conversations AS c
        WHERE workspace = $ws AND started_at >= $start AND started_at < $end
          AND {scope.conversation("c", teammates=False)}),
       sum(duration_all), sum(duration_teammate), sum(duration_chatbot),
       coalesce(sum(all_teammate), 0), coalesce(sum(all_chatbot), 0),
       coalesce(sum(engaged_teammate), 0), coalesce(sum(engaged_chatbot), 0)
FROM (
    SELECT conversations, engaged, engaged_duration_us AS duration_all,
           engaged_teammate_duration_us AS duration_teammate,
           engaged_chatbot_duration_us AS duration_chatbot, teammate_supported AS all_teammate,
           chatbot_supported AS all_chatbot, engaged_teammate, engaged_chatbot
    FROM conversation_slots AS r
    WHERE {_SLOTS} AND slot >= $start AND slot < $slot_end
    UNION ALL
    SELECT 1, CAST(engaged AS BIGINT), CASE WHEN engaged THEN duration_us ELSE 0 END,
           CASE WHEN engaged AND support_type = 'teammate' THEN duration_us ELSE 0 END,
           CASE WHEN engaged AND support_type = 'chatbot' THEN duration_us ELSE 0 END,
           CAST(support_type = 'teammate' AS BIGINT), CAST(support_type = 'chatbot' AS BIGINT),
           CAST(engaged AND support_type = 'teammate' AS BIGINT),
           CAST(engaged AND support_type = 'chatbot' AS BIGINT)
    FROM conversations AS c
    WHERE workspace = $ws AND started_at >= $slot_end AND started_at < $end
      AND {scope.conversation("c", teammates=False)}
)
"""

# Series: the period's slots (the range lets DuckDB skip row groups; rollups are appended in
# slot order) summed per slot first, then placed in buckets (a range join of a few hundred
# rows at most per day).
ROLLUP_ENGAGEMENT_SQL = f"""
WITH per_slot AS (
    SELECT slot, sum(engaged) AS engaged, sum(conversations) - sum(engaged) AS non_engaged
    FROM conversation_slots AS r
    WHERE {_SLOTS} AND slot >= $start AND slot < $end
    GROUP BY slot
)
SELECT b.idx, sum(s.engaged), sum(s.non_engaged)
FROM per_slot s JOIN buckets b ON s.slot >= b.start_at AND s.slot < b.end_at
GROUP BY b.idx
"""

ROLLUP_EVENTS_SQL = f"""
WITH per_slot AS (
    SELECT slot, sum(teammate_messages) AS teammate, sum(chatbot_messages) AS chatbot,
           sum(customer_messages) AS customer, sum(transfer_requests) AS transfers
    FROM event_slots AS r
    WHERE {_SLOTS} AND slot >= $start AND slot < $end
    GROUP BY slot
)
SELECT b.idx, sum(s.teammate), sum(s.chatbot), sum(s.customer), sum(s.transfers)
FROM per_slot s JOIN buckets b ON s.slot >= b.start_at AND s.slot < b.end_at
GROUP BY b.idx
"""

# In progress in a bucket: engaged conversations open when the period starts (counted from the
# rows: time-ordered, so only the row groups around the start are read), plus those started
# up to the bucket's end, minus those ended before the bucket's start (buckets are contiguous
# from the period's start, and a conversation ends after it starts). Each windowed sum is in
# parentheses: Spark's parser reads `OVER upto - ends` as one hyphenated name.
ROLLUP_IN_PROGRESS_SQL = f"""
WITH per_slot AS (
    SELECT slot, sum(engaged) AS starts, sum(engaged_ends) AS ends
    FROM conversation_slots AS r
    WHERE {_SLOTS} AND slot >= $start AND slot < $end
    GROUP BY slot
), per_bucket AS (
    SELECT b.idx, coalesce(sum(s.starts), 0) AS starts, coalesce(sum(s.ends), 0) AS ends
    FROM buckets b LEFT JOIN per_slot s ON s.slot >= b.start_at AND s.slot < b.end_at
    GROUP BY b.idx
), opened AS (
    SELECT count(*) AS n FROM conversations AS c
    WHERE workspace = $ws AND engaged AND started_at < $start AND ended_at >= $start
      AND {scope.conversation("c", teammates=False)}
)
SELECT idx, (SELECT n FROM opened) + (sum(starts) OVER upto) - ((sum(ends) OVER upto) - ends)
FROM per_bucket
WINDOW upto AS (ORDER BY idx ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
"""

DEPARTMENTS_SQL = f"""
WITH closed AS (
    SELECT * FROM conversations AS c
    WHERE workspace = $ws AND closed_at >= $start AND closed_at < $end
      AND {scope.conversation("c")}
), involved AS (
    SELECT department, count(DISTINCT teammate_id) AS teammates
    FROM (SELECT department, unnest(teammates) AS teammate_id FROM closed)
    GROUP BY department
)
SELECT c.department, count(*) AS conversations, coalesce(any_value(i.teammates), 0),
       sum(c.resolution_us), count(c.resolution_us)
FROM closed c LEFT JOIN involved i ON i.department IS NOT DISTINCT FROM c.department
GROUP BY c.department
ORDER BY conversations DESC, c.department NULLS LAST
"""

ORPHANS_SQL = f"""
SELECT (SELECT count(*) FROM orphan_closes AS o
        WHERE workspace = $ws AND ts >= $start AND ts < $end AND {scope.CHANNEL.format(a="o")}),
       (SELECT count(*) FROM surveys AS s
        WHERE workspace = $ws AND conversation_id IS NULL AND ts >= $start AND ts < $end
          AND {scope.CHANNEL.format(a="s")})
"""


def average_seconds(total_us: int | None, n: int) -> float | None:
    """A mean of microsecond durations in seconds, rounded to the microsecond, from its exact
    sum and count (both paths, rows and rollups, give these, so they round alike)."""
    if not n or total_us is None:
        return None
    return float(round(Fraction(int(total_us), n * 1_000_000), 6))


def _params(query: Query, period: Period) -> dict[str, Any]:
    return {**scope.params(query), "start": period.start, "end": period.end}


def _series(
    engine: Engine, sql: str, params: dict[str, Any], n: int, width: int
) -> list[list[int]]:
    """Run a per-bucket statement; one zero-filled list per value column."""
    out = [[0] * n for _ in range(width)]
    for idx, *values in engine.rows(sql, params):
        for column, value in enumerate(values):
            out[column][idx] = int(value)
    return out


def _tiles(engine: Engine, query: Query, period: Period, rollups: bool) -> tuple[Tiles, tuple]:
    """A period's tiles and support split, from the rollups when `rollups` and they can
    answer it: no teammate filter and a start on a slot (the end may fall anywhere)."""
    params = _params(query, period)
    if rollups and query.teammates is None and _on_slot(period.start):
        end = period.end
        params["slot_end"] = end - timedelta(
            minutes=end.minute % 15, seconds=end.second, microseconds=end.microsecond
        )
        row = one(engine, ROLLUP_TILES_SQL, params)
    else:
        row = one(engine, TILES_SQL, params)
    tiles = Tiles(
        average_conversation_duration_seconds=Durations(
            all=average_seconds(row[3], row[1]),
            teammate=average_seconds(row[4], row[8]),
            chatbot=average_seconds(row[5], row[9]),
        ),
        total_conversations=row[0],
        engaged_conversations=row[1],
        unique_customers=row[2],
    )
    return tiles, row[6:]


def _on_slot(ts: datetime) -> bool:
    return ts.minute % 15 == 0 and ts.second == 0 and ts.microsecond == 0


def summable(query: Query) -> bool:
    """Whether the rollups answer the series of `query`: no teammate filter (a property of
    conversations a sum cannot carry), every bucket edge on a 15-minute slot (true in every
    zone in use today), and buckets contiguous over the period. (Tiles need less: `_tiles`.)"""
    edges = [b.start for b in query.buckets] + [b.end for b in query.buckets]
    contiguous = all(a.end == b.start for a, b in pairwise(query.buckets))
    return (
        query.teammates is None
        and contiguous
        and query.buckets[0].start == query.period.start
        and query.buckets[-1].end == query.period.end
        and all(map(_on_slot, edges))
    )


def bucket_table(spans: Iterable[tuple[datetime, datetime]]) -> pa.Table:
    """Buckets as a table of UTC ranges (`idx`, `start_at`, `end_at`) for a statement to join."""
    return pa.Table.from_pylist(
        [{"idx": i, "start_at": s, "end_at": e} for i, (s, e) in enumerate(spans)],
        schema=_BUCKET_SCHEMA,
    )


def period_out(query: Query, period: Period) -> dict[str, str]:
    return {
        "from": period.first.isoformat(),
        "to": period.last.isoformat(),
        "timezone": query.timezone,
    }


def run(source: Tables | Engine, query: Query, *, rollups: bool = True) -> OverviewResult:
    """Compute the whole overview for `query` in one read-consistent pass, from the rollups
    when the source keeps them and they can answer it (`rollups=False` reads the rows: the
    tests compare the two)."""
    engine = engine_of(source)
    rollups = rollups and engine.rollups
    sums = rollups and summable(query)
    n = len(query.buckets)
    params = _params(query, query.period)
    with engine.snapshot():
        engine.register("buckets", bucket_table((b.start, b.end) for b in query.buckets))
        current, split = _tiles(engine, query, query.period, rollups)
        previous, _ = _tiles(engine, query, query.previous, rollups)
        engagement_sql, events_sql, in_progress_sql = (
            (ROLLUP_ENGAGEMENT_SQL, ROLLUP_EVENTS_SQL, ROLLUP_IN_PROGRESS_SQL)
            if sums
            else (ENGAGEMENT_SQL, EVENTS_SQL, IN_PROGRESS_SQL)
        )
        engaged, non_engaged = _series(engine, engagement_sql, params, n, 2)
        teammate, chatbot, customer, transfers = _series(engine, events_sql, params, n, 4)
        (in_progress,) = _series(engine, in_progress_sql, params, n, 1)
        departments = _departments(engine, params)
        orphan_closes, orphan_surveys = one(engine, ORPHANS_SQL, params)
    return OverviewResult(
        workspace=query.workspace,
        period=period_out(query, query.period),
        previous_period=period_out(query, query.previous),
        granularity=query.granularity.value,
        channels=list(query.channels) if query.channels else None,
        departments=list(query.departments) if query.departments else None,
        teammates=list(query.teammates) if query.teammates else None,
        buckets=[b.label for b in query.buckets],
        in_progress_bucket=query.in_progress_bucket,
        tiles=TilesWithPrevious(**current.model_dump(), previous=previous),
        engagement=Engagement(engaged=engaged, non_engaged=non_engaged),
        messages=Messages(teammate=teammate, chatbot=chatbot, customer=customer),
        traffic=Traffic(transfer_requests=transfers, engaged_conversations=in_progress),
        closed_by_department=departments,
        support_type=SupportType(
            all=SupportSplit(teammate=split[0], chatbot=split[1]),
            engaged=SupportSplit(teammate=split[2], chatbot=split[3]),
        ),
        data_quality=DataQuality(orphan_closes=orphan_closes, orphan_surveys=orphan_surveys),
    )


def _departments(engine: Engine, params: dict[str, Any]) -> list[DepartmentRow]:
    return [
        DepartmentRow(
            department=dept,
            conversations=count,
            teammates_involved=teammates,
            avg_resolution_seconds=average_seconds(resolution, resolved),
        )
        for dept, count, teammates, resolution, resolved in engine.rows(DEPARTMENTS_SQL, params)
    ]


def departments(source: Tables | Engine, query: Query) -> list[DepartmentRow]:
    """The department report alone (one statement), for the CSV export."""
    return _departments(engine_of(source), _params(query, query.period))


@dataclass(frozen=True)
class ConversationFilter:
    """The rows behind a chart: the query's period and channels, plus drill-down filters.

    `department=""` selects conversations closed without a department; any department filter
    keeps closed conversations only. `anchor` picks the timestamp that places a conversation in
    the period (`closed_at` matches the department chart).
    """

    query: Query
    engaged: bool | None = None
    support_type: Literal["teammate", "chatbot"] | None = None
    department: str | None = None
    anchor: Literal["started_at", "closed_at"] = "started_at"


# The drill-down rows (`/v1/conversations` JSON and CSV): one definition, in output order.
CONVERSATION_COLUMNS = (
    "conversation_id",
    "channel",
    "customer_id",
    "started_at",
    "ended_at",
    "duration_seconds",
    "engaged",
    "escalated_at",
    "transfer_requests",
    "support_type",
    "closed_at",
    "department",
    "closed_by",
    "first_response_at",
    "resolution_seconds",
    "customer_messages",
    "chatbot_messages",
    "teammate_messages",
)
_COMPUTED = {
    "duration_seconds": "duration_us / 1e6",
    "resolution_seconds": "resolution_us / 1e6",
}
_ROW_COLUMNS = ", ".join(f"{_COMPUTED.get(c, c)} AS {c}" for c in CONVERSATION_COLUMNS)


def conversations(
    tables: Tables, filt: ConversationFilter, *, limit: int | None, offset: int
) -> tuple[int, list[dict[str, Any]]]:
    """(total matching, one page of rows newest first); timestamps as UTC ISO 8601 with Z."""
    anchor = "closed_at" if filt.anchor == "closed_at" else "started_at"
    where = f"""
        FROM conversations AS c
        WHERE workspace = $ws AND {anchor} >= $start AND {anchor} < $end
          AND {scope.conversation("c")}
          AND ($engaged IS NULL OR engaged = $engaged)
          AND ($support IS NULL OR support_type = $support)
          AND (NOT $drill_by_department OR (closed_at IS NOT NULL
               AND department IS NOT DISTINCT FROM $drill_department))
    """
    params = {
        **_params(filt.query, filt.query.period),
        "engaged": filt.engaged,
        "support": filt.support_type,
        # not `by_department`/`departments`: those are the departments filter's (see scope)
        "drill_by_department": filt.department is not None,
        "drill_department": filt.department or None,
    }
    con = tables.con
    page = "" if limit is None else f"LIMIT {int(limit)} OFFSET {int(offset)}"
    con.begin()  # the count and the page from one snapshot, even while events arrive
    try:
        (total,) = only_row(con, f"SELECT count(*) {where}", params)
        sql = f"SELECT {_ROW_COLUMNS} {where} ORDER BY {anchor} DESC, conversation_id {page}"
        cur = con.execute(sql, bound(sql, params))
        rows = [
            {
                n: _utc_text(v) if isinstance(v, datetime) else v
                for n, v in zip(CONVERSATION_COLUMNS, row, strict=True)
            }
            for row in cur.fetchall()
        ]
    finally:
        con.rollback()
    return total, rows


def _utc_text(ts: datetime) -> str:
    return ts.isoformat() + "Z"
