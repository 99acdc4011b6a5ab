"""The DuckDB file: where it lives, its schema and migrations, workspaces, and appending events.

Appending is where duplicates and conflicts are decided (against what is stored, in the
same transaction) and where arrival order (`seq`) is assigned. Deriving conversations from
the events is not done here but in `conversations`, which runs inside the transaction that
`Store.transaction` opens, so events and what is derived from them commit together.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import platformdirs
import pyarrow as pa

from convoscope import rollups
from convoscope.events import CONTENT_FIELDS, ConflictError, Event

DEFAULT_TIMEZONE = "America/Toronto"
SCHEMA_VERSION = 9


# Keys that make writes independent of history (schema 8). A thread key is a 64-bit digest of
# a thread's (workspace, channel, customer_id), an event key of an event's (workspace, event_id);
# MD5 rather than the engine's hash() so that stored keys never change with an upgrade. ART
# indexes on them let a write read only the rows of its threads and ids. Two threads may share
# a key: a write then re-derives both, which changes nothing.
def thread_key(alias: str = "") -> str:
    """SQL for the thread key of the row `alias` (a table alias, or none)."""
    a = f"{alias}." if alias else ""
    return f"md5_number_lower(concat_ws(chr(31), {a}workspace, {a}channel, {a}customer_id))"


def event_key(alias: str = "") -> str:
    """SQL for the event key of the row `alias`."""
    a = f"{alias}." if alias else ""
    return f"md5_number_lower(concat_ws(chr(31), {a}workspace, {a}event_id))"


# Key lists up to this size are looked up through the ART indexes of `events` (one probe per
# key); larger sets (bulk files, rebuilds) are joined, which reads the key column once. The
# derived tables have no index: an ART index costs about as much disk and memory as the table
# it serves, and their thread-key column is read in milliseconds.
INDEX_LOOKUP_KEYS = 5000
# DuckDB uses an index scan only below this many matching rows (its default, 2,048, is less
# than the history of a thousand busy threads).
INDEX_SCAN_MAX_ROWS = 200_000

# Each entry moves the schema from version i to i + 1; never edit one that has shipped.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE workspaces (
        name VARCHAR PRIMARY KEY,
        timezone VARCHAR NOT NULL,
        inactivity_seconds INTEGER NOT NULL DEFAULT 600,
        escalated_inactivity_seconds INTEGER NOT NULL DEFAULT 86400,
        created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
    );
    CREATE TABLE events (
        workspace VARCHAR NOT NULL,
        event_id VARCHAR NOT NULL,
        seq BIGINT NOT NULL,
        ts TIMESTAMP NOT NULL,
        channel VARCHAR NOT NULL,
        customer_id VARCHAR NOT NULL,
        type VARCHAR NOT NULL,
        sender VARCHAR,
        teammate_id VARCHAR,
        welcome BOOLEAN NOT NULL,
        department VARCHAR
    );
    CREATE TABLE conversations (
        workspace VARCHAR NOT NULL,
        channel VARCHAR NOT NULL,
        customer_id VARCHAR NOT NULL,
        conversation_id VARCHAR NOT NULL,
        started_at TIMESTAMP NOT NULL,
        ended_at TIMESTAMP NOT NULL,
        duration_us BIGINT NOT NULL,
        engaged BOOLEAN NOT NULL,
        escalated_at TIMESTAMP,
        transfer_requests INTEGER NOT NULL,
        support_type VARCHAR NOT NULL,
        closed_at TIMESTAMP,
        department VARCHAR,
        closed_by VARCHAR,
        first_response_at TIMESTAMP,
        resolution_us BIGINT,
        customer_messages INTEGER NOT NULL,
        chatbot_messages INTEGER NOT NULL,
        teammate_messages INTEGER NOT NULL
    );
    CREATE TABLE conversation_teammates (
        workspace VARCHAR NOT NULL,
        channel VARCHAR NOT NULL,
        customer_id VARCHAR NOT NULL,
        conversation_id VARCHAR NOT NULL,
        teammate_id VARCHAR NOT NULL
    );
    CREATE TABLE orphan_closes (
        workspace VARCHAR NOT NULL,
        channel VARCHAR NOT NULL,
        customer_id VARCHAR NOT NULL,
        event_id VARCHAR NOT NULL,
        ts TIMESTAMP NOT NULL
    );
    """,
    """
    ALTER TABLE workspaces ADD COLUMN business_hours VARCHAR;
    CREATE TABLE users (
        email VARCHAR PRIMARY KEY,
        workspace VARCHAR NOT NULL,
        role VARCHAR NOT NULL,
        password_hash VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
    );
    CREATE TABLE api_keys (
        key_id VARCHAR PRIMARY KEY,
        workspace VARCHAR NOT NULL,
        name VARCHAR,
        key_hash VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
        revoked_at TIMESTAMP
    );
    CREATE TABLE sessions (
        token_hash VARCHAR PRIMARY KEY,
        email VARCHAR NOT NULL,
        expires_at TIMESTAMP NOT NULL
    );
    """,
    """
    ALTER TABLE workspaces ADD COLUMN whatsapp_app_secret VARCHAR;
    ALTER TABLE workspaces ADD COLUMN whatsapp_verify_token VARCHAR;
    """,
    """
    ALTER TABLE api_keys ADD COLUMN scope VARCHAR NOT NULL DEFAULT 'admin';
    """,
    """
    CREATE TABLE whatsapp_numbers (
        phone_number_id VARCHAR PRIMARY KEY,
        workspace VARCHAR NOT NULL
    );
    """,
    """
    ALTER TABLE events ADD COLUMN score TINYINT;
    ALTER TABLE workspaces ADD COLUMN csat_window_seconds INTEGER NOT NULL DEFAULT 604800;
    CREATE TABLE surveys (
        workspace VARCHAR NOT NULL,
        channel VARCHAR NOT NULL,
        customer_id VARCHAR NOT NULL,
        event_id VARCHAR NOT NULL,
        ts TIMESTAMP NOT NULL,
        score TINYINT NOT NULL,
        conversation_id VARCHAR
    );
    ALTER TABLE conversations ADD COLUMN first_responder VARCHAR;
    ALTER TABLE conversations ADD COLUMN initial_response_from TIMESTAMP;
    ALTER TABLE conversations ADD COLUMN initial_response_us BIGINT;
    CREATE TABLE response_waits (
        workspace VARCHAR NOT NULL,
        channel VARCHAR NOT NULL,
        customer_id VARCHAR NOT NULL,
        conversation_id VARCHAR NOT NULL,
        waited_from TIMESTAMP NOT NULL,
        answered_at TIMESTAMP NOT NULL,
        teammate_id VARCHAR NOT NULL,
        response_us BIGINT NOT NULL
    );
    """,
    """
    ALTER TABLE conversations ADD COLUMN last_responder VARCHAR;
    ALTER TABLE conversations ADD COLUMN transferred BOOLEAN;
    CREATE TABLE conversation_events (
        workspace VARCHAR NOT NULL,
        channel VARCHAR NOT NULL,
        customer_id VARCHAR NOT NULL,
        conversation_id VARCHAR NOT NULL,
        ts TIMESTAMP NOT NULL,
        type VARCHAR NOT NULL,
        sender VARCHAR,
        teammate_id VARCHAR
    );
    """,
    # Rewritten rather than altered: DuckDB refuses an index over columns updated in the same
    # transaction. (Adding a column to an indexed table works; dropping one does not.)
    f"""
    CREATE TABLE events_v8 (
        workspace VARCHAR NOT NULL,
        event_id VARCHAR NOT NULL,
        seq BIGINT NOT NULL,
        ts TIMESTAMP NOT NULL,
        channel VARCHAR NOT NULL,
        customer_id VARCHAR NOT NULL,
        type VARCHAR NOT NULL,
        sender VARCHAR,
        teammate_id VARCHAR,
        welcome BOOLEAN NOT NULL,
        department VARCHAR,
        score TINYINT,
        thread_key UBIGINT NOT NULL,
        event_key UBIGINT NOT NULL
    );
    INSERT INTO events_v8 SELECT *, {thread_key()}, {event_key()} FROM events ORDER BY seq;
    DROP TABLE events;
    ALTER TABLE events_v8 RENAME TO events;
    CREATE INDEX events_thread_key ON events (thread_key);
    CREATE INDEX events_event_key ON events (event_key);
    """
    + "".join(
        f"""
    ALTER TABLE {table} ADD COLUMN thread_key UBIGINT;
    """
        for table in (
            "conversations",
            "conversation_teammates",
            "orphan_closes",
            "surveys",
            "response_waits",
            "conversation_events",
        )
    ),
    # Each conversation's teammates as a list (what the teammate filter and the teammates
    # involved read, without a join), and the rollups, filled from the derived tables (no
    # re-cut needed).
    """
    ALTER TABLE conversations ADD COLUMN teammates VARCHAR[];
    UPDATE conversations AS c SET teammates = t.teammates
    FROM (SELECT workspace, conversation_id, list_sort(list(DISTINCT teammate_id)) AS teammates
          FROM conversation_teammates GROUP BY ALL) AS t
    WHERE t.workspace = c.workspace AND t.conversation_id = c.conversation_id;
    UPDATE conversations SET teammates = [] WHERE teammates IS NULL;
    """
    + "".join(rollups.ddl(r) + rollups.fill(r) for r in rollups.ROLLUPS),
)
# Migrations that add derived facts: a database that had events before one of them ran must be
# rebuilt (`Store.derived_outdated`, kept in `meta` until a rebuild commits, so that an
# interrupted rebuild is done again), or the new facts stay empty for its old conversations.
DERIVED_MIGRATIONS = frozenset({6, 7, 8})
assert len(MIGRATIONS) == SCHEMA_VERSION
# The tables derived from `events` (see `conversations`), each keyed by thread: re-cut, erased
# and rebuilt together.
DERIVED_TABLES = (
    "conversations",
    "conversation_teammates",
    "orphan_closes",
    "surveys",
    "response_waits",
    "conversation_events",
)
# The tables summed from the derived ones (see `rollups`), keyed by workspace but not by thread.
ROLLUP_TABLES = tuple(r.table for r in rollups.ROLLUPS)


