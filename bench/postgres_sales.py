"""Sales Attribution on the PostgreSQL baseline: the same derived rows (the commerce events,
the messages with their conversation, the engaged conversations) copied into the cluster of
`postgres_baseline` with the B-tree indexes each step of the attribution probes, and the
page's statement written for PostgreSQL (its steps as in `sales._ATTRIBUTION`, a message
within the window as a time range rather than a difference, so that an index serves it; the
buckets by `width_bucket` over their starts). Both periods in one statement, as the page
does, since PostgreSQL's cost too is mostly what they share. The rows are shaped by the page's
own code (`sales.shape`), so only the SQL differs, and checked equal to `sales.run` before
they are timed (no filters, like the others).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg

from bench.postgres_baseline import copy_table, plan_line
from convoscope.pages import sales
from convoscope.query import Query
from convoscope.store import Store
from convoscope.store.workspaces import ATTRIBUTION_WINDOW_SECONDS

TABLES = {
    "shop_events": (
        "commerce",
        "workspace text, channel text, customer_id text, seq bigint, ts timestamp, type text,"
        " customer_ref text, order_id text, amount numeric, amount_scale integer,"
        " currency text, source text, test boolean",
    ),
    "shop_messages": (
        "(SELECT * FROM conversation_events WHERE type = 'message')",
        "workspace text, channel text, customer_id text, conversation_id text, ts timestamp,"
        " event_id text, sender text, teammate_id text, welcome boolean",
    ),
    "shop_conversations": (
        "(SELECT * FROM conversations WHERE engaged)",
        "workspace text, conversation_id text, started_at timestamp, ended_at timestamp,"
        " channel text, customer_id text, department text",
    ),
}
INDEXES = (
    "CREATE INDEX ON shop_events (workspace, type, ts) INCLUDE (order_id, amount, amount_scale,"
    " currency, customer_ref, source, channel, customer_id, test)",
    "CREATE INDEX ON shop_events (workspace, type, order_id) INCLUDE (amount, amount_scale,"
    " currency)",
    "CREATE INDEX ON shop_events (workspace, type, customer_ref) INCLUDE (channel, customer_id)",
    "CREATE INDEX ON shop_events (workspace, type, channel, customer_id, ts DESC, seq DESC)"
    " INCLUDE (customer_ref)",
    "CREATE INDEX ON shop_messages (workspace, channel, customer_id, ts) INCLUDE (conversation_id)",
    "CREATE INDEX ON shop_messages (conversation_id, ts) INCLUDE (workspace, channel,"
    " customer_id, event_id, sender, teammate_id, welcome)",
    "CREATE UNIQUE INDEX ON shop_conversations (conversation_id) INCLUDE (workspace, started_at,"
    " ended_at, channel, customer_id, department)",
)

_PERIODS = (
    "ts >= %(previous_start)s AND ts < %(end)s AND (ts >= %(start)s OR ts < %(previous_end)s)"
)
FIGURES = f"""
WITH orders AS (
    SELECT order_id, ts, amount, amount_scale, currency, customer_ref, source,
           nullif(channel, '') AS channel, nullif(customer_id, '') AS customer_id,
           ts >= %(start)s AS in_period
    FROM shop_events
    WHERE workspace = %(ws)s AND type = 'order' AND NOT test AND {_PERIODS}
), refunds AS (
    SELECT r.order_id, sum(r.amount) AS refunded, max(r.amount_scale) AS refund_scale
    FROM shop_events r JOIN orders o ON o.order_id = r.order_id AND o.currency = r.currency
    WHERE r.workspace = %(ws)s AND r.type = 'refund'
    GROUP BY r.order_id
), identified AS (
    SELECT DISTINCT ON (i.channel, i.customer_id) i.channel, i.customer_id, i.customer_ref
    FROM shop_events i
    JOIN (SELECT DISTINCT j.channel, j.customer_id
          FROM shop_events j JOIN (SELECT DISTINCT customer_ref FROM orders) r
            ON r.customer_ref = j.customer_ref
          WHERE j.workspace = %(ws)s AND j.type = 'identify') t
      ON t.channel = i.channel AND t.customer_id = i.customer_id
    WHERE i.workspace = %(ws)s AND i.type = 'identify'
    ORDER BY i.channel, i.customer_id, i.ts DESC, i.seq DESC
), threads AS (
    SELECT order_id, ts AS order_ts, channel, customer_id FROM orders WHERE channel IS NOT NULL
    UNION
    SELECT o.order_id, o.ts, i.channel, i.customer_id
    FROM orders o JOIN identified i ON i.customer_ref = o.customer_ref
), touched AS (
    SELECT t.order_id, t.order_ts, e.conversation_id, max(e.ts) AS last_touch
    FROM threads t
    JOIN shop_messages e ON e.workspace = %(ws)s AND e.channel = t.channel
     AND e.customer_id = t.customer_id AND e.ts <= t.order_ts
     AND e.ts >= t.order_ts - %(window)s
    GROUP BY t.order_id, t.order_ts, e.conversation_id
), candidates AS (
    SELECT t.order_id, t.order_ts, t.conversation_id, t.last_touch, c.started_at, c.channel,
           c.customer_id, c.department
    FROM touched t JOIN shop_conversations c ON c.conversation_id = t.conversation_id
    WHERE c.workspace = %(ws)s
), credited AS (
    SELECT k.order_id, k.conversation_id, e.ts, e.event_id, e.sender, e.teammate_id
    FROM candidates k
    JOIN shop_messages e ON e.conversation_id = k.conversation_id AND e.ts <= k.order_ts
     AND e.workspace = %(ws)s AND e.channel = k.channel AND e.customer_id = k.customer_id
    WHERE e.sender = 'teammate' OR (e.sender = 'chatbot' AND NOT coalesce(e.welcome, false))
), teammate AS (
    SELECT DISTINCT ON (order_id) order_id, conversation_id, teammate_id
    FROM credited WHERE sender = 'teammate'
    ORDER BY order_id, ts DESC, event_id COLLATE "C" DESC
), latest_touch AS (
    SELECT DISTINCT ON (order_id) order_id, conversation_id
    FROM candidates
    ORDER BY order_id, last_touch DESC, started_at DESC, channel COLLATE "C",
             customer_id COLLATE "C"
), attributed AS (
    SELECT l.order_id, coalesce(m.conversation_id, l.conversation_id) AS conversation_id,
           m.teammate_id,
           l.order_id IN (SELECT order_id FROM credited WHERE sender = 'chatbot') AS assisted
    FROM latest_touch l LEFT JOIN teammate m ON m.order_id = l.order_id
), placed AS (
    SELECT o.in_period, o.ts, o.amount, coalesce(r.refunded, 0) AS refunded,
           greatest(o.amount_scale, coalesce(r.refund_scale, 0)) AS scale, o.currency,
           o.source,
           CASE WHEN a.order_id IS NOT NULL THEN 'attributed'
                WHEN o.order_id IN (SELECT order_id FROM threads) THEN 'not_attributed'
                ELSE 'unmatched' END AS status,
           a.teammate_id, coalesce(a.assisted, false) AS chatbot_assisted, k.last_touch
    FROM orders o
    LEFT JOIN refunds r ON r.order_id = o.order_id
    LEFT JOIN attributed a ON a.order_id = o.order_id
    LEFT JOIN candidates k ON k.order_id = a.order_id AND k.conversation_id = a.conversation_id
), split AS (
    SELECT in_period, currency, status, teammate_id, scale, true AS in_scope,
           teammate_id IS NOT NULL AS with_teammate, chatbot_assisted AS assisted,
           coalesce(source = 'chat', false) AS direct,
           greatest(amount - refunded, 0) AS net,
           status = 'attributed' AS credited,
           CASE WHEN amount - refunded > 0 THEN 1 ELSE 0 END AS counted,
           CASE WHEN status = 'attributed'
                THEN (extract(epoch FROM ts - last_touch) * 1000000)::bigint END AS wait_us,
           CASE WHEN in_period THEN width_bucket(ts, %(starts)s::timestamp[]) - 1 END AS idx
    FROM placed
)
SELECT in_period, currency, credited, with_teammate, assisted, direct, counted, teammate_id, idx,
       in_scope, status,
       GROUPING(currency) = 0 AS by_currency, GROUPING(assisted) = 0 AS by_split,
       GROUPING(teammate_id) = 0 AS by_teammate, GROUPING(idx) = 0 AS by_bucket,
       GROUPING(status) = 0 AS by_status,
       sum(net) AS total, count(*) AS n, max(scale) AS scale,
       count(wait_us) FILTER (WHERE credited) AS waits,
       sum(wait_us) FILTER (WHERE credited) AS wait_total,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY wait_us) FILTER (WHERE credited) AS median,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY wait_us) FILTER (WHERE credited) AS p90
