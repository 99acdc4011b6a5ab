"""The Conversation Overview page (SPEC section 4): its statements, result, CSV and text.

Each element is one statement over the derived `conversations` table (or
`conversation_events` for message and transfer-request counts), narrowed by the filters of
`scope`, anchored on the timestamp the spec names; the buckets arrive as a small table of UTC
ranges (`runner`), so the SQL never does calendar arithmetic. Where the rollups can answer
(`sources`), the tiles and series sum them instead of reading rows; both give the same
numbers. Averages are exact sums divided once (`common.average_seconds`).
"""

from __future__ import annotations

from typing import Any

from convoscope import scope
from convoscope.engines import Engine, Row, Tables
from convoscope.exports import NO_DEPARTMENT
from convoscope.pages import runner, sources
from convoscope.pages.common import (
    STATEMENTS,
    Block,
    Context,
    DataQuality,
    Export,
    Header,
    Page,
    Result,
    Rows,
    Table,
    average_seconds,
    both_periods,
)
from convoscope.pages.text import IN_PROGRESS, change, duration, heading, labels
from convoscope.query import Query


class DurationSplit(Result):
    """A mean duration, overall and by who supported the conversation."""

    all: float | None
    teammate: float | None
    chatbot: float | None


class Tiles(Result):
    average_conversation_duration_seconds: DurationSplit
    total_conversations: int
    engaged_conversations: int
    unique_customers: int


class TilesWithPrevious(Tiles):
    previous: Tiles


class Engagement(Result):
    engaged: list[int]
    non_engaged: list[int]


class Messages(Result):
    teammate: list[int]
    chatbot: list[int]
    customer: list[int]


class Traffic(Result):
    transfer_requests: list[int]
    engaged_conversations: list[int]


class DepartmentRow(Result):
    department: str | None
    conversations: int
    teammates_involved: int
    avg_resolution_seconds: float | None


class SupportSplit(Result):
    teammate: int
    chatbot: int


class SupportType(Result):
    all: SupportSplit
    engaged: SupportSplit


class OverviewResult(Header):
    """The pinned JSON of the overview (see the README); field order is the output order."""

    tiles: TilesWithPrevious
    engagement: Engagement
    messages: Messages
    traffic: Traffic
    closed_by_department: list[DepartmentRow]
    support_type: SupportType
    data_quality: DataQuality


# Tiles for the period and the previous one in one statement (a short period's cost is mostly
# each statement's own): counts, the sums of durations the averages divide, and the unique
# customers of each period (one distinct count per period: grouped by period, DuckDB's
# distinct count took longer from 30 days on).
def _customers(teammates: bool) -> str:
    return "\nUNION ALL\n".join(
        f"""SELECT {flag} AS in_period, count(DISTINCT customer_id) AS customers
    FROM conversations AS c
    WHERE workspace = $ws AND started_at >= ${start} AND started_at < ${end}
      AND {scope.conversation("c", teammates=teammates)}"""
        for flag, start, end in (
            ("TRUE", "start", "end"),
            ("FALSE", "previous_start", "previous_end"),
        )
    )


TILES_SQL = f"""
WITH customers AS (
    {_customers(teammates=True)}
), sums AS (
    SELECT started_at >= $start AS in_period, count(*) AS total,
           count(*) FILTER (WHERE engaged) AS engaged,
           sum(duration_us) FILTER (WHERE engaged) AS duration_all,
           sum(duration_us) FILTER (WHERE engaged AND support_type = 'teammate')
               AS duration_teammate,
           sum(duration_us) FILTER (WHERE engaged AND support_type = 'chatbot')
               AS duration_chatbot,
           count(*) FILTER (WHERE support_type = 'teammate') AS all_teammate,
           count(*) FILTER (WHERE support_type = 'chatbot') AS all_chatbot,
           count(*) FILTER (WHERE engaged AND support_type = 'teammate') AS engaged_teammate,
           count(*) FILTER (WHERE engaged AND support_type = 'chatbot') AS engaged_chatbot
    FROM conversations AS c
    WHERE workspace = $ws AND {both_periods("started_at")} AND {scope.conversation("c")}
    GROUP BY started_at >= $start
)
SELECT s.*, k.customers AS customers
FROM sums AS s JOIN customers AS k ON k.in_period = s.in_period
"""