@cache
def parameters(sql: str) -> frozenset[str]:
    """The `$name` parameters of a statement, as DuckDB's own parser reads them (a `$x` inside
    a string or a comment is none)."""
    return frozenset(
        name for statement in duckdb.extract_statements(sql) for name in statement.named_parameters
    )


def bound(sql: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters of `params` that `sql` reads: statements share one parameter set (see
    `scope`), and DuckDB refuses parameters a statement does not name."""
    names = parameters(sql)
    return {k: v for k, v in params.items() if k in names}


def first_row(con: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> tuple | None:
    """The first row of a statement, with its result fully consumed.

    DuckDB 2 refuses `begin`, `commit` or `unregister` on a connection whose last result was
    only partly fetched, so single-row reads go through here rather than `fetchone`.
    """
    if isinstance(params, dict):
        params = bound(sql, params)
    rows = con.execute(sql, params).fetchall()
    return rows[0] if rows else None


def only_row(con: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> tuple:
    """The row of a statement that always returns exactly one (an aggregate, a DELETE count)."""
    row = first_row(con, sql, params)
    if row is None:
        raise RuntimeError(f"no row from: {sql.strip()[:60]}")
    return row


def default_db_path() -> Path:
    """`CONVOSCOPE_DB` if set, else `convoscope.duckdb` in the user's data directory."""
    env = os.environ.get("CONVOSCOPE_DB")
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("convoscope")) / "convoscope.duckdb"


