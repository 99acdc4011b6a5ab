"""The database file and its transactions: opening (and migrating) it, one cursor per thread,
one writer at a time, health probes, and the small helpers every statement uses.

What is stored is said elsewhere: the tables in `schema`, workspaces in `workspaces`, events in
`append`; `convoscope.store.Store` is all of them over one file.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import duckdb
import platformdirs

from convoscope.store import tables
from convoscope.store.schema import (
    DERIVED_MIGRATIONS,
    DERIVED_TABLES,
    MIGRATIONS,
    ROLLUP_TABLES,
    SCHEMA_VERSION,
)

# Key lists up to this size are looked up through the ART indexes of `events` (one probe per
# key); larger sets (bulk files, rebuilds) are joined, which reads the key column once. The
# derived tables have no index: an ART index costs about as much disk and memory as the table
# it serves, and their thread-key column is read in milliseconds.
INDEX_LOOKUP_KEYS = 5000
# DuckDB uses an index scan only below this many matching rows (its default, 2,048, is less
# than the history of a thousand busy threads).
INDEX_SCAN_MAX_ROWS = 200_000


# The `$name` parameters of each statement read so far: statements are few and fixed (their
# values are parameters), and the table starts over past `_KEPT_STATEMENTS` all the same, so
# that a statement with a value written into its text cannot grow a server's memory.
_PARAMETERS: dict[str, frozenset[str]] = {}
_KEPT_STATEMENTS = 4096


def bound(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters of `params` that `sql` reads: statements share one parameter set (see
    `scope`), and DuckDB refuses parameters a statement does not name.

    The names are the ones DuckDB's own parser reads (a `$x` inside a string or a comment is
    none), through `con`: the module-level parser would open a second, in-memory database,
    30 ms of a command's start.
    """
    names = _PARAMETERS.get(sql)
    if names is None:
        if len(_PARAMETERS) >= _KEPT_STATEMENTS:
            _PARAMETERS.clear()
        statements = con.extract_statements(sql)
        names = _PARAMETERS[sql] = frozenset(n for s in statements for n in s.named_parameters)
    return {k: v for k, v in params.items() if k in names}