ENGAGEMENT_SQL = f"""
SELECT b.idx AS idx, count(*) FILTER (WHERE c.engaged) AS engaged,
       count(*) FILTER (WHERE NOT c.engaged) AS non_engaged
FROM conversations c JOIN buckets b ON c.started_at >= b.start_at AND c.started_at < b.end_at
WHERE c.workspace = $ws AND {scope.conversation("c")}
GROUP BY b.idx
"""

EVENTS_SQL = f"""
SELECT b.idx AS idx,
       count(*) FILTER (WHERE e.sender = 'teammate') AS teammate,
       count(*) FILTER (WHERE e.sender = 'chatbot') AS chatbot,
       count(*) FILTER (WHERE e.sender = 'customer') AS customer,
       count(*) FILTER (WHERE e.type = 'transfer_request') AS transfers
FROM conversation_events e JOIN buckets b ON e.ts >= b.start_at AND e.ts < b.end_at
WHERE e.workspace = $ws AND {scope.in_scope("e")}
GROUP BY b.idx
"""

IN_PROGRESS_SQL = f"""
SELECT b.idx AS idx, count(*) AS engaged_live
FROM conversations c JOIN buckets b ON c.started_at < b.end_at AND c.ended_at >= b.start_at
WHERE c.workspace = $ws AND c.engaged AND {scope.conversation("c")}
  AND c.started_at < $end AND c.ended_at >= $start
GROUP BY b.idx
"""

# The same numbers from the rollups (see `rollups`): sums over each period's whole slots,
# plus the conversations that started in its last, partial slot when it ends off a slot (a
# previous period compared up to the current minute: `$slot_end`, `$previous_slot_end`);
# unique customers are counted from the rows (a distinct count cannot be summed).
_SLOTS = f"r.workspace = $ws AND {scope.conversation('r', teammates=False)}"
ROLLUP_TILES_SQL = f"""
WITH customers AS (
    {_customers(teammates=False)}
), sums AS (
    SELECT in_period, coalesce(sum(conversations), 0) AS total,
           coalesce(sum(engaged), 0) AS engaged, sum(duration_all) AS duration_all,
           sum(duration_teammate) AS duration_teammate, sum(duration_chatbot) AS duration_chatbot,
           coalesce(sum(all_teammate), 0) AS all_teammate,
           coalesce(sum(all_chatbot), 0) AS all_chatbot,
           coalesce(sum(engaged_teammate), 0) AS engaged_teammate,
           coalesce(sum(engaged_chatbot), 0) AS engaged_chatbot
    FROM (
        SELECT slot >= $start AS in_period, conversations, engaged,
               engaged_duration_us AS duration_all,
               engaged_teammate_duration_us AS duration_teammate,
               engaged_chatbot_duration_us AS duration_chatbot,
               teammate_supported AS all_teammate, chatbot_supported AS all_chatbot,
               engaged_teammate, engaged_chatbot
        FROM conversation_slots AS r
        WHERE {_SLOTS} AND slot >= $previous_start AND slot < $slot_end
          AND (slot >= $start OR slot < $previous_slot_end)
        UNION ALL
        SELECT started_at >= $start, 1, CAST(engaged AS BIGINT),
               CASE WHEN engaged THEN duration_us ELSE 0 END,
               CASE WHEN engaged AND support_type = 'teammate' THEN duration_us ELSE 0 END,
               CASE WHEN engaged AND support_type = 'chatbot' THEN duration_us ELSE 0 END,
               CAST(support_type = 'teammate' AS BIGINT),
               CAST(support_type = 'chatbot' AS BIGINT),
               CAST(engaged AND support_type = 'teammate' AS BIGINT),
               CAST(engaged AND support_type = 'chatbot' AS BIGINT)
        FROM conversations AS c
        WHERE workspace = $ws AND started_at >= $previous_slot_end AND started_at < $end
          AND (started_at >= $slot_end OR started_at < $previous_end)
          AND {scope.conversation("c", teammates=False)}
    ) AS parts
    GROUP BY in_period
)
SELECT s.*, k.customers AS customers
FROM sums AS s JOIN customers AS k ON k.in_period = s.in_period
"""

