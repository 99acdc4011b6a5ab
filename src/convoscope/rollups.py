"""Rollups: the overview's summable numbers per 15-minute UTC slot, kept exact by deltas.

A period's series and tiles are sums over its slots instead of scans of its conversations and
events, so a year costs about as much as a day. 15 minutes is the grain that serves every
bucket of every IANA zone in use (every UTC offset today is a multiple of 15 minutes, e.g.
+05:45); a query whose bucket edges fall elsewhere reads the rows instead (see `overview`).
The rows are keyed by workspace, slot, channel and department (the department of the
conversation's close, null for none), the dimensions of the channel and department filters;
the teammate filter is a property of conversations a sum cannot carry, so with it the overview
reads the rows. Distinct counts (unique customers, teammates involved) are never summed: they
are counted from the time-ordered rows.

- `event_slots`: messages by sender and transfer requests, by the event's slot;
- `conversation_slots`: conversations, engaged ones, their durations and support types by the
  slot of their start, and `engaged_ends` by the slot of their end (an engaged conversation is
  in progress in a bucket from its start to its end: the traffic chart's count is a running
  sum of starts minus ends).

Maintenance is in the re-cut's transaction (`conversations.refresh`), so an accepted event is
in the very next read: the derived rows the re-cut deletes are returned by the delete
(`remove`), and `apply` adds the new rows' contributions and subtracts the old ones (slots
whose numbers did not change cancel out) and drops rows that fall to zero, in one `MERGE` a
rollup. A rebuild starts from empty tables with the same code.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

SLOT = "INTERVAL 15 MINUTE"
KEYS = ("workspace", "slot", "channel", "department")


@dataclass(frozen=True)
class Rollup:
    table: str
    measures: tuple[str, ...]
    # One row per contribution (KEYS, then measures) from a set of conversations named
    # {conversations} and, for events, their events named {events}.
    rows: str


EVENT_SLOTS = Rollup(
    "event_slots",
    ("teammate_messages", "chatbot_messages", "customer_messages", "transfer_requests"),
    f"""
    SELECT e.workspace, time_bucket({SLOT}, e.ts) AS slot, e.channel, c.department,
           CASE WHEN e.sender = 'teammate' THEN 1 ELSE 0 END,
           CASE WHEN e.sender = 'chatbot' THEN 1 ELSE 0 END,
           CASE WHEN e.sender = 'customer' THEN 1 ELSE 0 END,
           CASE WHEN e.type = 'transfer_request' THEN 1 ELSE 0 END
    FROM {{events}} AS e
    JOIN {{conversations}} AS c
      ON c.workspace = e.workspace AND c.conversation_id = e.conversation_id
    """,
)

CONVERSATION_SLOTS = Rollup(
    "conversation_slots",
    (
        "conversations",
        "teammate_supported",
        "chatbot_supported",
        "engaged",
        "engaged_teammate",
        "engaged_chatbot",
        "engaged_duration_us",
        "engaged_teammate_duration_us",
        "engaged_chatbot_duration_us",
        "engaged_ends",
    ),
    f"""
    SELECT workspace, time_bucket({SLOT}, started_at) AS slot, channel, department,
           1, CAST(support_type = 'teammate' AS BIGINT), CAST(support_type = 'chatbot' AS BIGINT),
           CAST(engaged AS BIGINT),
           CAST(engaged AND support_type = 'teammate' AS BIGINT),
           CAST(engaged AND support_type = 'chatbot' AS BIGINT),
           CASE WHEN engaged THEN duration_us ELSE 0 END,
           CASE WHEN engaged AND support_type = 'teammate' THEN duration_us ELSE 0 END,
           CASE WHEN engaged AND support_type = 'chatbot' THEN duration_us ELSE 0 END,
           0
    FROM {{conversations}}
    UNION ALL
    SELECT workspace, time_bucket({SLOT}, ended_at), channel, department,
           0, 0, 0, 0, 0, 0, 0, 0, 0, 1
    FROM {{conversations}}
    WHERE engaged
    """,
)

ROLLUPS = (EVENT_SLOTS, CONVERSATION_SLOTS)


def fill(rollup: Rollup) -> str:
    """The statement that fills an empty rollup from the derived tables (a migration's)."""
    return f"INSERT INTO {rollup.table} {summed(rollup)} ORDER BY slot;"


def summed(rollup: Rollup, **tables: str) -> str:
    """The rollup's rows of a set of derived rows, summed: from the tables `conversations`
    and `events` name (default the derived tables). Spark computes a lake's rollups with it."""
    return _summed(rollup, _rows(rollup, "", **tables), "")


# The derived tables the rollups are made of, with the columns they need of a deleted row.
SOURCES = {
    "conversations": "workspace, conversation_id, channel, started_at, ended_at, duration_us,"
    " engaged, support_type, department",
    "conversation_events": "workspace, conversation_id, channel, ts, type, sender",
}


def remove(con: duckdb.DuckDBPyConnection, table: str, where: str, *, keep: bool) -> None:
    """Delete the rows of `table` (one of SOURCES) matching `where`; they become the temp
    table `old_<table>` for `apply` to subtract (empty unless `keep`: a rebuild empties the
    rollups instead)."""
    columns = SOURCES[table]
    if not keep:
        con.execute(f"DELETE FROM {table} {where}")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE old_{table} AS SELECT {columns} FROM {table} LIMIT 0"
        )
        return
    # `sql` runs the delete once and keeps its result (`execute` would copy it to Arrow again)
    old = con.sql(f"DELETE FROM {table} {where} RETURNING {columns}").to_arrow_table()
    con.register("returned", old)
    con.execute(f"CREATE OR REPLACE TEMP TABLE old_{table} AS SELECT * FROM returned")
    con.unregister("returned")


