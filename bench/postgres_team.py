"""Team Performance on the PostgreSQL baseline: the same derived rows (conversations, the
response waits, the surveys, the teammates' messages) copied into the cluster of
`postgres_baseline` with covering B-tree indexes, and the page's figures computed in plain SQL
at each request: the items of SPEC section 5 as one materialized CTE, then percentiles
(`percentile_cont`) per metric and teammate and sums per bucket (`width_bucket`) and score.
Business hours are the workspace's UTC intervals over the data's span, computed once by
`business_hours.intervals` (the same input convoscope reads) and indexed. Checked equal to
`team.run` before it is timed (no filters, like the overview's baseline).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from bench.postgres_baseline import copy_table
from convoscope import business_hours
from convoscope.pages import team
from convoscope.query import Query
from convoscope.store import Store

# Team Performance's tables and columns (the DuckDB types mapped), added to the overview's.
TABLES = {
    "team_conversations": (
        "conversations",
        "workspace text, conversation_id text, first_responder text,"
        " first_response_at timestamp, initial_response_us bigint, closed_by text,"
        " last_responder text, escalated_at timestamp, closed_at timestamp,"
        " resolution_us bigint, transferred boolean",
    ),
    "team_waits": (
        "response_waits",
        "workspace text, conversation_id text, teammate_id text, answered_at timestamp,"
        " response_us bigint",
    ),
    "team_surveys": (
        "surveys",
        "workspace text, conversation_id text, ts timestamp, score bigint, about text",
    ),
    "team_messages": (
        "(SELECT * FROM conversation_events WHERE sender = 'teammate')",
        "workspace text, conversation_id text, teammate_id text, ts timestamp",
    ),
}
INDEXES = (
    "CREATE INDEX ON team_conversations (workspace, first_response_at)"
    " INCLUDE (first_responder, initial_response_us, conversation_id)",
    "CREATE INDEX ON team_conversations (workspace, closed_at)"
    " INCLUDE (escalated_at, closed_by, resolution_us, conversation_id)",
    "CREATE INDEX ON team_conversations (workspace, escalated_at)"
    " INCLUDE (transferred, conversation_id)",
    "CREATE INDEX ON team_conversations (workspace, conversation_id)"
    " INCLUDE (closed_by, last_responder)",
    "CREATE INDEX ON team_waits (workspace, answered_at)"
    " INCLUDE (teammate_id, response_us, conversation_id)",
    "CREATE INDEX ON team_surveys (workspace, ts) INCLUDE (about, score, conversation_id)",
    "CREATE INDEX ON team_messages (workspace, ts) INCLUDE (teammate_id, conversation_id)",
    "CREATE INDEX ON team_hours (start_at) INCLUDE (end_at)",
)

ITEMS = """
WITH closed AS (
    SELECT conversation_id, closed_by, escalated_at, closed_at, resolution_us
    FROM team_conversations
    WHERE workspace = %(ws)s AND escalated_at IS NOT NULL
      AND closed_at >= %(start)s AND closed_at < %(end)s
), items AS MATERIALIZED (
    SELECT 'initial_response' AS metric, first_responder AS teammate_id,
           first_response_at AS at, initial_response_us AS value, conversation_id
    FROM team_conversations
    WHERE workspace = %(ws)s AND initial_response_us IS NOT NULL
      AND first_response_at >= %(start)s AND first_response_at < %(end)s
    UNION ALL
    SELECT 'response', teammate_id, answered_at, response_us, conversation_id FROM team_waits
    WHERE workspace = %(ws)s AND answered_at >= %(start)s AND answered_at < %(end)s
    UNION ALL
    SELECT 'resolution', closed_by, closed_at, resolution_us, conversation_id FROM closed
    UNION ALL
    SELECT 'resolution_business', c.closed_by, c.closed_at,
           coalesce((SELECT sum((extract(epoch FROM least(h.end_at, c.closed_at)
                                 - greatest(h.start_at, c.escalated_at)) * 1000000)::bigint)
                     FROM team_hours h
                     WHERE h.start_at < c.closed_at AND h.end_at > c.escalated_at), 0),
           c.conversation_id
    FROM closed c
    UNION ALL
    SELECT 'csat', coalesce(c.closed_by, c.last_responder), s.ts, s.score, s.conversation_id
    FROM team_surveys s JOIN team_conversations c
      ON c.workspace = s.workspace AND c.conversation_id = s.conversation_id
    WHERE s.workspace = %(ws)s AND s.ts >= %(start)s AND s.ts < %(end)s
      AND s.about = 'teammate'
    UNION ALL
    SELECT 'addressed', teammate_id, ts, NULL, conversation_id FROM team_messages
    WHERE workspace = %(ws)s AND ts >= %(start)s AND ts < %(end)s
    UNION ALL
    SELECT 'transfer', NULL, escalated_at, NULL, conversation_id FROM team_conversations
    WHERE workspace = %(ws)s AND transferred
      AND escalated_at >= %(start)s AND escalated_at < %(end)s
)
SELECT metric, teammate_id, NULL::int AS idx, NULL::bigint AS score,
       GROUPING(teammate_id) = 0 AS by_teammate, false AS by_bucket, false AS by_score,
       count(*) AS n, sum(value) AS total,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY value) AS median,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY value) AS p90,
       count(DISTINCT conversation_id) FILTER (WHERE metric = 'addressed') AS conversations