# The series from the rollups, in one statement (a short period's cost is mostly each
# statement's own): the period's slots (the range lets the zone maps skip row groups; rollups
# are appended in slot order) summed per slot first, then placed in buckets (a range join of a
# few hundred rows at most per day). In progress in a bucket: engaged conversations open when
# the period starts (counted from the rows: time-ordered, so only the row groups around the
# start are read), plus those started up to the bucket's end, minus those ended before the
# bucket's start (buckets are contiguous from the period's start, and a conversation ends
# after it starts). Each windowed sum is in parentheses: Spark's parser reads
# `OVER upto - ends` as one hyphenated name.
ROLLUP_SERIES_SQL = f"""
WITH conversation_slot AS (
    SELECT slot, sum(engaged) AS engaged, sum(conversations) - sum(engaged) AS non_engaged,
           sum(engaged_ends) AS ends
    FROM conversation_slots AS r
    WHERE {_SLOTS} AND slot >= $start AND slot < $end
    GROUP BY slot
), event_slot AS (
    SELECT slot, sum(teammate_messages) AS teammate, sum(chatbot_messages) AS chatbot,
           sum(customer_messages) AS customer, sum(transfer_requests) AS transfers
    FROM event_slots AS r
    WHERE {_SLOTS} AND slot >= $start AND slot < $end
    GROUP BY slot
), conversation_bucket AS (
    SELECT b.idx, coalesce(sum(s.engaged), 0) AS engaged,
           coalesce(sum(s.non_engaged), 0) AS non_engaged, coalesce(sum(s.ends), 0) AS ends
    FROM buckets b LEFT JOIN conversation_slot s ON s.slot >= b.start_at AND s.slot < b.end_at
    GROUP BY b.idx
), event_bucket AS (
    SELECT b.idx, sum(e.teammate) AS teammate, sum(e.chatbot) AS chatbot,
           sum(e.customer) AS customer, sum(e.transfers) AS transfers
    FROM event_slot e JOIN buckets b ON e.slot >= b.start_at AND e.slot < b.end_at
    GROUP BY b.idx
), opened AS (
    SELECT count(*) AS n FROM conversations AS c
    WHERE workspace = $ws AND engaged AND started_at < $start AND ended_at >= $start
      AND {scope.conversation("c", teammates=False)}
)
SELECT c.idx AS idx, c.engaged AS engaged, c.non_engaged AS non_engaged,
       (SELECT n FROM opened) + (sum(c.engaged) OVER upto) - ((sum(c.ends) OVER upto) - c.ends)
         AS engaged_live,
       coalesce(e.teammate, 0) AS teammate, coalesce(e.chatbot, 0) AS chatbot,
       coalesce(e.customer, 0) AS customer, coalesce(e.transfers, 0) AS transfers
FROM conversation_bucket c LEFT JOIN event_bucket e ON e.idx = c.idx
WINDOW upto AS (ORDER BY c.idx ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
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
SELECT c.department AS department, count(*) AS conversations,
       coalesce(any_value(i.teammates), 0) AS teammates,
       sum(c.resolution_us) AS resolution_us, count(c.resolution_us) AS resolved
FROM closed c LEFT JOIN involved i ON i.department IS NOT DISTINCT FROM c.department
GROUP BY c.department
ORDER BY conversations DESC, c.department NULLS LAST
"""