@cache
def _iana_zones() -> frozenset[str]:
    """The zone names of the IANA database, as shipped by the `tzdata` package."""
    listing = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    return frozenset(listing.split())


def check_timezone(name: str) -> str:
    """Return `name` if it is an IANA zone name (as `America/Toronto`), else raise ValueError.

    Only names from the IANA database count: not `localtime`, a directory such as `America`,
    or a path, which `ZoneInfo` alone would try to open.
    """
    if name not in _iana_zones():
        shown = name if len(name) <= 64 else name[:64] + "..."
        raise ValueError(f"unknown IANA time zone {shown!r} (e.g. America/Toronto)")
    return name


@dataclass(frozen=True)
class Workspace:
    name: str
    timezone: str
    inactivity_seconds: int = 600
    escalated_inactivity_seconds: int = 86400
    business_hours: dict[str, list[list[str]]] | None = None


@dataclass(frozen=True)
class AppendResult:
    accepted: int
    duplicates: int


@dataclass(frozen=True)
class Appended:
    """What one append stored: results per workspace; the new events have `seq > after_seq`."""

    results: dict[str, AppendResult]
    after_seq: int


_EVENT_SCHEMA = pa.schema(
    [
        ("idx", pa.int64()),
        ("workspace", pa.string()),
        ("event_id", pa.string()),
        ("ts", pa.timestamp("us")),
        ("channel", pa.string()),
        ("customer_id", pa.string()),
        ("type", pa.string()),
        ("sender", pa.string()),
        ("teammate_id", pa.string()),
        ("welcome", pa.bool_()),
        ("department", pa.string()),
        ("score", pa.int8()),
    ]
)