def first_row(con: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> tuple | None:
    """The first row of a statement, with its result fully consumed.

    DuckDB 2 refuses `begin`, `commit` or `unregister` on a connection whose last result was
    only partly fetched, so single-row reads go through here rather than `fetchone`.
    """
    if isinstance(params, dict):
        params = bound(con, sql, params)
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


MEMORY_LIMIT = "CONVOSCOPE_MEMORY_LIMIT"


def memory_limit() -> str:
    """DuckDB's memory cap: `CONVOSCOPE_MEMORY_LIMIT`, default 1GB (see `Store`)."""
    return os.environ.get(MEMORY_LIMIT, "1GB")


@dataclass(frozen=True)
class Derivation:
    """A derivation's transaction and the arrival numbers of the events it derives."""

    con: duckdb.DuckDBPyConnection
    after: int
    upto: int


class StoreBusy(RuntimeError):
    """The database file is held by another process (DuckDB allows one writer process)."""


class WriterBusy(RuntimeError):
    """Another write of this process holds the database (see `Store.transaction`)."""


class Database:
    """One open database file. Thread-safe: each thread gets its own cursor.

    DuckDB's memory is capped (`CONVOSCOPE_MEMORY_LIMIT`, default 1GB; DuckDB's own default is
    80% of RAM) so that a server over a large file spills to disk instead of growing with it;
    a bulk job in the foreground may lift the default cap (`bulk_memory`).
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
        self._derive_lock = threading.Lock()
        self.derived_outdated = False
        self._migrate()
        # Arrival numbers: stored (acknowledged) and derived. This process is the file's only
        # writer, so after opening they change only through `landed` and `deriving`.
        # Numbers are never reused, even after an erasure removed the last events: a number at
        # or below the derivation's watermark would never be derived.
        (self.derived_seq,) = only_row(self._con, "SELECT derived_seq FROM derivation")
        (self.landed_seq,) = only_row(
            self._con,
            "SELECT greatest(coalesce(max(seq), 0), $d) FROM events",
            {"d": self.derived_seq},
        )
        # Called after each landing when set (a server's background deriver); else the
        # landing derives at once (`ingest`).
        self.wake_deriver: Callable[[], None] | None = None
        self._pending_since = time.monotonic() if self.pending else None

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

    @contextmanager
    def bulk_memory(self) -> Iterator[None]:
        """Memory for a bulk job in the foreground (an import, the demo's build, a rebuild):
        unless `CONVOSCOPE_MEMORY_LIMIT` sets a cap, DuckDB sizes it itself (80 % of the memory
        it sees, a container's limit included), and the default cap is back afterwards. The
        cap is for what shares the machine for long, a server; under 1 GB, the one re-cut of
        ten million events spends half its time spilling to disk (110 s against 56)."""
        if MEMORY_LIMIT in os.environ:
            yield
            return
        self._con.execute("RESET memory_limit")
        try:
            yield
        finally:
            self._con.execute(f"SET memory_limit = '{memory_limit()}'")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        con = self._con
        con.execute(tables.META.ddl(exist_ok=True))
        row = first_row(con, "SELECT value FROM meta WHERE key = 'schema_version'")
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"{self.path} has schema version {version}, newer than this convoscope "
                f"({SCHEMA_VERSION}); upgrade convoscope"
            )
        if version == 0:  # a new file: the declared schema at once, no migration
            con.begin()
            con.execute(tables.ddl())
            con.execute("INSERT INTO derivation VALUES (0)")
            con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
            con.commit()
        for target in range(version + 1, SCHEMA_VERSION + 1) if version else ():
            con.begin()
            con.execute(MIGRATIONS[target - 1])
            con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(target)])
            if target in DERIVED_MIGRATIONS:  # cleared by conversations.rebuild
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
        self._local.appended = 0
        try:
            con = self.con
            con.begin()
            try:
                yield con
            except BaseException:
                con.rollback()
                raise
            con.commit()
            # an append's numbers count as landed once committed, before the next writer
            if self._local.appended > self.landed_seq:
                if not self.pending:
                    self._pending_since = time.monotonic()
                self.landed_seq = self._local.appended
        finally:
            self._write_lock.release()

    @property
    def pending(self) -> bool:
        """Whether acknowledged events wait for their threads to be derived."""
        return self.derived_seq < self.landed_seq

    def derivation_lag(self) -> float:
        """Seconds since the oldest acknowledged event still waiting to be derived (an upper
        bound, within one derivation's time), 0 when none waits."""
        since = self._pending_since
        return time.monotonic() - since if since is not None and self.pending else 0.0

    @contextmanager
    def deriving(
        self, *, exclusive: bool = False, needed: int | None = None
    ) -> Iterator[Derivation]:
        """One transaction that writes the derived tables, one at a time, and moves the
        watermark to every event visible to it: the caller re-cuts the threads of the events
        numbered `after < seq <= upto` (and may touch others: an erasure, a rebuild). With
        `needed` (a read's: what was acknowledged when it began), only up to that number:
        nothing when a derivation it waited for covered it, and not what landed since.

        It does not hold the writer's lock: landing appends to `events` only, which the
        deriver reads, so batches keep landing while a re-cut runs (DuckDB's MVCC). With
        `exclusive`, it does (an erasure deletes events).
        """
        with self._derive_lock, self._write_lock if exclusive else nullcontext():
            began = time.monotonic()
            con = self.con
            con.begin()
            try:
                (after,) = only_row(con, "SELECT derived_seq FROM derivation")
                (upto,) = only_row(
                    con,
                    "SELECT coalesce(max(seq), $after) FROM events WHERE seq > $after",
                    {"after": after},
                )
                if needed is not None:
                    upto = max(after, min(upto, needed))
                yield Derivation(con, after, upto)
                if upto > after:
                    con.execute("UPDATE derivation SET derived_seq = ?", [upto])
            except BaseException:
                con.rollback()
                raise
            con.commit()
            self.derived_seq = upto
            # what is still pending landed after this derivation began
            self._pending_since = began if self.pending else None

    def clear_workspace(self, workspace: str) -> None:
        """Delete every event and derived row of a workspace (its settings, users and keys
        stay), in one transaction."""
        with self._derive_lock, self.transaction() as con:
            for table in ("events", *DERIVED_TABLES, *ROLLUP_TABLES):
                con.execute(f"DELETE FROM {table} WHERE workspace = ?", [workspace])

    def conversation_count(self) -> int:
        return int(only_row(self.con, "SELECT count(*) FROM conversations")[0])

    # Reads -----------------------------------------------------------------------------

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
            "SELECT DISTINCT channel FROM events WHERE workspace = ? AND channel <> '' "
            "ORDER BY channel",
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

    def flows(self, workspace: str) -> list[str]:
        """Flows the chatbot entered in a conversation, for filter pickers."""
        rows = self.con.execute(
            "SELECT DISTINCT flow FROM conversation_flows WHERE workspace = ? ORDER BY 1",
            [workspace],
        ).fetchall()
        return [r[0] for r in rows]


def select_events(con: duckdb.DuckDBPyConnection, name: str, column: str, keys: str) -> str:
    """Make `name` the stored events whose `column` (a key with an ART index) is one of the
    keys in `keys` (a table, or a query in parentheses, with a column `key`), and return what
    it is ("TABLE" or "VIEW", for the caller's DROP). Few keys: a temporary table filled by
    index probes (DuckDB probes an index only for constants of the column's own type, hence
    the typed list). Many (a bulk file, a rebuild): a view with a semi-join, so that nothing
    is copied and the table is read once per use. The keys are read once, at most one more
    than the index's share (a landing's every statement counts)."""
    found = con.execute(f"SELECT key FROM {keys} LIMIT {INDEX_LOOKUP_KEYS + 1}").fetchall()
    if len(found) > INDEX_LOOKUP_KEYS:
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM events "
            f"WHERE {column} IN (SELECT key FROM {keys})"
        )
        return "VIEW"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM events "
        f"WHERE list_contains($keys::UBIGINT[], {column})",
        {"keys": [row[0] for row in found]},
    )
    return "TABLE"