# Each series' statement column -> the series it fills.
_ENGAGEMENT = {"engaged": "engaged", "non_engaged": "non_engaged"}
_EVENTS = {"teammate": "teammate", "chatbot": "chatbot", "customer": "customer"}
_TRANSFERS = {"transfers": "transfer_requests"}
_IN_PROGRESS = {"engaged_live": "engaged_conversations"}


# A period with no conversation: no row.
_SPLIT_COUNTS = ("all_teammate", "all_chatbot", "engaged_teammate", "engaged_chatbot")
_NO_TILES: Row = {
    **dict.fromkeys(("total", "engaged", "customers", *_SPLIT_COUNTS), 0),
    **dict.fromkeys(("duration_all", "duration_teammate", "duration_chatbot")),
}


def _tiles(context: Context) -> tuple[Tiles, Tiles, SupportType]:
    """The period's tiles, the previous period's and the period's support split, from the
    rollups when they can answer both periods."""
    query = context.query
    if context.rollups and all(
        sources.tiles_from_rollups(query, p) for p in (query.period, query.previous)
    ):
        rows = context.both(
            ROLLUP_TILES_SQL,
            slot_end=sources.slot_end(query.period.end),
            previous_slot_end=sources.slot_end(query.previous.end),
        )
    else:
        rows = context.both(TILES_SQL)
    found = {row["in_period"]: row for row in rows}
    current, previous = found.get(True, _NO_TILES), found.get(False, _NO_TILES)
    split = SupportType(
        all=SupportSplit(teammate=current["all_teammate"], chatbot=current["all_chatbot"]),
        engaged=SupportSplit(
            teammate=current["engaged_teammate"], chatbot=current["engaged_chatbot"]
        ),
    )
    return _tiles_of(current), _tiles_of(previous), split


def _tiles_of(row: Row) -> Tiles:
    return Tiles(
        average_conversation_duration_seconds=DurationSplit(
            all=average_seconds(row["duration_all"], row["engaged"]),
            teammate=average_seconds(row["duration_teammate"], row["engaged_teammate"]),
            chatbot=average_seconds(row["duration_chatbot"], row["engaged_chatbot"]),
        ),
        total_conversations=row["total"],
        engaged_conversations=row["engaged"],
        unique_customers=row["customers"],
    )


def _departments(context: Context) -> list[DepartmentRow]:
    return [
        DepartmentRow(
            department=row["department"],
            conversations=row["conversations"],
            teammates_involved=row["teammates"],
            avg_resolution_seconds=average_seconds(row["resolution_us"], row["resolved"]),
        )
        for row in context.rows(DEPARTMENTS_SQL, context.query.period)
    ]


def compute(context: Context) -> dict[str, Any]:
    query, period = context.query, context.query.period
    current, previous, split = _tiles(context)
    if context.rollups and sources.series_from_rollups(query):
        series = context.series(
            ROLLUP_SERIES_SQL, period, {**_ENGAGEMENT, **_EVENTS, **_TRANSFERS, **_IN_PROGRESS}
        )
    else:
        series = {
            **context.series(ENGAGEMENT_SQL, period, _ENGAGEMENT),
            **context.series(EVENTS_SQL, period, {**_EVENTS, **_TRANSFERS}),
            **context.series(IN_PROGRESS_SQL, period, _IN_PROGRESS),
        }
    return {
        "tiles": TilesWithPrevious(**current.model_dump(), previous=previous),
        "engagement": Engagement(**{name: series[name] for name in _ENGAGEMENT.values()}),
        "messages": Messages(**{name: series[name] for name in _EVENTS.values()}),
        "traffic": Traffic(
            **{name: series[name] for name in (*_TRANSFERS.values(), *_IN_PROGRESS.values())}
        ),
        "closed_by_department": _departments(context),
        "support_type": split,
    }


DEPARTMENT_COLUMNS = ("department", "conversations", "teammates_involved", "avg_resolution_seconds")