def memory_limit() -> str:
    """DuckDB's memory cap: `CONVOSCOPE_MEMORY_LIMIT`, default 1GB (see `Store`)."""
    return os.environ.get("CONVOSCOPE_MEMORY_LIMIT", "1GB")


class StoreBusy(RuntimeError):
    """The database file is held by another process (DuckDB allows one writer process)."""


class WriterBusy(RuntimeError):
    """Another write of this process holds the database (see `Store.transaction`)."""


class Store:
    """One open database file. Thread-safe: each thread gets its own cursor.

    DuckDB's memory is capped (`CONVOSCOPE_MEMORY_LIMIT`, default 1GB; DuckDB's own default is
    80% of RAM) so that a large import spills to disk instead of growing with the file.
    """

    rollups = True  # the rollup tables are kept with the rows (see `rollups`)

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path is not None else default_db_path()
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(
                str(self.path),
                config={"memory_limit": memory_limit()},
            )
            # no progress bar: DuckDB draws it on stdout, which is the CLI's output
            self._con.execute("SET enable_progress_bar = false")
            self._con.execute(f"SET index_scan_max_count = {INDEX_SCAN_MAX_ROWS}")
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            raise StoreBusy(
                f"{self.path} is open in another process (a running `convoscope serve` or "
                "`demo`?); stop it, or use its HTTP API"
            ) from None
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self.derived_outdated = False
        self._migrate()

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor on the shared connection."""
        cur = getattr(self._local, "cur", None)
        if cur is None:
            cur = self._local.cur = self._con.cursor()
        return cur

    def close(self) -> None:
        self._con.close()

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the database file (on clean shutdown)."""
        self.con.execute("CHECKPOINT")

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        con = self._con
        con.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
        row = first_row(con, "SELECT value FROM meta WHERE key = 'schema_version'")
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"{self.path} has schema version {version}, newer than this convoscope "
                f"({SCHEMA_VERSION}); upgrade convoscope"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            con.begin()
            con.execute(MIGRATIONS[target - 1])
            con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(target)])
            if target in DERIVED_MIGRATIONS and version > 0:  # cleared by conversations.rebuild
                con.execute("INSERT OR REPLACE INTO meta VALUES ('derived_outdated', '1')")
            con.commit()
        self.derived_outdated = (
            first_row(con, "SELECT 1 FROM meta WHERE key = 'derived_outdated'") is not None
        )
        if version < SCHEMA_VERSION:
            # Write new indexes out now: until a checkpoint DuckDB keeps them pinned in memory,
            # which a rebuild that follows (`derived_outdated`) needs for itself.
            con.execute("CHECKPOINT")

    def probe(self) -> str:
        """What `/healthz` checks: a read and a committed write ("ok"), or the read alone
        ("busy") while a writer holds the database (a long import): the check answers at once
        instead of queuing behind it. Raises when either fails."""
        self.con.execute("SELECT count(*) FROM workspaces").fetchall()
        try:
            with self.transaction(wait=False) as con:
                con.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('last_probe', CAST(now() AS VARCHAR))"
                )
        except WriterBusy:
            return "busy"
        return "ok"

    def schema_version(self) -> int:
        return int(only_row(self.con, "SELECT value FROM meta WHERE key = 'schema_version'")[0])

    @contextmanager
    def transaction(self, *, wait: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: commit on success, roll back on any exception.

        Writers are serialised: arrival order (`seq`) is read and assigned inside the
        transaction, and two concurrent writers would otherwise hand out the same numbers.
        With `wait=False`, a transaction that would wait for another writer raises WriterBusy.
        """
        if not self._write_lock.acquire(blocking=wait):
            raise WriterBusy("another write holds the database")
        try:
            con = self.con
            con.begin()
            try:
                yield con
            except BaseException:
                con.rollback()
                raise
            con.commit()
        finally:
            self._write_lock.release()

    def clear_workspace(self, workspace: str) -> None:
        """Delete every event and derived row of a workspace (its settings, users and keys
        stay), in one transaction."""
        with self.transaction() as con:
            for table in ("events", *DERIVED_TABLES, *ROLLUP_TABLES):
                con.execute(f"DELETE FROM {table} WHERE workspace = ?", [workspace])

    def conversation_count(self) -> int:
        return int(only_row(self.con, "SELECT count(*) FROM conversations")[0])

    # Workspaces -----------------------------------------------------------------------

    def workspace(self, name: str) -> Workspace | None:
        row = first_row(
            self.con,
            "SELECT name, timezone, inactivity_seconds, escalated_inactivity_seconds, "
            "business_hours FROM workspaces WHERE name = ?",
            [name],
        )
        if row is None:
            return None
        name, timezone, inactivity, escalated, hours = row
        return Workspace(
            name, timezone, inactivity, escalated, json.loads(hours) if hours else None
        )

    def workspace_names(self) -> list[str]:
        return [
            r[0] for r in self.con.execute("SELECT name FROM workspaces ORDER BY name").fetchall()
        ]

    def ensure_workspace(self, name: str, timezone: str = DEFAULT_TIMEZONE) -> Workspace:
        """Return the workspace, creating it with `timezone` if it does not exist yet."""
        existing = self.workspace(name)
        if existing:
            return existing
        if not name or len(name) > 128:
            raise ValueError("workspace name must be 1 to 128 characters")
        check_timezone(timezone)
        self.con.execute(
            "INSERT INTO workspaces (name, timezone) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [name, timezone],
        )
        return self.workspace(name)  # type: ignore[return-value]

    def update_workspace(
        self, name: str, timezone: str, business_hours: dict[str, list[list[str]]] | None
    ) -> Workspace:
        """Change the settings a workspace admin may change (validated by the caller).
        Serialised with every other write: concurrent updates of one row would otherwise
        fail DuckDB's optimistic concurrency check."""
        check_timezone(timezone)
        hours = json.dumps(business_hours) if business_hours is not None else None
        with self.transaction() as con:
            con.execute(
                "UPDATE workspaces SET timezone = ?, business_hours = ? WHERE name = ?",
                [timezone, hours, name],
            )
        return self.workspace(name)  # type: ignore[return-value]

    def set_whatsapp(
        self, name: str, app_secret: str, verify_token: str, phone_number_ids: Sequence[str]
    ) -> None:
        """Meta's app secret (needed in clear to check HMAC signatures), the verify token, and
        the WhatsApp business phone numbers (`phone_number_id`) whose messages are this
        workspace's. A number belongs to one workspace; setting it here moves it."""
        with self.transaction() as con:
            con.execute(
                "UPDATE workspaces SET whatsapp_app_secret = ?, whatsapp_verify_token = ? "
                "WHERE name = ?",
                [app_secret, verify_token, name],
            )
            con.execute("DELETE FROM whatsapp_numbers WHERE workspace = ?", [name])
            for number in phone_number_ids:
                con.execute("INSERT OR REPLACE INTO whatsapp_numbers VALUES (?, ?)", [number, name])

    def whatsapp_numbers(self) -> dict[str, tuple[str, str]]:
        """phone_number_id -> (workspace, app secret), for routing signed notifications."""
        rows = self.con.execute(
            "SELECT n.phone_number_id, w.name, w.whatsapp_app_secret FROM whatsapp_numbers n "
            "JOIN workspaces w ON w.name = n.workspace WHERE w.whatsapp_app_secret IS NOT NULL"
        ).fetchall()
        return {number: (ws, secret) for number, ws, secret in rows}

    def whatsapp_verify_tokens(self) -> list[str]:
        """Every configured verify token (Meta's handshake names no workspace)."""
        rows = self.con.execute(
            "SELECT whatsapp_verify_token FROM workspaces WHERE whatsapp_verify_token IS NOT NULL"
        ).fetchall()
        return [r[0] for r in rows]

    def known_event_ids(self, workspace: str, event_ids: Sequence[str]) -> set[str]:
        """Which of `event_ids` the workspace has stored already."""
        rows = self.con.execute(
            "SELECT event_id FROM events WHERE workspace = ? AND list_contains(?, event_id)",
            [workspace, list(event_ids)],
        ).fetchall()
        return {r[0] for r in rows}

    def channels(self, workspace: str) -> list[str]:
        """Channels that have data in the workspace, for filter pickers."""
        rows = self.con.execute(
            "SELECT DISTINCT channel FROM events WHERE workspace = ? ORDER BY channel",
            [workspace],
        ).fetchall()
        return [r[0] for r in rows]

    def departments(self, workspace: str) -> list[str]:
        """Departments conversations were closed in, for filter pickers."""
        rows = self.con.execute(
            "SELECT DISTINCT department FROM conversations "
            "WHERE workspace = ? AND department IS NOT NULL ORDER BY 1",
            [workspace],
        ).fetchall()
        return [r[0] for r in rows]

    def teammates(self, workspace: str) -> list[str]:
        """Teammates who wrote in or closed a conversation, for filter pickers."""
        rows = self.con.execute(
            "SELECT DISTINCT teammate_id FROM conversation_teammates WHERE workspace = ? "
            "ORDER BY 1",
            [workspace],
        ).fetchall()
        return [r[0] for r in rows]

    # Events ---------------------------------------------------------------------------

    @contextmanager
    def staging(self) -> Iterator[Staging]:
        """A scratch table on this thread's connection for one ingestion, dropped afterwards.

        Batches are staged outside the write transaction: a temporary table lives in DuckDB's
        buffer pool and spills to disk, so a large file does not have to fit in memory, and the
        one transaction that stores it (`append_staged`) is a single set-based insert.
        """
        con = self.con
        con.execute(
            "CREATE OR REPLACE TEMP TABLE staged (idx BIGINT, workspace VARCHAR, "
            "event_id VARCHAR, ts TIMESTAMP, "
            "channel VARCHAR, customer_id VARCHAR, type VARCHAR, sender VARCHAR, "
            "teammate_id VARCHAR, welcome BOOLEAN, department VARCHAR, score TINYINT, "
            "thread_key UBIGINT, event_key UBIGINT)"
        )
        try:
            yield Staging(con)
        finally:
            con.execute("DROP TABLE IF EXISTS staged")

    def append_staged(self, con: duckdb.DuckDBPyConnection) -> Appended:
        """Move staged events into `events` inside the caller's transaction: the results per
        workspace and the arrival number before the first new event (the new events are the
        ones after it).

        Events whose id is stored (or staged earlier) with the same content are duplicates and
        skipped; the same id with other content raises ConflictError and stores nothing. Only
        the stored events sharing an event key with the batch are read (`known`).
        """
        con.execute(
            "CREATE OR REPLACE TEMP TABLE staged_keys AS SELECT DISTINCT event_key AS key "
            "FROM staged"
        )
        known = select_events(con, "known", "event_key", "staged_keys")
        same = " AND ".join(f"s.{c} IS NOT DISTINCT FROM e.{c}" for c in CONTENT_FIELDS)
        conflicts = con.execute(
            f"""
            SELECT s.event_id FROM staged s JOIN known e
              ON e.workspace = s.workspace AND e.event_id = s.event_id
            WHERE NOT ({same})
            UNION
            SELECT event_id FROM staged GROUP BY workspace, event_id
            HAVING count(*) > 1 AND count(DISTINCT row({", ".join(CONTENT_FIELDS)})) > 1
            ORDER BY 1
            """
        ).fetchall()
        if conflicts:
            raise ConflictError([r[0] for r in conflicts])
        staged = dict(con.execute("SELECT workspace, count(*) FROM staged GROUP BY 1").fetchall())
        (base,) = only_row(con, "SELECT coalesce(max(seq), 0) FROM events")
        con.execute(
            """
            INSERT INTO events BY NAME
            SELECT workspace, event_id, $base + idx + 1 AS seq, ts, channel, customer_id, type,
                   sender, teammate_id, welcome, department, score, thread_key, event_key
            FROM staged s
            WHERE NOT EXISTS (
                SELECT 1 FROM known e WHERE e.workspace = s.workspace AND e.event_id = s.event_id)
            QUALIFY row_number() OVER (PARTITION BY s.workspace, s.event_id ORDER BY s.idx) = 1
            """,
            {"base": base},
        )
        accepted = dict(
            con.execute(
                "SELECT workspace, count(*) FROM events WHERE seq > $base GROUP BY 1",
                {"base": base},
            ).fetchall()
        )
        con.execute(f"DROP {known} known")
        con.execute("DROP TABLE staged_keys")
        results = {
            ws: AppendResult(accepted=accepted.get(ws, 0), duplicates=n - accepted.get(ws, 0))
            for ws, n in staged.items()
        }
        return Appended(results, after_seq=base)


def select_events(con: duckdb.DuckDBPyConnection, name: str, column: str, keys_table: str) -> str:
    """Make `name` the stored events whose `column` (a key with an ART index) is one of the
    keys in `keys_table` (column `key`), and return what it is ("TABLE" or "VIEW", for the
    caller's DROP). Few keys: a temporary table filled by index probes (DuckDB probes an index
    only for constants of the column's own type, hence the typed list). Many (a bulk file, a
    rebuild): a view with a semi-join, so that nothing is copied and the table is read once
    per use."""
    (count,) = only_row(con, f"SELECT count(*) FROM {keys_table}")
    if count > INDEX_LOOKUP_KEYS:
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM events "
            f"WHERE {column} IN (SELECT key FROM {keys_table})"
        )
        return "VIEW"
    keys = [row[0] for row in con.execute(f"SELECT key FROM {keys_table}").fetchall()]
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM events "
        f"WHERE list_contains($keys::UBIGINT[], {column})",
        {"keys": keys},
    )
    return "TABLE"


