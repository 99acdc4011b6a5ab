"""Chatbot Performance on the PostgreSQL baseline: the same derived rows (the chatbot
conversations with their outcome facts, the flows they entered, the chatbot messages of their
chatbot phase, the surveys about the chatbot) copied into the cluster of `postgres_baseline`
with covering B-tree indexes on each row's anchoring time, and the page's statements written
for PostgreSQL, one period at a time: outcomes as `GROUPING SETS` with `percentile_cont`,
buckets by `width_bucket` over the buckets' starts, the workspace's flow catalogue as a small
table. The rows are shaped by the page's own code (`chatbot.shape`), so only the SQL differs,
and checked equal to `chatbot.run` before they are timed (no filters, like the others).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg

from bench.postgres_baseline import copy_table, plan_line
from convoscope.pages import chatbot
from convoscope.query import Query
from convoscope.store import Store

TABLES = {
    "bot_conversations": (
        "(SELECT * FROM conversations WHERE bot_involved)",
        "workspace text, conversation_id text, started_at timestamp, bot_duration_us bigint,"
        " first_flow text, first_flow_sent_type text, last_flow text, transferred boolean,"
        " bot_outcome text, closed_at timestamp, ended_at timestamp",
    ),
    "bot_flows": (
        "conversation_flows",
        "workspace text, conversation_id text, flow text, started_at timestamp, sent_type text,"
        " completed boolean, first_at timestamp, last_at timestamp, last_step text,"
        " fallbacks integer",
    ),
    "bot_messages": (
        "(SELECT * FROM conversation_events WHERE sender = 'chatbot' AND bot_phase)",
        "workspace text, ts timestamp, fallback boolean",
    ),
    "bot_surveys": (
        "(SELECT * FROM surveys WHERE about = 'chatbot' AND conversation_id IS NOT NULL)",
        "workspace text, ts timestamp, score bigint",
    ),
}
INDEXES = (
    "CREATE INDEX ON bot_conversations (workspace, started_at) INCLUDE (conversation_id,"
    " bot_duration_us, first_flow, first_flow_sent_type, last_flow, transferred, bot_outcome,"
    " closed_at, ended_at)",
    "CREATE INDEX ON bot_flows (workspace, started_at) INCLUDE (conversation_id, flow,"
    " sent_type, completed, first_at, last_at, last_step, fallbacks)",
    "CREATE INDEX ON bot_messages (workspace, ts) INCLUDE (fallback)",
    "CREATE INDEX ON bot_surveys (workspace, ts) INCLUDE (score)",
)

_BOT = """
bot AS (
    SELECT conversation_id, started_at, bot_duration_us, first_flow, first_flow_sent_type,
           last_flow, transferred,
           CASE WHEN bot_outcome <> 'transferred' AND closed_at IS NULL
                     AND ended_at >= %(active_from)s
                THEN 'in_progress' ELSE bot_outcome END AS outcome
    FROM bot_conversations
    WHERE workspace = %(ws)s AND started_at >= %(start)s AND started_at < %(end)s
)"""
_HANDLED = "('automated', 'abandoned_in_flow', 'transferred')"

OUTCOMES = f"""
WITH {_BOT}, typed AS (
    SELECT b.*, CASE WHEN b.outcome IN {_HANDLED} THEN 1 ELSE 0 END AS handled,
           CASE WHEN b.first_flow IS NULL THEN 'none'
                ELSE coalesce(k.type, b.first_flow_sent_type, 'other') END AS first_type,
           width_bucket(b.started_at, %(starts)s::timestamp[]) - 1 AS idx
    FROM bot b LEFT JOIN bot_catalogue k ON k.flow = b.first_flow
)
SELECT %(in_period)s AS in_period, outcome, handled, idx, first_type, last_flow, transferred,
       GROUPING(outcome) = 0 AS by_outcome, GROUPING(handled) = 0 AS by_handled,
       GROUPING(idx) = 0 AS by_bucket, GROUPING(first_type) = 0 AS by_first_type,
       GROUPING(last_flow) = 0 AS by_last_flow, GROUPING(transferred) = 0 AS by_reason,
       count(*) AS n, sum(bot_duration_us) AS total,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY bot_duration_us) AS median,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY bot_duration_us) AS p90
FROM typed
GROUP BY GROUPING SETS ((handled), (outcome), (outcome, idx), (handled, first_type),
                        (outcome, last_flow), (outcome, transferred))
"""
FALLBACKS = """
SELECT %(in_period)s AS in_period, count(*) AS messages,
       coalesce(sum(CASE WHEN fallback THEN 1 ELSE 0 END), 0) AS fallbacks
