"""Cutting threads into conversations (SPEC section 2), defined once, as set-based SQL.

The rules are written here, and only here, as SQL in DuckDB's dialect using only window
functions and plain aggregates; `spark.statement` transpiles the same text with SQLGlot for
Spark. Why this works without a per-event loop: a conversation's inactivity limit
depends on whether it is escalated, which depends on where it started. That recursion is
broken by cutting each thread first at the breaks that do not depend on state (a close, or a
gap longer than the escalated limit, the larger of the two limits): within such a segment,
a gap longer than the chatbot limit ends the conversation exactly when no escalating event
came before it in the segment, because once one has come the conversation holding it lasts
to the segment's end. That needs `escalated_inactivity >= inactivity`, which workspaces keep.

Derivation follows landing (`derive`, after `ingest` stored the events): only the threads of
the new events (`Threads`) are recomputed, from all of their events, so late and out-of-order
events are handled by the same code as everything else and the result equals a full
recompute (the rollups move by the difference, see `rollups`). Their events and derived
rows are found through the thread-key indexes (see `store.thread_key`), so a write reads its
threads' rows, not the workspace's history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb

from convoscope import rollups
from convoscope.store import DERIVED_TABLES, ROLLUP_TABLES, Store, only_row, select_events

# Every event of the dirty threads (`thread_events`) with its conversation (`conversation_id` is
# the id of the conversation's first event) and whether it is an orphan close. The windows run
# over the few columns the cut reads (the rest joins back by workspace and `seq`, an event's
# arrival number), and a segment's escalations come from one running count: the escalations
# before an event less those before its segment's first event (a hard break). Four sorts of
# narrow rows instead of five of every column (figures in bench/README.md).
ASSIGN_SQL = """
WITH marked AS (
    SELECT e.workspace, e.channel, e.customer_id, e.event_id, e.seq, e.ts, e.type, e.welcome,
           ws.inactivity_seconds, ws.escalated_inactivity_seconds,
           CASE WHEN e.sender = 'teammate' THEN 1 ELSE 0 END AS by_teammate,
           CASE WHEN e.type = 'transfer_request' OR e.sender = 'teammate' THEN 1 ELSE 0 END
               AS escalates
    FROM thread_events AS e
    JOIN workspaces AS ws ON ws.name = e.workspace
    WHERE e.type IN ('message', 'transfer_request', 'close')
), ordered AS (
    SELECT *,
           ROW_NUMBER() OVER thread AS pos,
           LAG(ts) OVER thread AS prev_ts,
           LAG(type) OVER thread AS prev_type,
           CAST(COALESCE(SUM(escalates) OVER (
               PARTITION BY workspace, channel, customer_id ORDER BY ts, seq
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS BIGINT)
               AS escalations_before
    FROM marked
    WINDOW thread AS (PARTITION BY workspace, channel, customer_id ORDER BY ts, seq)
), gaps AS (
    SELECT *,
           DATE_DIFF('microsecond', prev_ts, ts) AS gap_us,
           CASE WHEN prev_ts IS NULL OR prev_type = 'close'
                     OR DATE_DIFF('microsecond', prev_ts, ts)
                        > CAST(escalated_inactivity_seconds AS BIGINT) * 1000000
                THEN 1 ELSE 0 END AS hard_break
    FROM ordered
), segments AS (
    SELECT *,
           MAX(CASE WHEN hard_break = 1 THEN escalations_before END) OVER (
               PARTITION BY workspace, channel, customer_id ORDER BY pos
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS segment_escalations
    FROM gaps
), starts AS (
    SELECT *,
           CASE WHEN hard_break = 1
                     OR (gap_us > CAST(inactivity_seconds AS BIGINT) * 1000000
                         AND escalations_before = segment_escalations)
                THEN 1 ELSE 0 END AS starts_conversation
    FROM segments
), numbered AS (
    SELECT *,
           SUM(starts_conversation) OVER (
               PARTITION BY workspace, channel, customer_id ORDER BY pos
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS conversation_no
    FROM starts
), cut AS (
    SELECT workspace, seq, pos, escalates, starts_conversation = 1 AND type = 'close' AS orphan,
           FIRST_VALUE(event_id) OVER conversation AS conversation_id,
           MIN(CASE WHEN welcome THEN pos END) OVER conversation AS welcome_pos,
           MIN(CASE WHEN by_teammate = 1 THEN pos END) OVER conversation AS first_teammate_pos,
           MAX(CASE WHEN by_teammate = 1 THEN pos END) OVER conversation AS last_teammate_pos,
           MIN(CASE WHEN escalates = 1 THEN pos END) OVER conversation AS first_escalation_pos
    FROM numbered
    WINDOW conversation AS (PARTITION BY workspace, channel, customer_id, conversation_no
                            ORDER BY pos ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
)
SELECT e.workspace, e.channel, e.customer_id, e.thread_key, e.event_id, c.pos, e.ts, e.type,
       e.sender, e.teammate_id, e.welcome, e.department, e.flow, e.flow_type, e.step, e.flow_end,
       e.fallback, c.escalates, c.orphan, c.conversation_id, c.welcome_pos, c.first_teammate_pos,
       c.last_teammate_pos, c.first_escalation_pos
FROM cut AS c JOIN thread_events AS e ON e.workspace = c.workspace AND e.seq = c.seq
"""

# The events of conversations with their place in the chatbot's phase (SPEC section 7): the
# events before the escalating one. `bot_flow` marks its chatbot messages inside a flow;
# `first_flow_pos` and `last_flow_pos` are the first and last of them; per flow of a
# conversation, `flow_completed` says whether one of them ends it and `flow_sent_type` is the
# type its first message naming one gave (the catalogue may override it when read): those two
# are set on the `bot_flow` rows only, the only ones read. They come from the `bot_flow` rows
# alone, grouped and joined back, rather than from windows over every event.
PHASED_SQL = """
WITH phased AS (
    SELECT *, (first_escalation_pos IS NULL OR pos < first_escalation_pos) AS bot_phase
    FROM assigned
    WHERE NOT orphan
), flowed AS (
    SELECT *, bot_phase AND sender = 'chatbot' AND flow IS NOT NULL AS bot_flow
    FROM phased
), typed AS (
    SELECT workspace, conversation_id, flow, pos, flow_type, flow_end,
           MIN(CASE WHEN flow_type IS NOT NULL THEN pos END) OVER (
               PARTITION BY workspace, conversation_id, flow) AS typed_pos
    FROM flowed
    WHERE bot_flow
), flows AS (
    SELECT workspace, conversation_id, flow,
           MAX(CASE WHEN flow_end THEN 1 ELSE 0 END) = 1 AS flow_completed,
           MAX(CASE WHEN pos = typed_pos THEN flow_type END) AS flow_sent_type
    FROM typed
    GROUP BY workspace, conversation_id, flow
), spans AS (
    SELECT workspace, conversation_id, MIN(pos) AS first_flow_pos, MAX(pos) AS last_flow_pos
    FROM typed
    GROUP BY workspace, conversation_id
)
SELECT f.*, s.first_flow_pos, s.last_flow_pos, l.flow_completed, l.flow_sent_type
FROM flowed AS f
LEFT JOIN spans AS s ON s.workspace = f.workspace AND s.conversation_id = f.conversation_id
LEFT JOIN flows AS l
  ON f.bot_flow AND l.workspace = f.workspace AND l.conversation_id = f.conversation_id
 AND l.flow = f.flow
"""

# One row per conversation with every fact of SPEC sections 2 and 7.
CONVERSATIONS_SQL = """
WITH facts AS (
    SELECT workspace, channel, customer_id, thread_key, conversation_id,
           MIN(ts) AS started_at,
           MAX(ts) AS ended_at,
           MAX(CASE WHEN type = 'message' AND sender = 'customer'
                         AND pos > COALESCE(welcome_pos, 0) THEN 1 ELSE 0 END) = 1 AS engaged,
           MIN(CASE WHEN escalates = 1 THEN ts END) AS escalated_at,
           SUM(CASE WHEN type = 'transfer_request' THEN 1 ELSE 0 END) AS transfer_requests,
           MAX(CASE WHEN type = 'close' THEN ts END) AS closed_at,
           MAX(CASE WHEN type = 'close' THEN department END) AS department,
           MAX(CASE WHEN type = 'close' THEN teammate_id END) AS closed_by,
           MIN(CASE WHEN sender = 'teammate' THEN ts END) AS first_response_at,
           SUM(CASE WHEN sender = 'customer' THEN 1 ELSE 0 END) AS customer_messages,
           SUM(CASE WHEN sender = 'chatbot' THEN 1 ELSE 0 END) AS chatbot_messages,
           SUM(CASE WHEN sender = 'teammate' THEN 1 ELSE 0 END) AS teammate_messages,
           MAX(CASE WHEN pos = first_teammate_pos THEN teammate_id END) AS first_responder,
           MAX(CASE WHEN pos = last_teammate_pos THEN teammate_id END) AS last_responder,
           MAX(CASE WHEN pos = first_escalation_pos AND type = 'transfer_request'
                    THEN 1 ELSE 0 END) = 1 AS transferred,
           MIN(CASE WHEN type = 'transfer_request'
                         AND (first_teammate_pos IS NULL OR pos < first_teammate_pos)
                    THEN ts END) AS first_transfer_at,
           MIN(CASE WHEN sender = 'customer'
                         AND (first_teammate_pos IS NULL OR pos < first_teammate_pos)
                    THEN ts END) AS first_customer_at,
           list_sort(list(DISTINCT teammate_id) FILTER (WHERE teammate_id IS NOT NULL))
               AS teammates,
           SUM(CASE WHEN bot_phase AND sender = 'chatbot' THEN 1 ELSE 0 END) AS bot_messages,
           SUM(CASE WHEN bot_phase AND sender = 'chatbot' AND fallback THEN 1 ELSE 0 END)
               AS bot_fallbacks,
           COUNT(DISTINCT CASE WHEN bot_flow THEN flow END) AS flows_entered,
           MAX(CASE WHEN pos = first_flow_pos THEN flow END) AS first_flow,
           MAX(CASE WHEN pos = first_flow_pos THEN flow_sent_type END) AS first_flow_sent_type,
           MAX(CASE WHEN pos = last_flow_pos THEN flow END) AS last_flow,
           MAX(CASE WHEN pos = last_flow_pos AND flow_completed THEN 1 ELSE 0 END) = 1
               AS last_flow_completed
    FROM phased
    GROUP BY workspace, channel, customer_id, thread_key, conversation_id
)
SELECT workspace, channel, customer_id, thread_key, conversation_id, started_at, ended_at,
       DATE_DIFF('microsecond', started_at, ended_at) AS duration_us,
       engaged, escalated_at, transfer_requests,
       CASE WHEN teammate_messages > 0 THEN 'teammate' ELSE 'chatbot' END AS support_type,
       closed_at, department, closed_by, first_response_at,
       DATE_DIFF('microsecond', COALESCE(escalated_at, started_at), closed_at) AS resolution_us,
       customer_messages, chatbot_messages, teammate_messages, first_responder,
       COALESCE(first_transfer_at, first_customer_at) AS initial_response_from,
       DATE_DIFF('microsecond', COALESCE(first_transfer_at, first_customer_at), first_response_at)
           AS initial_response_us,
       last_responder, transferred, coalesce(teammates, []) AS teammates,
       bot_messages > 0 AS bot_involved, bot_messages, bot_fallbacks,
       DATE_DIFF('microsecond', started_at, COALESCE(escalated_at, ended_at)) AS bot_duration_us,
       flows_entered, first_flow, first_flow_sent_type, last_flow,
       CASE WHEN bot_messages = 0 THEN NULL
            WHEN escalated_at IS NOT NULL THEN 'transferred'
            WHEN NOT engaged THEN 'not_engaged'
            WHEN last_flow IS NOT NULL AND NOT last_flow_completed THEN 'abandoned_in_flow'
            ELSE 'automated' END AS bot_outcome
FROM facts
"""

# Each flow entered in a conversation's chatbot phase (with the conversation's start, the time
# that places it): completed when one of its messages there ends it; its first and last
# message, the step of the last, its fallbacks, and its sent type (`PHASED_SQL`).
FLOWS_SQL = """
WITH messages AS (
    SELECT *, MAX(pos) OVER (PARTITION BY workspace, channel, customer_id, conversation_id, flow)
                  AS last_pos
    FROM phased
    WHERE bot_flow
)
SELECT m.workspace, m.channel, m.customer_id, m.thread_key, m.conversation_id, m.flow,
       c.started_at, MAX(m.flow_sent_type) AS sent_type,
       MAX(CASE WHEN m.flow_end THEN 1 ELSE 0 END) = 1 AS completed,
       MIN(m.ts) AS first_at, MAX(m.ts) AS last_at,
       MAX(CASE WHEN m.pos = m.last_pos THEN m.step END) AS last_step,
       SUM(CASE WHEN m.fallback THEN 1 ELSE 0 END) AS fallbacks
FROM messages AS m
JOIN derived_conversations AS c
  ON c.workspace = m.workspace AND c.conversation_id = m.conversation_id
GROUP BY m.workspace, m.channel, m.customer_id, m.thread_key, m.conversation_id, m.flow,
         c.started_at
"""

# Response waits: after a teammate has written, a customer message right after a teammate
# message (chatbot messages and transfer requests aside) starts a wait, and the next teammate
# message answers it. Teammate messages are counted along the conversation; the answer is the
# teammate message whose count is one more than the count at the wait's start.
WAITS_SQL = """
WITH talk AS (
    SELECT workspace, channel, customer_id, thread_key, conversation_id, pos, ts, sender,
           teammate_id,
           LAG(sender) OVER (PARTITION BY workspace, channel, customer_id, conversation_id
                             ORDER BY pos) AS previous_sender,
           SUM(CASE WHEN sender = 'teammate' THEN 1 ELSE 0 END) OVER (
               PARTITION BY workspace, channel, customer_id, conversation_id ORDER BY pos
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS answers_so_far
    FROM assigned
    WHERE NOT orphan AND type = 'message' AND sender IN ('customer', 'teammate')
)
SELECT w.workspace, w.channel, w.customer_id, w.thread_key, w.conversation_id, w.ts AS waited_from,
       a.ts AS answered_at, a.teammate_id, DATE_DIFF('microsecond', w.ts, a.ts) AS response_us
FROM talk AS w
JOIN talk AS a
  ON a.workspace = w.workspace AND a.channel = w.channel AND a.customer_id = w.customer_id
 AND a.conversation_id = w.conversation_id AND a.sender = 'teammate'
 AND a.answers_so_far = w.answers_so_far + 1
WHERE w.sender = 'customer' AND w.previous_sender = 'teammate'
"""

TEAMMATES_SQL = """
SELECT DISTINCT workspace, channel, customer_id, thread_key, conversation_id, teammate_id
FROM assigned
WHERE NOT orphan AND teammate_id IS NOT NULL
"""

# The events that event-anchored metrics count (messages, transfer requests), each with its
# conversation, so that the department and teammate filters reach them (SPEC section 3).
EVENTS_SQL = """
SELECT workspace, channel, customer_id, thread_key, conversation_id, ts, type, sender,
       teammate_id, bot_phase, fallback, event_id, welcome
FROM phased
WHERE type IN ('message', 'transfer_request')
"""

# The commerce events of the threads (SPEC sections 1 and 8), money as exact decimals with
# the scale they were written in. An order or refund without a thread keeps the store's ''
# for its channel (a lake's is NULL): the rows of a thread are found by equality.
COMMERCE_SQL = """
SELECT workspace, channel, customer_id, thread_key, event_id, seq, ts, type, customer_ref, order_id,
       CAST(amount AS DECIMAL(18, 4)) AS amount,
       CASE WHEN amount LIKE '%.%' THEN LENGTH(amount) - INSTR(amount, '.') ELSE 0 END
           AS amount_scale,
       currency, CASE WHEN type = 'order' THEN COALESCE(source, 'website') END AS source,
       COALESCE(test, FALSE) AS test
FROM thread_events
WHERE type IN ('identify', 'order', 'refund')
"""

ORPHANS_SQL = """
SELECT workspace, channel, customer_id, thread_key, event_id, ts FROM assigned WHERE orphan
"""

# Rule 5: each survey of the dirty threads with the conversation it belongs to (null: orphan),
# the thread's last conversation whose first event comes before it in thread order (ts, then
# arrival), when the survey comes at most `csat_window` after that conversation's end.
# Surveys are no activity: ASSIGN_SQL leaves them out of the cut.
SURVEYS_SQL = """
WITH surveys AS (
    SELECT e.workspace, e.channel, e.customer_id, e.thread_key, e.event_id, e.seq, e.ts, e.score,
           e.about
    FROM thread_events AS e
    WHERE e.type = 'csat'
), starts AS (
    SELECT c.workspace, c.channel, c.customer_id, c.conversation_id, c.started_at, c.ended_at,
           c.teammate_messages, first_event.seq AS first_seq
    FROM derived_conversations AS c
    JOIN thread_events AS first_event
      ON first_event.workspace = c.workspace AND first_event.event_id = c.conversation_id
), candidates AS (
    SELECT s.workspace, s.channel, s.customer_id, s.thread_key, s.event_id, s.ts, s.score,
           s.about, c.conversation_id, c.ended_at, c.teammate_messages,
           ROW_NUMBER() OVER (PARTITION BY s.workspace, s.event_id
                              ORDER BY c.started_at DESC, c.first_seq DESC) AS rank_from_last
    FROM surveys AS s
    LEFT JOIN starts AS c
      ON c.workspace = s.workspace AND c.channel = s.channel AND c.customer_id = s.customer_id
     AND (c.started_at < s.ts OR (c.started_at = s.ts AND c.first_seq < s.seq))
)
SELECT k.workspace, k.channel, k.customer_id, k.thread_key, k.event_id, k.ts, k.score,
       CASE WHEN belongs THEN k.conversation_id END AS conversation_id,
       -- what it rates (SPEC section 7): as given, else whether a teammate wrote in its
       -- conversation; an orphan survey keeps only what it says
       COALESCE(k.about, CASE WHEN belongs AND k.teammate_messages > 0 THEN 'teammate'
                              WHEN belongs THEN 'chatbot' END) AS about
FROM (SELECT c.*, DATE_DIFF('microsecond', c.ended_at, c.ts)
                      <= CAST(ws.csat_window_seconds AS BIGINT) * 1000000 AS belongs
      FROM candidates AS c JOIN workspaces AS ws ON ws.name = c.workspace) AS k
WHERE k.rank_from_last = 1
"""


# The cut's statements in the order they build on each other, for an engine that runs them as
# views (Spark over a lake): each result becomes a view of its name for the next (`assigned`
# feeds the rest; surveys read `derived_conversations`). `refresh` runs the same texts here.
CUT = (
    ("assigned", ASSIGN_SQL),
    ("phased", PHASED_SQL),
    ("derived_conversations", CONVERSATIONS_SQL),
    ("conversation_flows", FLOWS_SQL),
    ("conversation_teammates", TEAMMATES_SQL),
    ("orphan_closes", ORPHANS_SQL),
    ("surveys", SURVEYS_SQL),
    ("response_waits", WAITS_SQL),
    ("conversation_events", EVENTS_SQL),
    ("commerce", COMMERCE_SQL),
)


@dataclass(frozen=True)
class Threads:
    """The threads a re-cut covers, named in temp tables of the transaction: whole threads by
    their keys in `dirty_keys` (`touched`), or each thread's tail in `tails` (`new_tails`).
    Only those two make one, so a write passes what it touched as a value and never names
    the tables; `everything` (a rebuild) also clears the rows older than thread keys."""

    everything: bool = False
    tails: bool = False


def touched(con: duckdb.DuckDBPyConnection, where: str, params: dict[str, Any]) -> Threads:
    """The threads of the stored events `where` selects (SQL over `events`, with `params`),
    read now: name them before deleting their events (an erasure)."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE dirty_keys AS "
        f"SELECT DISTINCT thread_key AS key FROM events WHERE {where}",
        params,
    )
    return Threads()


# Where the re-cut of a thread that received new events (arrival numbers after $after, up to
# $upto) starts: at a conversation's first event that precedes every new one in thread order,
# so that the cut before it cannot change (whether an event starts a conversation depends only
# on the events before it, and a conversation's start leaves no state behind). That is the
# last conversation started at or before the earliest new event N (its events all come
# before N: they arrived earlier), or N itself when none did, or when every such conversation
# ended longer than the escalated inactivity before N and N opens one (a message or a transfer
# request: N then starts a conversation however the ones before it were cut, and the surveys
# before N keep theirs; a close there is an orphan, and a survey or a commerce event opens
# nothing, so the surveys after them may still belong to an earlier conversation). A
# returning customer's new conversation is then re-cut alone, not with the thread's history.
# `{new_events}` names the new events (here a range of arrival numbers of `events`; on Spark
# the new files' events), `{conversations}` the stored conversations.
TAILS_SQL = """
WITH new AS (
    SELECT workspace, channel, customer_id, thread_key, event_id, ts, type,
           ROW_NUMBER() OVER (PARTITION BY workspace, channel, customer_id ORDER BY ts, seq)
               AS nth
    FROM {new_events}
), first_new AS (
    SELECT * FROM new WHERE nth = 1
), earlier AS (
    SELECT f.workspace, f.channel, f.customer_id,
           arg_max(c.conversation_id, c.started_at) AS last_id, max(c.started_at) AS last_start,
           max(c.ended_at) AS last_end
    FROM first_new AS f
    JOIN {conversations} AS c
      ON c.thread_key = f.thread_key AND c.workspace = f.workspace AND c.channel = f.channel
     AND c.customer_id = f.customer_id AND c.started_at <= f.ts
    GROUP BY f.workspace, f.channel, f.customer_id
), chosen AS (
    SELECT f.*, e.last_id, e.last_start,
           e.last_start IS NULL
           OR (f.type IN ('message', 'transfer_request')
               AND DATE_DIFF('microsecond', e.last_end, f.ts)
                   > CAST(ws.escalated_inactivity_seconds AS BIGINT) * 1000000) AS from_new
    FROM first_new AS f
    JOIN workspaces AS ws ON ws.name = f.workspace
    LEFT JOIN earlier AS e
      ON e.workspace = f.workspace AND e.channel = f.channel AND e.customer_id = f.customer_id
)
SELECT thread_key AS key, workspace, channel, customer_id,
       CASE WHEN from_new THEN ts ELSE last_start END AS from_ts,
       CASE WHEN from_new THEN event_id ELSE last_id END AS from_id
FROM chosen
"""


def _same_thread(alias: str) -> str:
    """A row of `tails` (alias d) and a row of a table with thread columns (`alias`)."""
    return " AND ".join(
        f"{alias}.{a} = d.{b}"
        for a, b in (
            ("thread_key", "key"),
            ("workspace", "workspace"),
            ("channel", "channel"),
            ("customer_id", "customer_id"),
        )
    )


# How far back the tails' events are read by a range scan of `events` (time-ordered, so its
# zone maps skip the rest); a tail starting earlier is read through its key's index.
RECENT = timedelta(days=7)


def new_tails(con: duckdb.DuckDBPyConnection, after: int, upto: int) -> Threads:
    """The tails of the threads that received the events numbered `after < seq <= upto`."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE tails AS "
        + TAILS_SQL.format(
            new_events="(FROM events WHERE seq > $after AND seq <= $upto)",
            conversations="conversations",
        ),
        {"after": after, "upto": upto},
    )
    return Threads(tails=True)


def _tail_events(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """Make `thread_events` the events of `tails` (from each tail's first event on, in thread
    order) and `stale` the stored conversations they replace; return the earliest tail
    start, a bound for the deletes' zone maps."""
    (earliest, newest) = only_row(con, "SELECT min(from_ts), max(from_ts) FROM tails")
    if newest is None:
        con.execute("CREATE OR REPLACE TEMP TABLE thread_events AS FROM events LIMIT 0")
        return None
    cutoff = newest - RECENT
    con.execute(
        "CREATE OR REPLACE TEMP TABLE old_keys AS "
        "SELECT DISTINCT key FROM tails WHERE from_ts < $cutoff",
        {"cutoff": cutoff},
    )
    probed = select_events(con, "probed", "thread_key", "old_keys")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE candidates AS
        SELECT t.*, d.from_ts, d.from_id FROM events AS t JOIN tails AS d ON {_same_thread("t")}
        WHERE d.from_ts >= $cutoff AND t.ts >= $cutoff AND t.ts >= d.from_ts
        UNION ALL
        SELECT t.*, d.from_ts, d.from_id FROM probed AS t JOIN tails AS d ON {_same_thread("t")}
        WHERE d.from_ts < $cutoff AND t.ts >= d.from_ts
        """,
        {"cutoff": cutoff},
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE thread_events AS
        SELECT c.* EXCLUDE (from_ts, from_id)
        FROM candidates AS c
        JOIN (SELECT workspace, channel, customer_id, seq AS from_seq FROM candidates
              WHERE event_id = from_id) AS b
          ON b.workspace = c.workspace AND b.channel = c.channel
         AND b.customer_id = c.customer_id
        WHERE c.ts > c.from_ts OR c.seq >= b.from_seq
        """
    )
    # the conversations the tails replace: from each tail's first event on
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE stale AS
        SELECT t.workspace, t.conversation_id, t.thread_key
        FROM conversations AS t JOIN tails AS d ON {_same_thread("t")}
        WHERE t.started_at >= $earliest AND (t.started_at > d.from_ts
              OR t.conversation_id IN (SELECT event_id FROM thread_events))
        """,
        {"earliest": earliest},
    )
    con.execute(f"DROP {probed} probed")
    for table in ("candidates", "old_keys"):
        con.execute(f"DROP TABLE {table}")
    return earliest  # type: ignore[no-any-return]


# The time column of each derived table, a bound for its zone maps.
_TIME = {
    "conversations": "started_at",
    "conversation_flows": "started_at",
    "response_waits": "waited_from",
    "conversation_events": "ts",
    "orphan_closes": "ts",
    "surveys": "ts",
    "commerce": "ts",
}
# Tables whose rows are events rather than parts of a conversation (orphans have none).
BY_EVENT = frozenset({"orphan_closes", "surveys", "commerce"})


def _stale_rows(table: str, earliest: datetime) -> str:
    """The clause after `DELETE FROM table` that selects the rows the tails replace."""
    bound = (
        f" AND {table}.{_TIME[table]} >= TIMESTAMP '{earliest.isoformat()}'"
        if table in _TIME
        else ""
    )
    if table in BY_EVENT:
        return (
            f"USING tails AS d WHERE {_same_thread(table)}{bound}"
            f" AND ({table}.ts > d.from_ts"
            f" OR {table}.event_id IN (SELECT event_id FROM thread_events))"
        )
    return (
        f"USING stale AS s WHERE {table}.workspace = s.workspace"
        f" AND {table}.conversation_id = s.conversation_id AND {table}.thread_key = s.thread_key"
        f"{bound}"
    )


def refresh(con: duckdb.DuckDBPyConnection, threads: Threads) -> None:
    """Recompute the conversations of `threads`, inside the caller's transaction, and move
    the rollups by the difference. Their derived rows are deleted first; with
    `threads.everything`, every derived row and rollup is."""
    everything = threads.everything
    if threads.tails:
        earliest = _tail_events(con)
        kind = "TABLE"
        stale = {t: _stale_rows(t, earliest) if earliest else "WHERE false" for t in DERIVED_TABLES}
    else:
        kind = select_events(con, "thread_events", "thread_key", "dirty_keys")
        keyed = "" if everything else "WHERE thread_key IN (SELECT key FROM dirty_keys)"
        stale = dict.fromkeys(DERIVED_TABLES, keyed)
    for table in DERIVED_TABLES:
        if table in rollups.SOURCES:
            rollups.remove(con, table, stale[table], keep=not everything)
        else:
            con.execute(f"DELETE FROM {table} {stale[table]}")
    if everything:
        for table in ROLLUP_TABLES:
            con.execute(f"DELETE FROM {table}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE assigned AS {ASSIGN_SQL}")
    # kept, not a view: three statements read it (a view computed its windows three times);
    # dropped after the third, so that a large re-cut (the demo's, under the memory cap) holds
    # it beside `assigned` no longer than it must
    con.execute(f"CREATE OR REPLACE TEMP TABLE phased AS {PHASED_SQL}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE derived_conversations AS {CONVERSATIONS_SQL}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE derived_events AS {EVENTS_SQL}")
    # Rows go in time order: a bulk load or a rebuild leaves each table sorted by the time
    # periods select on, so that a period reads only its row groups (zone maps).
    con.execute(f"INSERT INTO conversation_flows BY NAME {FLOWS_SQL} ORDER BY started_at")
    con.execute("DROP TABLE phased")
    con.execute(
        "INSERT INTO conversations BY NAME SELECT * FROM derived_conversations ORDER BY started_at"
    )
    con.execute(f"INSERT INTO conversation_teammates BY NAME {TEAMMATES_SQL}")
    con.execute(f"INSERT INTO orphan_closes BY NAME {ORPHANS_SQL} ORDER BY ts")
    con.execute(f"INSERT INTO surveys BY NAME {SURVEYS_SQL} ORDER BY ts")
    con.execute(f"INSERT INTO response_waits BY NAME {WAITS_SQL} ORDER BY answered_at")
    con.execute("INSERT INTO conversation_events BY NAME SELECT * FROM derived_events ORDER BY ts")
    con.execute(f"INSERT INTO commerce BY NAME {COMMERCE_SQL} ORDER BY ts")
    rollups.apply(con, "derived_conversations", "derived_events")
    for table in ("derived_conversations", "derived_events", "assigned"):
        con.execute(f"DROP TABLE {table}")
    for table in ("tails", "stale") if threads.tails else ("dirty_keys",):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute(f"DROP {kind} thread_events")


# Above this many new arrival numbers (a bulk file, the demo), a derivation re-cuts whole
# threads: one pass over the events costs less than finding each thread's tail first.
BULK = 50_000


def derive(store: Store, needed: int | None = None) -> None:
    """Re-cut the threads of every event stored and not yet derived (up to the arrival number
    `needed`, a read's), in one transaction: a server's deriver calls it for the batches of a
    moment at once, a CLI import once. A re-cut reads the whole of its threads' tails, later
    arrivals too; a later derivation re-cuts those again from their own tails."""
    with store.deriving(needed=needed) as d:
        if d.upto - d.after > BULK:
            span = {"after": d.after, "upto": d.upto}
            refresh(d.con, touched(d.con, "seq > $after AND seq <= $upto", span))
        elif d.upto > d.after:
            refresh(d.con, new_tails(d.con, d.after, d.upto))


def settle(tables: object) -> None:
    """Read-your-writes: before a read of a store, derive what was acknowledged before it
    (nothing to do, the usual case, costs a comparison). Only that: under a steady load a read
    waits for the derivation under way and then derives what it still misses, not what
    landed meanwhile. A lake's tables are Spark's."""
    if isinstance(tables, Store) and tables.pending:
        derive(tables, needed=tables.landed_seq)


def rebuild(store: Store) -> None:
    """Recompute every conversation from scratch."""
    with store.deriving() as d:
        touched(d.con, "true", {})
        refresh(d.con, Threads(everything=True))
        d.con.execute("DELETE FROM meta WHERE key = 'derived_outdated'")
    store.derived_outdated = False