def _department_lines(context: Context) -> Rows:
    """The department report (SPEC section 4): one line per department closed in the period."""
    for row in _departments(context):
        yield (
            NO_DEPARTMENT if row.department is None else row.department,
            row.conversations,
            row.teammates_involved,
            row.avg_resolution_seconds,
        )


def text(result: OverviewResult) -> list[Block]:
    t, prev = result.tiles, result.tiles.previous
    if any(result.messages.chatbot):
        bot, by = "the chatbot", "chatbot"
    else:  # as the page says it: where no chatbot wrote (email), no teammate answered them
        bot = by = "no teammate reply"
    d, pd = t.average_conversation_duration_seconds, prev.average_conversation_duration_seconds
    tiles = [
        (name, duration(now), duration(before), change(now, before))
        for name, now, before in (
            ("Average conversation duration", d.all, pd.all),
            ("  with teammates", d.teammate, pd.teammate),
            (f"  with {bot}", d.chatbot, pd.chatbot),
        )
    ] + [
        (name, count, before_count, change(count, before_count))
        for name, count, before_count in (
            ("Total conversations", t.total_conversations, prev.total_conversations),
            ("Engaged conversations", t.engaged_conversations, prev.engaged_conversations),
            ("Unique customers", t.unique_customers, prev.unique_customers),
        )
    ]
    e, m, tr = result.engagement, result.messages, result.traffic
    names = labels(result)
    blocks: list[Block] = [
        heading(result),
        Table("Tiles (previous period beside)", ("tile", "value", "previous", "change"), tiles),
        Table(
            "Conversations per bucket",
            ("bucket", "engaged", "not engaged", "traffic: engaged", "transfer requests"),
            [
                (b, e.engaged[i], e.non_engaged[i], live, tr.transfer_requests[i])
                for i, (b, live) in enumerate(zip(names, tr.engaged_conversations, strict=True))
            ],
        ),
        Table(
            "Messages per bucket",
            ("bucket", "teammates", "chatbot", "customers"),
            [(b, m.teammate[i], m.chatbot[i], m.customer[i]) for i, b in enumerate(names)],
        ),
    ]
    if result.in_progress_bucket is not None:
        blocks.append(IN_PROGRESS)
    s = result.support_type
    return [
        *blocks,
        Table(
            "Closed conversations by department",
            ("department", "closed", "teammates", "resolution"),
            [
                (
                    NO_DEPARTMENT if r.department is None else r.department,
                    r.conversations,
                    r.teammates_involved,
                    duration(r.avg_resolution_seconds),
                )
                for r in result.closed_by_department
            ],
        ),
        f"Handled by teammates / {by}: all {s.all.teammate} / {s.all.chatbot}, "
        f"engaged {s.engaged.teammate} / {s.engaged.chatbot}; "
        f"orphan closes: {result.data_quality.orphan_closes}",
    ]


PAGE = Page(
    name="overview",
    title="Conversation Overview",
    titles={"en": "Conversation overview", "fr": "Aperçu des conversations"},
    summary="Every number of the Conversation Overview page (the JSON of `convoscope report`). "
    "Without a period, the last 7 days.",
    web_path="/",
    result=OverviewResult,
    compute=compute,
    statements={
        **STATEMENTS,
        "tiles": TILES_SQL,
        "engagement": ENGAGEMENT_SQL,
        "events": EVENTS_SQL,
        "in_progress": IN_PROGRESS_SQL,
        "departments": DEPARTMENTS_SQL,
        "rollup_tiles": ROLLUP_TILES_SQL,
        "rollup_series": ROLLUP_SERIES_SQL,
    },
    text=text,
    exports=(
        Export(
            name="departments",
            summary="The department report: one row per department closed in the period.",
            columns=DEPARTMENT_COLUMNS,
            rows=_department_lines,
        ),
    ),
)


def run(source: Tables | Engine, query: Query, *, rollups: bool = True) -> OverviewResult:
    """The overview for `query` (`runner.run` of this page, typed)."""
    result = runner.run(PAGE, source, query, rollups=rollups)
    assert isinstance(result, OverviewResult)
    return result