FROM split
GROUP BY GROUPING SETS ((in_period, currency),
                        (in_period, currency, credited, with_teammate, assisted, direct, counted),
                        (in_period, credited, teammate_id, currency, counted),
                        (in_period, credited, idx, currency, with_teammate, counted),
                        (in_period, in_scope, status), (in_period))
"""
ORPHAN_REFUNDS = """
SELECT count(*) FROM shop_events r
WHERE r.workspace = %(ws)s AND r.type = 'refund' AND r.ts >= %(start)s AND r.ts < %(end)s
  AND NOT EXISTS (SELECT 1 FROM shop_events o
                  WHERE o.workspace = %(ws)s AND o.type = 'order' AND o.order_id = r.order_id
                    AND o.currency = r.currency)
"""


def load(store: Store, pg: psycopg.Connection, folder: Path) -> None:
    """Copy Sales Attribution's rows into PostgreSQL (before the overview's `load`, whose
    VACUUM ANALYZE covers them)."""
    for table, (source, columns) in TABLES.items():
        copy_table(store, pg, folder, table, columns, source)
    for statement in INDEXES:
        pg.execute(statement)
    pg.commit()


def _params(store: Store, query: Query) -> dict[str, Any]:
    ws = store.workspace(query.workspace)
    window = ws.attribution_window_seconds if ws else ATTRIBUTION_WINDOW_SECONDS
    return {
        "ws": query.workspace,
        "start": query.period.start,
        "end": query.period.end,
        "previous_start": query.previous.start,
        "previous_end": query.previous.end,
        "window": timedelta(seconds=window),
        "starts": [b.start for b in query.buckets],
    }


def postgres_sales(pg: psycopg.Connection, store: Store, query: Query) -> dict[str, Any]:
    """Sales Attribution's numbers (no filters) from PostgreSQL, shaped by `sales.shape`."""
    params = _params(store, query)
    cursor = pg.execute(FIGURES, params)
    names = [d.name for d in cursor.description or ()]
    rows = [dict(zip(names, values, strict=True)) for values in cursor]
    for row in rows:  # PostgreSQL sums bigints as numeric: back to Python's int
        if row["wait_total"] is not None:
            row["wait_total"] = int(row["wait_total"])
    ((orphans,),) = pg.execute(ORPHAN_REFUNDS, params).fetchall()
    return _dumped(sales.shape(query, rows, orphans))


# The page's own fields (the header is the runner's, alike on both sides).
_FIELDS = ("currency", "currencies", "time_to_purchase_seconds", "series", "by_teammate", "orders")


def _dumped(fields: dict[str, Any]) -> dict[str, Any]:
    out = {key: fields[key] for key in _FIELDS}
    out["currencies"] = {code: c.model_dump() for code, c in out["currencies"].items()}
    out["by_teammate"] = [row.model_dump() for row in out["by_teammate"]]
    return {k: v.model_dump() if hasattr(v, "model_dump") else v for k, v in out.items()}


def ours(store: Store, query: Query) -> dict[str, Any]:
    """`sales.run`'s numbers in the same shape."""
    result = sales.run(store, query).model_dump()
    return {key: result[key] for key in _FIELDS}


def plans(pg: psycopg.Connection, store: Store, query: Query) -> dict[str, str]:
    """The statements as PostgreSQL ran them (EXPLAIN ANALYZE), for bench/README.md."""
    params = _params(store, query)
    return {
        name: plan_line(pg, sql, params)
        for name, sql in (("figures", FIGURES), ("orphan_refunds", ORPHAN_REFUNDS))
    }
