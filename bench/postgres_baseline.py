"""The PostgreSQL baseline: the overview computed the straightforward way peer products work.

Conversations and their events in PostgreSQL (Debian's server, started on a Unix socket in a
temporary folder) with plain B-tree indexes, and the overview's numbers computed in plain SQL
at each request. The suite checks every figure equal to `overview.run` before timing it, and
interleaves the two so that both see the same machine state. Part of the benchmark, not of
the product.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from bench.common import free_port
from bench.shape import by_name, mean
from convoscope.query import Query
from convoscope.store import Store

# The tables the overview reads, with their PostgreSQL columns (the DuckDB types mapped).
TABLES = {
    "conversations": (
        "workspace text, channel text, customer_id text, conversation_id text,"
        " started_at timestamp, ended_at timestamp, duration_us bigint, engaged boolean,"
        " escalated_at timestamp, support_type text, closed_at timestamp, department text,"
        " resolution_us bigint"
    ),
    "conversation_events": "workspace text, conversation_id text, ts timestamp, type text,"
    " sender text",
    "conversation_teammates": "workspace text, conversation_id text, teammate_id text",
}
# Covering B-trees (INCLUDE): each statement below is answered by an index-only scan of its
# period's range, the table's pages all-visible after VACUUM.
INDEXES = (
    "CREATE INDEX ON conversations (workspace, started_at)"
    " INCLUDE (engaged, duration_us, support_type, customer_id)",
    "CREATE INDEX ON conversations (workspace, closed_at)"
    " INCLUDE (department, resolution_us, conversation_id)",
    "CREATE INDEX ON conversations (workspace, ended_at) INCLUDE (started_at, engaged)",
    "CREATE INDEX ON conversation_events (workspace, ts) INCLUDE (sender, type)",
    "CREATE INDEX ON conversation_teammates (workspace, conversation_id) INCLUDE (teammate_id)",
)
# Server settings a tuned installation for short analytical queries would have: no JIT (its
# compile time exceeds these statements' run time), SSD page costs, the cache it really has.
SETTINGS = (
    "-c shared_buffers=1GB -c work_mem=64MB -c jit=off -c random_page_cost=1.1"
    " -c effective_cache_size=8GB"
)

TILES = """
SELECT count(*), count(*) FILTER (WHERE engaged), count(DISTINCT customer_id),
       sum(duration_us) FILTER (WHERE engaged),
       sum(duration_us) FILTER (WHERE engaged AND support_type = 'teammate'),
       sum(duration_us) FILTER (WHERE engaged AND support_type = 'chatbot'),
       count(*) FILTER (WHERE support_type = 'teammate'),
       count(*) FILTER (WHERE support_type = 'chatbot'),
       count(*) FILTER (WHERE engaged AND support_type = 'teammate'),
       count(*) FILTER (WHERE engaged AND support_type = 'chatbot')
FROM conversations WHERE workspace = %(ws)s AND started_at >= %(start)s AND started_at < %(end)s
"""
# Buckets by binary search in the array of their starts (`width_bucket`: buckets are
# contiguous and may be uneven, a day of 23 hours, a month), not a range join to a series.
ENGAGEMENT = """
SELECT width_bucket(started_at, %(starts)s::timestamp[]) - 1,
       count(*) FILTER (WHERE engaged), count(*) FILTER (WHERE NOT engaged)
FROM conversations
WHERE workspace = %(ws)s AND started_at >= %(start)s AND started_at < %(end)s GROUP BY 1
"""
EVENTS = """
SELECT width_bucket(ts, %(starts)s::timestamp[]) - 1,
       count(*) FILTER (WHERE sender = 'teammate'), count(*) FILTER (WHERE sender = 'chatbot'),
       count(*) FILTER (WHERE sender = 'customer'),
       count(*) FILTER (WHERE type = 'transfer_request')
FROM conversation_events
WHERE workspace = %(ws)s AND ts >= %(start)s AND ts < %(end)s GROUP BY 1
"""
# A conversation is in progress in every bucket from the one it starts in (or the first) to
# the one it ends in (or the last).
IN_PROGRESS = """
SELECT b - 1, count(*)
FROM conversations c,
     generate_series(greatest(width_bucket(c.started_at, %(starts)s::timestamp[]), 1),
                     width_bucket(c.ended_at, %(starts)s::timestamp[])) AS b
WHERE c.workspace = %(ws)s AND c.engaged AND c.started_at < %(end)s AND c.ended_at >= %(start)s
GROUP BY 1
"""
DEPARTMENTS = """
WITH closed AS (
    SELECT * FROM conversations
    WHERE workspace = %(ws)s AND closed_at >= %(start)s AND closed_at < %(end)s
), involved AS (
    SELECT c.department, count(DISTINCT t.teammate_id) AS teammates
    FROM closed c JOIN conversation_teammates t
      ON t.workspace = c.workspace AND t.conversation_id = c.conversation_id
    GROUP BY c.department
)
SELECT c.department, count(*), coalesce(max(i.teammates), 0), sum(c.resolution_us),
       count(c.resolution_us)
FROM closed c LEFT JOIN involved i ON i.department IS NOT DISTINCT FROM c.department
GROUP BY c.department
"""


def _as_postgres(*command: str) -> list[str]:
    """PostgreSQL refuses to run as root: run its programs as the `postgres` user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


