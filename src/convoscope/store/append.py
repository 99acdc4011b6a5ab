"""Appending events: staging validated batches, then one set-based insert that decides
duplicates and conflicts against what is stored (in the same transaction) and assigns arrival
order (`seq`). Deriving conversations is `conversations`' business, once the batch landed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import duckdb

from convoscope.event_fields import CONTENT_FIELDS, ConflictError, EventError, FieldError
from convoscope.store.database import Database, only_row, select_events
from convoscope.store.schema import event_key, thread_key
from convoscope.store.tables import EVENTS

if TYPE_CHECKING:
    import pyarrow as pa

    from convoscope.events import Event


@dataclass(frozen=True)
class AppendResult:
    accepted: int
    duplicates: int


# What a staged event holds: its place in the input, its workspace and id, then its content.
_STAGED = ("workspace", "event_id", *CONTENT_FIELDS)
_CONTENT = ", ".join(CONTENT_FIELDS)


class Appending(Database):
    """Staging and appending the events of one database file."""

    @contextmanager
    def staging(self) -> Iterator[Staging]:
        """A scratch table on this thread's connection for one ingestion, dropped afterwards.

        Batches are staged outside the write transaction: a temporary table lives in DuckDB's
        buffer pool and spills to disk, so a large file does not have to fit in memory, and the
        one transaction that stores it (`append_staged`) is a single set-based insert.
        """
        con = self.con
        columns = ", ".join(f"{name} {EVENTS.column(name).type}" for name in _STAGED)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE staged (idx BIGINT, {columns}, "
            "thread_key UBIGINT, event_key UBIGINT)"
        )
        try:
            yield Staging(con)
        finally:
            con.execute("DROP TABLE IF EXISTS staged")

    def append_staged(self, con: duckdb.DuckDBPyConnection) -> dict[str, AppendResult]:
        """Move staged events into `events` inside the caller's write transaction, numbered
        after every event landed so far; the results per workspace (`_append`)."""
        return dict(self._append(con, "s.workspace", {}))

    def append_staged_batches(
        self, con: duckdb.DuckDBPyConnection, ends: Sequence[int]
    ) -> list[AppendResult]:
        """`append_staged` for batches staged one after another, the i-th ending before the
        staged position `ends[i]`: one result per batch (`ingest.Landing` lands the batches
        of concurrent requests together)."""
        part = "len(list_filter($ends::BIGINT[], lambda e: e <= s.idx))"
        found = dict(self._append(con, part, {"ends": list(ends)}))
        return [found.get(i, AppendResult(0, 0)) for i in range(len(ends))]

    def _append(
        self, con: duckdb.DuckDBPyConnection, part: str, params: dict[str, object]
    ) -> list[tuple[Any, AppendResult]]:
        """The landing itself, with its counts per `part` (an expression of a staged row `s`).

        Events whose id is stored (or staged earlier) with the same content are duplicates and
        skipped; the same id with other content raises ConflictError and stores nothing. Only
        the stored events sharing an event key with the batch are read (`known`).
        """
        # a key staged twice is probed twice (rare: a retry within a batch); `IN` and the
        # probe's list ignore it, and no distinct count runs at each use of a bulk file's view
        known = select_events(con, "known", "event_key", "(SELECT event_key AS key FROM staged)")
        stored, staged, purchases = only_row(  # usually none: then their checks are skipped
            con,
            "SELECT (SELECT count(*) FROM known), (SELECT count(*) - count(DISTINCT event_key) "
            "FROM staged), (SELECT count(*) FROM staged WHERE type IN ('order', 'refund'))",
        )
        if stored or staged:
            self._refuse_conflicts(con)
        # The rows to store (`fresh`): not known, each id's first staging, not an order known
        # already. Each condition applies only when some row can fail it, and a batch of new
        # ids and no purchase (the usual one) is stored whole, without the table.
        whole = not (stored or staged or purchases)
        if not whole:
            self._choose_fresh(con, stored=bool(stored), staged=bool(staged))
            if purchases:
                self._check_purchases(con)
        counted = "count(*), max(s.idx)" if whole else "count(f.idx), max(f.idx)"
        counts = con.execute(
            f"SELECT {part}, count(*), {counted} FROM staged s "
            f"{'' if whole else 'LEFT JOIN fresh f ON f.idx = s.idx'} GROUP BY 1",
            params,
        ).fetchall()
        base = self.landed_seq  # the writer's lock is held: no other landing moves it
        # In time order: a bulk file then lies in `events` as time does, so that reading the
        # recent events (a derivation's tails) skips the older row groups (zone maps).
        con.execute(
            f"""
            INSERT INTO events BY NAME
            SELECT workspace, event_id, $base + idx + 1 AS seq, {_CONTENT}, thread_key, event_key
            FROM staged {"" if whole else "SEMI JOIN fresh USING (idx)"}
            ORDER BY ts
            """,
            {"base": base},
        )
        con.execute(f"DROP {known} known")
        if not whole:
            con.execute("DROP TABLE fresh")
        top = max((m for *_, m in counts if m is not None), default=None)
        upto = base if top is None else base + top + 1
        self._local.appended = upto  # `transaction` records it once committed
        return [(key, AppendResult(n, total - n)) for key, total, n, _ in counts]

    @staticmethod
    def _choose_fresh(con: duckdb.DuckDBPyConnection, *, stored: bool, staged: bool) -> None:
        """Make `fresh` the staged rows to store: not `known` (when some are) and each id's
        first staging (when an id is staged twice)."""
        unknown = (
            "WHERE NOT EXISTS (SELECT 1 FROM known e "
            "WHERE e.workspace = s.workspace AND e.event_id = s.event_id)"
        )
        first = (
            "QUALIFY row_number() OVER (PARTITION BY s.workspace, s.event_id ORDER BY s.idx) = 1"
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE fresh AS SELECT idx, workspace, event_id FROM staged s "
            f"{unknown if stored else ''} {first if staged else ''}"
        )

    @staticmethod
    def _check_purchases(con: duckdb.DuckDBPyConnection) -> None:
        """SPEC section 1's rules on orders and refunds that need what is stored: an order_id
        is one order (another order event for it with the same content is a duplicate, left
        out of `fresh`; with other content a ConflictError), and a refund is in its order's
        currency when the order is known (else EventError naming it)."""
        content = ", ".join(c for c in CONTENT_FIELDS if c != "order_id")
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE orders_known AS
            SELECT workspace, order_id, event_id, -1 AS idx, row({content}) AS content, currency
            FROM events
            WHERE type = 'order' AND order_id IN (SELECT order_id FROM staged)
              AND workspace IN (SELECT workspace FROM staged)
            UNION ALL
            SELECT workspace, order_id, event_id, idx, row({content}), currency
            FROM staged SEMI JOIN fresh USING (idx) WHERE type = 'order'
            """
        )
        firsts = """
            SELECT *, row_number() OVER (PARTITION BY workspace, order_id ORDER BY idx) AS nth
            FROM orders_known
        """
        conflicts = con.execute(
            f"""
            SELECT later.event_id, later.order_id
            FROM ({firsts}) AS later JOIN ({firsts}) AS first
              ON first.workspace = later.workspace AND first.order_id = later.order_id
             AND first.nth = 1 AND later.nth > 1
            WHERE later.content IS DISTINCT FROM first.content
            ORDER BY later.idx
            """
        ).fetchall()
        if conflicts:
            con.execute("DROP TABLE orders_known")
            raise ConflictError(
                [r[0] for r in conflicts], key="order_id", keys=[r[1] for r in conflicts]
            )
        con.execute(  # the same order again, under another event id: a duplicate
            f"DELETE FROM fresh WHERE idx IN (SELECT idx FROM ({firsts}) WHERE nth > 1)"
        )
        wrong = con.execute(
            f"""
            SELECT r.idx, r.event_id, r.order_id, o.currency
            FROM staged AS r SEMI JOIN fresh USING (idx)
            JOIN ({firsts}) AS o
              ON o.workspace = r.workspace AND o.order_id = r.order_id AND o.nth = 1
            WHERE r.type = 'refund' AND r.currency <> o.currency
            ORDER BY r.idx
            """
        ).fetchall()
        con.execute("DROP TABLE orders_known")
        if wrong:
            raise EventError(
                [
                    FieldError(idx, event_id, "currency", f"differs from order {order!r}'s ({cur})")
                    for idx, event_id, order, cur in wrong
                ]
            )

    @staticmethod
    def _refuse_conflicts(con: duckdb.DuckDBPyConnection) -> None:
        """Raise ConflictError naming the staged ids stored or staged before with other
        content. Only the copies are read (the stored ones first, then the staged in order:
        a few rows, a client's retries) and compared here rather than in SQL, where a distinct
        count of whole rows is planned in about 4 ms whatever the rows; values read back
        compare as SQL's IS NOT DISTINCT FROM does (NULL equals NULL)."""
        copies = con.execute(
            f"""
            SELECT -1 AS idx, workspace, event_id, {_CONTENT} FROM known
            UNION ALL
            SELECT idx, workspace, event_id, {_CONTENT} FROM staged
            -- a key is a hash: the id decides
            WHERE event_key IN (SELECT event_key FROM known UNION ALL
                                SELECT event_key FROM staged GROUP BY 1 HAVING count(*) > 1)
            ORDER BY idx
            """
        ).fetchall()
        first: dict[tuple[str, str], tuple[object, ...]] = {}
        conflicts = {
            event_id
            for _, workspace, event_id, *content in copies
            if first.setdefault((workspace, event_id), tuple(content)) != tuple(content)
        }
        if conflicts:
            raise ConflictError(sorted(conflicts))