def apply(con: duckdb.DuckDBPyConnection, conversations: str, events: str) -> None:
    """Add the contributions of the new rows (`conversations`, `events`: the re-cut's tables)
    and subtract those of `remove`'s old rows, then drop the temp tables."""
    for rollup in ROLLUPS:
        new = _rows(rollup, "", conversations=conversations, events=events)
        old = _rows(
            rollup, "-", conversations="old_conversations", events="old_conversation_events"
        )
        changed = " OR ".join(f"{m} <> 0" for m in rollup.measures)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE slot_delta AS "
            f"{_summed(rollup, f'{new} UNION ALL {old}', f'HAVING {changed}')}"
        )
        _merge(con, rollup)
    for table in ("slot_delta", "old_conversations", "old_conversation_events"):
        con.execute(f"DROP TABLE {table}")


def _rows(rollup: Rollup, sign: str, **tables: str) -> str:
    """The contributions of a set of rows, negated with sign '-'."""
    names = ", ".join((*KEYS, *rollup.measures))
    values = ", ".join((*KEYS, *(f"{sign}{m}" for m in rollup.measures)))
    rows = rollup.rows.format(
        conversations=tables.get("conversations", "conversations"),
        events=tables.get("events", "conversation_events"),
    )
    return f"SELECT {values} FROM ({rows}) AS contribution({names})"


def _summed(rollup: Rollup, rows: str, having: str) -> str:
    sums = ", ".join(f"CAST(sum({m}) AS BIGINT) AS {m}" for m in rollup.measures)
    keys = ", ".join(KEYS)
    return f"SELECT {keys}, {sums} FROM ({rows}) AS r GROUP BY {keys} {having}"


def _merge(con: duckdb.DuckDBPyConnection, rollup: Rollup) -> None:
    """Add `slot_delta` into the rollup in one statement: add to the rows that exist, insert
    the others (in slot order, as a rebuild fills the table), delete the ones that fall to
    zero. The slot range lets DuckDB skip row groups (zone maps)."""
    (n, first, last) = con.execute(
        "SELECT count(*), min(slot), max(slot) FROM slot_delta"
    ).fetchone() or (0, None, None)
    if not n:
        return
    t = rollup.table
    match = (
        f"{t}.workspace = d.workspace AND {t}.slot = d.slot AND {t}.channel = d.channel"
        f" AND {t}.department IS NOT DISTINCT FROM d.department"
        f" AND {t}.slot BETWEEN $first AND $last"
    )
    sums = ", ".join(f"{m} = {t}.{m} + d.{m}" for m in rollup.measures)
    zero = " AND ".join(f"{t}.{m} + d.{m} = 0" for m in rollup.measures)
    con.execute(
        f"MERGE INTO {t} USING (FROM slot_delta ORDER BY slot) AS d ON {match} "
        f"WHEN MATCHED AND {zero} THEN DELETE WHEN MATCHED THEN UPDATE SET {sums} "
        "WHEN NOT MATCHED THEN INSERT",
        {"first": first, "last": last},
    )