FROM bot_messages WHERE workspace = %(ws)s AND ts >= %(start)s AND ts < %(end)s
"""
CSAT = """
SELECT %(in_period)s AS in_period, score, count(*) AS n
FROM bot_surveys WHERE workspace = %(ws)s AND ts >= %(start)s AND ts < %(end)s
GROUP BY score
"""
DIALOG = f"""
WITH {_BOT}, entered AS (
    SELECT f.flow, coalesce(k.type, f.sent_type, 'other') AS type, f.completed, f.fallbacks,
           f.last_step,
           (extract(epoch FROM f.last_at - f.first_at) * 1000000)::bigint AS in_flow_us,
           CASE WHEN b.outcome = 'abandoned_in_flow' AND b.last_flow = f.flow THEN 1 ELSE 0 END
               AS dropped
    FROM bot b
    JOIN bot_flows f ON f.workspace = %(ws)s AND f.conversation_id = b.conversation_id
    LEFT JOIN bot_catalogue k ON k.flow = f.flow
    WHERE b.outcome IN {_HANDLED} AND f.started_at >= %(start)s AND f.started_at < %(end)s
)
SELECT flow, type, last_step, GROUPING(type) = 0 AS by_type,
       GROUPING(last_step) = 0 AS by_step, count(*) AS entered,
       sum(CASE WHEN completed THEN 1 ELSE 0 END) AS completed, sum(fallbacks) AS fallbacks,
       sum(dropped) AS dropped,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY in_flow_us) AS median_us
FROM entered
GROUP BY GROUPING SETS ((flow), (flow, type), (flow, last_step))
"""
# PostgreSQL sums integers as bigint and bigints as numeric: back to Python's int.
_SUMS = ("total", "completed", "fallbacks", "dropped", "messages")


def load(store: Store, pg: psycopg.Connection, folder: Path, workspace: str = "demo") -> None:
    """Copy Chatbot Performance's rows and the workspace's flow catalogue into PostgreSQL
    (before the overview's `load`, whose VACUUM ANALYZE covers them)."""
    for table, (source, columns) in TABLES.items():
        copy_table(store, pg, folder, table, columns, source)
    pg.execute("CREATE TABLE bot_catalogue (flow text PRIMARY KEY, type text)")
    ws = store.workspace(workspace)
    with pg.cursor() as cur:
        cur.executemany(
            "INSERT INTO bot_catalogue VALUES (%s, %s)", sorted((ws.flow_types or {}).items())
        )
    for statement in INDEXES:
        pg.execute(statement)
    pg.commit()


def _rows(pg: psycopg.Connection, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    cursor = pg.execute(sql, params)
    names = [d.name for d in cursor.description or ()]
    rows = [dict(zip(names, values, strict=True)) for values in cursor]
    for row in rows:
        for column in _SUMS:
            if row.get(column) is not None:
                row[column] = int(row[column])
    return rows


def _params(store: Store, query: Query, *, previous: bool) -> dict[str, Any]:
    """A period's parameters (the query's or the previous one); a conversation still goes on
    when its last event is within the inactivity limit of the request's time."""
    ws = store.workspace(query.workspace)
    period = query.previous if previous else query.period
    return {
        "ws": query.workspace,
        "active_from": query.now - timedelta(seconds=ws.inactivity_seconds if ws else 600),
        "start": period.start,
        "end": period.end,
        "starts": [period.start] if previous else [b.start for b in query.buckets],
        "in_period": not previous,
    }


def postgres_chatbot(pg: psycopg.Connection, store: Store, query: Query) -> dict[str, Any]:
    """Chatbot Performance's numbers (no filters) from PostgreSQL: each statement for the
    period, then for the previous one, shaped by `chatbot.shape`."""
    now = _params(store, query, previous=False)
    before = _params(store, query, previous=True)
    fetched = chatbot.Fetched(
        outcomes=_rows(pg, OUTCOMES, now) + _rows(pg, OUTCOMES, before),
        fallbacks=_rows(pg, FALLBACKS, now) + _rows(pg, FALLBACKS, before),
        csat=_rows(pg, CSAT, now) + _rows(pg, CSAT, before),
        dialog=_rows(pg, DIALOG, now),
    )
    return _dumped(chatbot.shape(query, fetched))


# The page's own fields (the header and data quality are the runner's, alike on both sides).
_FIELDS = (
    "tiles",
    "outcomes",
    "automation_rate",
    "csat_breakdown",
    "first_flow_type",
    "transfers_by_last_flow",
    "dialog_performance",
)


def _dumped(fields: dict[str, Any]) -> dict[str, Any]:
    out = {key: fields[key] for key in _FIELDS}
    out["dialog_performance"] = [row.model_dump() for row in out["dialog_performance"]]
    return {k: v.model_dump() if hasattr(v, "model_dump") else v for k, v in out.items()}


def ours(store: Store, query: Query) -> dict[str, Any]:
    """`chatbot.run`'s numbers in the same shape."""
    result = chatbot.run(store, query).model_dump()
    return {key: result[key] for key in _FIELDS}


def plans(pg: psycopg.Connection, store: Store, query: Query) -> dict[str, str]:
    """The period's statements as PostgreSQL ran them (EXPLAIN ANALYZE), for bench/README.md."""
    params = _params(store, query, previous=False)
    return {
        name: plan_line(pg, sql, params)
        for name, sql in (("outcomes", OUTCOMES), ("fallbacks", FALLBACKS), ("dialog", DIALOG))
    }