@contextmanager
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a Unix socket in a temporary folder of its own (the
    `postgres` user must reach it when we run as root); yields a connection string."""
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
    with tempfile.TemporaryDirectory(prefix="convoscope-pg-") as tmp:
        folder = Path(tmp)
        if os.geteuid() == 0:
            folder.chmod(0o755)
            shutil.chown(folder, "postgres")
        yield from _cluster(binaries, folder)


def _cluster(binaries: str, folder: Path) -> Iterator[str]:
    data, port = folder / "pg", free_port()
    subprocess.run(
        _as_postgres(f"{binaries}/initdb", "-D", str(data), "-U", "bench", "--auth=trust"),
        check=True,
        capture_output=True,
    )
    options = f"-k {folder} -p {port} -c listen_addresses='' {SETTINGS}"
    # The server logs to a file: it would keep a captured pipe open and hang this process.
    ctl = [f"{binaries}/pg_ctl", "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w"]
    subprocess.run(_as_postgres(*ctl, "start"), check=True, stdout=subprocess.DEVNULL)
    try:
        yield f"host={folder} port={port} user=bench dbname=postgres"
    finally:
        subprocess.run(
            _as_postgres(*ctl, "stop", "-m", "fast"), check=True, stdout=subprocess.DEVNULL
        )


def load(store: Store, pg: psycopg.Connection, folder: Path) -> float:
    """Copy the overview's tables from DuckDB into PostgreSQL (through CSV), index, analyze."""
    started = time.perf_counter()
    for table, columns in TABLES.items():
        copy_table(store, pg, folder, table, columns)
    for statement in INDEXES:
        pg.execute(statement)
    pg.commit()
    pg.autocommit = True  # VACUUM runs outside a transaction
    pg.execute("VACUUM ANALYZE")  # all-visible pages: index-only scans
    pg.autocommit = False
    return time.perf_counter() - started


def copy_table(
    store: Store, pg: psycopg.Connection, folder: Path, table: str, columns: str, source: str = ""
) -> None:
    """Create `table` (`columns`: PostgreSQL's) and fill it from DuckDB's `source` (default:
    the table of that name) through a CSV file."""
    names = ", ".join(c.split()[0] for c in columns.split(","))
    path = folder / f"{table}.csv"
    store.con.execute(
        f"COPY (SELECT {names} FROM {source or table} AS t) TO '{path}' (HEADER false)"
    )
    pg.execute(f"CREATE TABLE {table} ({columns})")
    sql = f"COPY {table} ({names}) FROM STDIN (FORMAT csv)"
    with pg.cursor().copy(sql) as copy, path.open("rb") as f:
        while chunk := f.read(1 << 20):
            copy.write(chunk)
    path.unlink()


def plans(pg: psycopg.Connection, query: Query) -> dict[str, str]:
    """Each statement's plan for `query` as PostgreSQL ran it (EXPLAIN ANALYZE): its nodes
    with the index used and the time, for bench/README.md."""
    params = _params(query)
    return {
        name: plan_line(pg, sql, params)
        for name, sql in (
            ("tiles", TILES),
            ("engagement", ENGAGEMENT),
            ("events", EVENTS),
            ("in_progress", IN_PROGRESS),
            ("departments", DEPARTMENTS),
        )
    }


def plan_line(pg: psycopg.Connection, sql: str, params: dict) -> str:
    """A statement's plan as PostgreSQL ran it: its nodes, the index each scan used, the time."""
    ((plan,),) = pg.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params).fetchall()
    nodes = " > ".join(_nodes(plan[0]["Plan"]))
    return f"{nodes} ({plan[0]['Execution Time']:.1f} ms)"


def _nodes(node: dict) -> list[str]:
    """A plan's nodes, depth first, with the index each scan used."""
    index = f" on {node['Index Name']}" if "Index Name" in node else ""
    return [f"{node['Node Type']}{index}"] + [
        n for child in node.get("Plans", ()) for n in _nodes(child)
    ]


def _params(query: Query) -> dict:
    return {
        "ws": query.workspace,
        "start": query.period.start,
        "end": query.period.end,
        "starts": [b.start for b in query.buckets],
    }


def postgres_overview(pg: psycopg.Connection, query: Query) -> dict:
    """The overview's numbers (no filters) from PostgreSQL, shaped like `overview.run`'s."""
    n = len(query.buckets)
    params = _params(query)

    def series(sql: str, width: int) -> list[list[int]]:
        rows = pg.execute(sql, params).fetchall()
        out = [[0] * n for _ in range(width)]
        for idx, *values in rows:
            for column, value in enumerate(values):
                out[column][idx] = int(value)
        return out

    def tiles(start: object, end: object) -> tuple:
        row = pg.execute(TILES, {**params, "start": start, "end": end}).fetchone() or ()
        means = (mean(row[3], row[1]), mean(row[4], row[8]), mean(row[5], row[9]))
        return (*row[:3], *means), tuple(row[6:])

    (current, support), (previous, _) = (
        tiles(query.period.start, query.period.end),
        tiles(query.previous.start, query.previous.end),
    )
    engaged, non_engaged = series(ENGAGEMENT, 2)
    teammate, chatbot, customer, transfers = series(EVENTS, 4)
    (in_progress,) = series(IN_PROGRESS, 1)
    departments = sorted(
        ((d, int(c), int(t), mean(r, n)) for d, c, t, r, n in pg.execute(DEPARTMENTS, params)),
        key=by_name,
    )
    return {
        "tiles": current,
        "previous": previous,
        "support": support,
        "series": [engaged, non_engaged, teammate, chatbot, customer, transfers, in_progress],
        "departments": departments,
    }
