"""A 1,000-event batch landing in a large database and in an empty one: acknowledged once
stored (landing), then derived (its threads re-cut), each timed.

Each batch holds a day of new demo events moved to other customers of the demo (they already
have a history in a large database, so their threads are re-cut whole, and are new in an empty
one); the HTTP load generator sends the same batches.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from convoscope import conversations, demo, ingest
from convoscope.events import validate_batch
from convoscope.store import Store


def moved(record: dict, run: int) -> dict:
    """The record with fresh ids (its event's, and its order's on an order or a refund: a
    stored order sent again under another event id is a conflict), for another set of the
    demo's customers in each run (the demo names them cust-0000000 and up): every batch
    touches threads of its own."""
    fresh = dict(record, event_id=f"bench{run}-{record['event_id']}")
    if record.get("customer_id") is not None:  # a shop's order may come without a chat
        number = int(record["customer_id"].removeprefix("cust-")) + 1000 * run
        fresh["customer_id"] = f"cust-{number:07d}"
    if record.get("order_id") is not None:
        fresh["order_id"] = f"bench{run}-{record['order_id']}"
    return fresh


def day_of_events(size: int = 1000) -> list[dict]:
    """`size` records of one fixed demo day, so that every run sends the same batches (chat
    traffic only, as earlier rounds measured: no orders)."""
    day = demo.generate(days=1, per_day=200, seed=99, end=date(2026, 12, 2), commerce=False)
    return list(day)[:size]


def landing_times(db: Path, batches: int) -> tuple[list[float], list[float]]:
    """Milliseconds to land each of `batches` batches of 1,000 events into workspace demo
    (acknowledged: stored, as a server answers), and to derive each one afterwards (as its
    deriver would, here one batch at a time)."""
    records = day_of_events()
    landed, derived = [], []
    with Store(db) as store:
        store.ensure_workspace("demo")
        store.wake_deriver = lambda: None  # land only; derived below, timed apart
        for run in range(batches):
            events = validate_batch([moved(r, run) for r in records], "demo")
            started = time.perf_counter()
            ingest.store_events(store, "demo", events)
            landed.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            conversations.derive(store)
            derived.append((time.perf_counter() - started) * 1000)
    return landed, derived
