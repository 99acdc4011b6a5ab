"""The one write path: validate -> stage -> append (landing, one transaction) -> derive.

Every way in (CLI files, the HTTP API, webhooks, the demo) hands validated batches per
workspace to `store_batches`; Parquet and JSON Lines files and the demo stage records that
`bulk` checks set-based, with the per-record path as its fallback (`store_staged`). Batches
may be lazy generators that validate while they read: they are staged first (in a temporary
table that spills to disk), then one transaction creates missing workspaces, appends the
events of every workspace. Any exception before the commit (a bad record late in a file, a
conflict) leaves the database as it was: a file is stored whole or not at all, whatever the
number of workspaces it feeds, and no workspace is created for a rejected file.

Once committed, a batch is acknowledged; the threads it touched are then derived
(`conversations.derive`): at once, or, on a server, by its background `Deriver`, which
derives the batches of a moment together, and before any read (`conversations.settle`). The
pending set is the events above the derivation's watermark, so it is as durable as they are:
after a crash the next open or read derives them.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from convoscope import conversations
from convoscope.events import Event
from convoscope.store import (
    DEFAULT_TIMEZONE,
    DERIVED_TABLES,
    INDEX_LOOKUP_KEYS,
    AppendResult,
    Staging,
    Store,
    only_row,
)
from convoscope.store.schema import thread_key

log = logging.getLogger(__name__)

# Seconds a server's deriver waits after a landing before deriving (`Deriver`).
DERIVE_DELAY = float(os.environ.get("CONVOSCOPE_DERIVE_DELAY", "0.05"))


def store_batches(
    store: Store,
    batches: Mapping[str, Iterable[Sequence[Event]]],
    *,
    create_timezone: str | None = None,
) -> dict[str, AppendResult]:
    """Store every workspace's batches, all or nothing; results per workspace.

    A workspace that does not exist is created with `create_timezone` when one is given (the
    CLI's imports), else the write is refused (ValueError) before anything is stored.
    """

    def stage(staging: Staging) -> None:
        for workspace, stream in batches.items():
            for batch in stream:
                staging.add(workspace, batch)

    return store_staged(store, list(batches), stage, create_timezone=create_timezone)


def store_staged(
    store: Store,
    workspaces: Sequence[str],
    stage: Callable[[Staging], None],
    *,
    create_timezone: str | None = None,
) -> dict[str, AppendResult]:
    """`store_batches` for a caller that fills the staging table itself (`bulk`: files and
    the demo checked set-based); `stage` raises EventError to refuse its input."""
    missing = [ws for ws in workspaces if store.workspace(ws) is None]
    if missing and create_timezone is None:
        raise ValueError(f"no workspace {missing[0]!r}")
    with store.staging() as staging:
        stage(staging)  # validate and stage, outside the writer's lock
        with store.transaction() as con:
            for workspace in missing:
                store.ensure_workspace(workspace, create_timezone or DEFAULT_TIMEZONE)
            appended = store.append_staged(con)
    _landed(store)
    return {ws: appended.get(ws, AppendResult(0, 0)) for ws in workspaces}


def _landed(store: Store) -> None:
    """What follows a landing: wake the server's deriver, or derive at once."""
    if store.wake_deriver is not None:
        store.wake_deriver()
        return
    if store.landed_seq - store.derived_seq > conversations.BULK:
        # DuckDB keeps the indexes' new entries pinned in memory until a checkpoint: write a
        # bulk file's out before its re-cut needs that memory (10M events: 1 GB otherwise)
        store.checkpoint()
    conversations.derive(store)


def store_events(store: Store, workspace: str, events: Sequence[Event]) -> AppendResult:
    """One workspace's validated events (an HTTP request, a webhook), landed together with
    the batches of other requests that arrive meanwhile (`Landing`)."""
    with _LANDINGS_LOCK:
        landing = _LANDINGS.get(store)
        if landing is None:
            landing = _LANDINGS[store] = Landing(store)
    return landing.land(workspace, events)


# Events a group lands at most: the duplicate probe then still looks each key up in the
# index.
GROUP_EVENTS = INDEX_LOOKUP_KEYS
# One `Landing` per open store (a server's requests share it).
_LANDINGS: weakref.WeakKeyDictionary[Store, Landing] = weakref.WeakKeyDictionary()
_LANDINGS_LOCK = threading.Lock()


@dataclass
class _Batch:
    workspace: str
    events: Sequence[Event]
    done: threading.Event = field(default_factory=threading.Event)
    leads: bool = False  # woken to land the next group
    result: AppendResult | None = None
    error: BaseException | None = None


class Landing:
    """Group commit: a request that finds another landing waits, and the batches that
    gathered meanwhile land together, in one transaction, by one of their threads (the
    duplicate probe, the insert and the commit's flush are paid once for up to
    `GROUP_EVENTS` events: four batches of 1,000 in 84 ms against 139 ms one by one, at two
    million events). Each batch still gets its own outcome: if the group is refused (a
    conflict, a bad order), its batches land again one by one, so that one bad batch
    refuses only itself. A batch is acknowledged once its group committed, as before."""

    def __init__(self, store: Store):
        self.store = store
        self._lock = threading.Lock()
        self._waiting: list[_Batch] = []
        self._busy = False

    def land(self, workspace: str, events: Sequence[Event]) -> AppendResult:
        mine = _Batch(workspace, events)
        with self._lock:
            self._waiting.append(mine)
            leads, self._busy = not self._busy, True
        if not leads:
            mine.done.wait()  # landed by another thread, or woken to lead
        if leads or mine.leads:
            self._lead()
        if mine.error is not None:
            raise mine.error
        assert mine.result is not None
        return mine.result

    def _lead(self) -> None:
        with self._lock:
            group: list[_Batch] = []
            size = 0
            while self._waiting and (
                not group or size + len(self._waiting[0].events) <= GROUP_EVENTS
            ):
                size += len(self._waiting[0].events)
                group.append(self._waiting.pop(0))
        try:
            self._land(group)
        finally:
            for batch in group:
                if batch.result is None and batch.error is None:  # the leader was stopped
                    batch.error = RuntimeError("the landing stopped before this batch landed")
                batch.done.set()
            with self._lock:
                if self._waiting:  # hand over to the first one waiting
                    self._waiting[0].leads = True
                    self._waiting[0].done.set()
                else:
                    self._busy = False

    def _land(self, group: list[_Batch]) -> None:
        try:
            results = _land_together(self.store, group)
        except Exception as exc:
            if len(group) == 1:
                group[0].error = exc
                return
            for batch in group:  # each alone: only the faulty batch is refused
                try:
                    (batch.result,) = _land_together(self.store, [batch])
                except Exception as alone:
                    batch.error = alone
            return
        for batch, result in zip(group, results, strict=True):
            batch.result = result


def _land_together(store: Store, group: Sequence[_Batch]) -> list[AppendResult]:
    """Stage the batches one after another, land them in one transaction: one result each."""
    missing = next((b.workspace for b in group if store.workspace(b.workspace) is None), None)
    if missing is not None:
        raise ValueError(f"no workspace {missing!r}")
    with store.staging() as staging:
        ends = []
        for batch in group:
            staging.add(batch.workspace, batch.events)
            ends.append(staging.count)
        with store.transaction() as con:
            results = store.append_staged_batches(con, ends)
    _landed(store)
    return results


def erase_customer(store: Store, workspace: str, customer_id: str) -> dict[str, int]:
    """Delete every event and derived row of one customer (right to be forgotten); rows
    removed per table. The customer's threads are re-cut with no events left, so the rollups
    lose exactly their contributions, in the same transaction. Their sign-ins go with them;
    an order placed in one of their chats is the shop's record and stays, without its thread
    (it becomes unmatched or not attributed, SPEC section 8)."""
    counts: dict[str, int] = {}
    with store.deriving(exclusive=True) as d:
        con = d.con
        for table in ("events", *DERIVED_TABLES):
            orders = " AND type <> 'order'" if table in ("events", "commerce") else ""
            (counts[table],) = only_row(
                con,
                f"SELECT count(*) FROM {table} WHERE workspace = ? AND customer_id = ?{orders}",
                [workspace, customer_id],
            )
        customer = {"ws": workspace, "customer": customer_id}
        threads = conversations.touched(  # the pending threads too: the watermark moves
            con,
            "(workspace = $ws AND customer_id = $customer) OR (seq > $after AND seq <= $upto)",
            {**customer, "after": d.after, "upto": d.upto},
        )
        unlinked = "SELECT $ws AS workspace, '' AS channel, '' AS customer_id"
        con.execute(
            f"INSERT INTO dirty_keys SELECT {thread_key()} FROM ({unlinked})", {"ws": workspace}
        )
        con.execute(
            f"UPDATE events SET channel = '', customer_id = '', thread_key = u.key "
            f"FROM (SELECT {thread_key()} AS key FROM ({unlinked})) AS u "
            "WHERE workspace = $ws AND customer_id = $customer AND type = 'order'",
            customer,
        )
        con.execute(
            "DELETE FROM events WHERE workspace = $ws AND customer_id = $customer", customer
        )
        conversations.refresh(con, threads)
    return counts


def erase_shop_customer(store: Store, workspace: str, customer_ref: str) -> dict[str, int]:
    """Delete a shop customer's orders, their refunds and the sign-ins naming them (SPEC
    section 8's data of one person); what was removed, by kind. Their threads are derived
    again in the same transaction."""
    ref = {"ws": workspace, "ref": customer_ref}
    theirs = (
        "workspace = $ws AND (customer_ref = $ref OR (type = 'refund' AND order_id IN ("
        "SELECT order_id FROM events WHERE workspace = $ws AND type = 'order' "
        "AND customer_ref = $ref)))"
    )
    with store.deriving(exclusive=True) as d:
        con = d.con
        counts = dict(
            con.execute(
                f"SELECT type, count(*) FROM events WHERE {theirs} GROUP BY type", ref
            ).fetchall()
        )
        threads = conversations.touched(
            con,
            f"({theirs}) OR (seq > $after AND seq <= $upto)",
            {**ref, "after": d.after, "upto": d.upto},
        )
        con.execute(f"DELETE FROM events WHERE {theirs}", ref)
        conversations.refresh(con, threads)
    return {kind: counts.get(kind, 0) for kind in ("identify", "order", "refund")}


class Deriver:
    """A server's background derivation: each landing wakes it; it waits `delay` seconds so
    that the batches landing meanwhile are derived together (a re-cut's fixed costs are paid
    once for all of them), then derives everything pending. The lag is that delay plus one
    re-cut; a read never waits for it (`conversations.settle` derives what it needs first).
    A failed derivation is logged and retried at the next wake; its events stay pending."""

    def __init__(self, store: Store, delay: float = DERIVE_DELAY):
        self.store = store
        self.delay = delay
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="deriver", daemon=True)

    def start(self) -> None:
        self.store.wake_deriver = self._wake.set
        self._thread.start()
        self._wake.set()  # what a crash left pending

    def stop(self) -> None:
        """Derive what is pending and stop (on shutdown)."""
        self.store.wake_deriver = None
        self._stopping = True
        self._wake.set()
        self._thread.join()
        conversations.derive(self.store)

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait()
            self._wake.clear()
            if self._stopping:
                return
            time.sleep(self.delay)
            try:
                conversations.derive(self.store)
            except Exception:
                log.exception("deriving conversations failed; the events stay pending")