class Staging:
    """Appends validated batches to the `staged` table, numbering them in arrival order."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.count = 0

    def add(self, workspace: str, events: Sequence[Event]) -> None:
        if not events:
            return
        table = pa.Table.from_pydict(
            {
                "idx": range(self.count, self.count + len(events)),
                "workspace": [workspace] * len(events),
                "event_id": [e.event_id for e in events],
                "ts": [e.ts_utc for e in events],
                **{f: [getattr(e, f) for e in events] for f in CONTENT_FIELDS if f != "ts"},
            },
            schema=_EVENT_SCHEMA,
        )
        self.con.register("batch", table)
        try:
            self.con.execute(
                f"INSERT INTO staged SELECT *, {thread_key()}, {event_key()} FROM batch"
            )
        finally:
            self.con.unregister("batch")
        self.count += len(events)

    def add_checked(self, workspace: str, table: str) -> None:
        """Stage the rows of `table`, events already validated set-based (`bulk`), in the
        order of their `idx`."""
        (added,) = only_row(  # an INSERT's one row is the number of rows it inserted
            self.con,
            f"""
            INSERT INTO staged
            SELECT $base + idx, $workspace, event_id, ts, channel, customer_id, type, sender,
                   teammate_id, welcome, department, score, {thread_key("w")}, {event_key("w")}
            FROM (SELECT *, $workspace AS workspace FROM {table}) AS w
            """,
            {"base": self.count, "workspace": workspace},
        )
        self.count += added