FROM items
GROUP BY GROUPING SETS ((metric), (metric, teammate_id))
UNION ALL
SELECT metric, NULL, width_bucket(at, %(starts)s::timestamp[]) - 1, score,
       false, GROUPING(width_bucket(at, %(starts)s::timestamp[])) = 0, GROUPING(score) = 0,
       count(*), sum(value), NULL, NULL, NULL
FROM (SELECT *, CASE WHEN metric = 'csat' THEN value END AS score FROM items) AS i
GROUP BY GROUPING SETS ((metric, width_bucket(at, %(starts)s::timestamp[])), (metric, score))
"""


def load(store: Store, pg: psycopg.Connection, folder: Path, workspace: str = "demo") -> None:
    """Copy Team Performance's rows into PostgreSQL, and the workspace's business hours as
    intervals (before the overview's `load`, whose VACUUM ANALYZE covers them)."""
    for table, (source, columns) in TABLES.items():
        copy_table(store, pg, folder, table, columns, source)
    pg.execute("CREATE TABLE team_hours (start_at timestamp, end_at timestamp)")
    ws = store.workspace(workspace)
    first, last = store.con.execute(
        "SELECT min(escalated_at), max(closed_at) FROM conversations WHERE workspace = $ws",
        {"ws": workspace},
    ).fetchone() or (None, None)
    if ws is not None and ws.business_hours and business_hours.any_set(ws.business_hours) and first:
        spans = list(business_hours.intervals(first, last, ws.business_hours, ws.timezone))
    else:  # open around the clock
        spans = [(datetime(1900, 1, 1), datetime(3000, 1, 1))]
    with pg.cursor() as cur:
        cur.executemany("INSERT INTO team_hours VALUES (%s, %s)", spans)
    for statement in INDEXES:
        pg.execute(statement)
    pg.commit()


def _params(query: Query, start: datetime, end: datetime, starts: list[datetime]) -> dict:
    return {"ws": query.workspace, "start": start, "end": end, "starts": starts}


def _figures(pg: psycopg.Connection, params: dict) -> team._Figures:
    """The aggregation rows, filed and later shaped by the page's own code (`team`), so that
    only the SQL differs from convoscope's."""
    columns: tuple[str, ...] = ("metric", "teammate_id", "idx", "score", "by_teammate")
    columns += ("by_bucket", "by_score")
    columns += ("n", "total", "median", "p90", "conversations")
    rows = [dict(zip(columns, values, strict=True)) for values in pg.execute(ITEMS, params)]
    for row in rows:  # PostgreSQL sums bigints as numeric
        row["total"] = None if row["total"] is None else int(row["total"])
    return team._Figures(rows)


def _shape(current: team._Figures, previous: team._Figures, query: Query) -> dict[str, Any]:
    n = len(query.buckets)
    return {
        "tiles": team._tiles(current).model_dump(),
        "previous": team._tiles(previous).model_dump(),
        "efficiency": {
            f"{m}_seconds" if m != "csat" else m: team._series(current, m, n)
            for m in ("initial_response", "response", "resolution", "csat")
        },
        "scores": {str(s): current.score.get(s, 0) for s in range(1, 6)},
        "teammates": [row.model_dump() for row in team._rows(current, query)],
    }


def postgres_team(pg: psycopg.Connection, query: Query) -> dict[str, Any]:
    """Team Performance's numbers (no filters) from PostgreSQL: the period and the previous one."""
    starts = [b.start for b in query.buckets]
    current = _figures(pg, _params(query, query.period.start, query.period.end, starts))
    previous = _figures(
        pg, _params(query, query.previous.start, query.previous.end, [query.previous.start])
    )
    return _shape(current, previous, query)


def same(a: Any, b: Any) -> bool:
    """Equal figures, a second within a microsecond: both engines interpolate a percentile in
    doubles, so one that lies on half a microsecond can round either way (seen once: a p90 of
    3,060.726143 s here, 3,060.726144 s there). Counts must be equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1.5e-6
    return bool(a == b)


def ours(store: Store, query: Query) -> dict[str, Any]:
    """`team.run`'s numbers in the same shape."""
    r = team.run(store, query)
    return {
        "tiles": r.tiles.model_dump(exclude={"previous"}),
        "previous": r.tiles.previous.model_dump(),
        "efficiency": r.efficiency.model_dump(),
        "scores": r.csat_breakdown,
        "teammates": [row.model_dump() for row in r.by_teammate],
    }