def _column(events: Sequence[Event], field: str) -> list[object]:
    """One field of the batch as `events` keeps it: an amount as its decimal string, as given;
    '' for the thread of an order or refund without one (`tables.EVENTS`). Only those fields
    are converted: the rest of a batch is copied as it is (landing is a hot path)."""
    values = [getattr(e, field) for e in events]
    if field == "amount":
        return [None if v is None else format(v, "f") for v in values]
    if field in ("channel", "customer_id"):
        return ["" if v is None else v for v in values]
    return values


@cache
def _event_schema() -> pa.Schema:
    """The Arrow schema of a staged batch. Arrow is imported by the first write, not by every
    command that opens a store (a report as a process starts in 0.5 s)."""
    import pyarrow as pa

    types = {"VARCHAR": pa.string(), "TIMESTAMP": pa.timestamp("us"), "BOOLEAN": pa.bool_()}
    return pa.schema(
        [("idx", pa.int64())]
        + [(name, types.get(EVENTS.column(name).type, pa.int8())) for name in _STAGED]
    )


class Staging:
    """Appends validated batches to the `staged` table, numbering them in arrival order."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.count = 0

    def add(self, workspace: str, events: Sequence[Event]) -> None:
        if not events:
            return
        import pyarrow as pa

        table = pa.Table.from_pydict(
            {
                "idx": range(self.count, self.count + len(events)),
                "workspace": [workspace] * len(events),
                "event_id": [e.event_id for e in events],
                # aware instants to UTC by Arrow (a third of the time of Python's astimezone)
                "ts": pa.array([e.ts for e in events], pa.timestamp("us", tz="UTC")).cast(
                    pa.timestamp("us")
                ),
                **{f: _column(events, f) for f in CONTENT_FIELDS if f != "ts"},
            },
            schema=_event_schema(),
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
            SELECT $base + idx, $workspace, event_id, {_CONTENT}, {thread_key("w")},
                   {event_key("w")}
            FROM (SELECT * REPLACE (coalesce(channel, '') AS channel,
                                    coalesce(customer_id, '') AS customer_id),
                         $workspace AS workspace
                  FROM {table}) AS w
            """,
            {"base": self.count, "workspace": workspace},
        )
        self.count += added
