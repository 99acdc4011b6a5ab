"""A 1,000-event batch landing in a large database vs an empty one: store + re-cut, in process.

Run by hand on a database built by the demo, e.g.
`convoscope demo --no-serve --db /tmp/big.duckdb --days 365 --per-day 5200` (about ten million
events), then `.venv/bin/python bench/bench_write.py /tmp/big.duckdb`. The database is copied
to a temporary folder first, so it is left as it was. Each batch holds a day of new demo events
for other customers who already have a history in the large database (their threads are
re-cut whole) and are new in the empty one. Prints the machine
and the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from common import machine

from convoscope import demo, ingest
from convoscope.events import validate_batch
from convoscope.store import Store


def _moved(record: dict, run: int) -> dict:
    """The record with a fresh id, for another set of the demo's customers in each run (the
    demo names them cust-0000000 and up): every batch touches threads of its own."""
    number = int(record["customer_id"].removeprefix("cust-")) + 1000 * run
    return dict(
        record, event_id=f"bench{run}-{record['event_id']}", customer_id=f"cust-{number:07d}"
    )


def landing_times(db: Path, batches: int) -> list[float]:
    """Milliseconds to store each of `batches` batches of 1,000 events into workspace demo."""
    records = list(demo.generate(days=1, per_day=200, seed=99, end=date(2026, 12, 2)))[:1000]
    times = []
    with Store(db) as store:
        store.ensure_workspace("demo")
        for run in range(batches):
            events = validate_batch([_moved(r, run) for r in records], "demo")
            started = time.perf_counter()
            ingest.store_events(store, "demo", events)
            times.append((time.perf_counter() - started) * 1000)
    return times


def summary(times: list[float]) -> str:
    p95 = statistics.quantiles(times, n=20)[-1]
    return f"p50 {statistics.median(times):.0f} ms, p95 {p95:.0f} ms over {len(times)} batches"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("db", type=Path, help="a database holding workspace demo")
    parser.add_argument("--batches", type=int, default=20)
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.duckdb"
        shutil.copy(args.db, big)
        with Store(big) as store:
            (events,) = store.con.execute("SELECT count(*) FROM events").fetchone() or (0,)
        large = landing_times(big, args.batches)
        empty = landing_times(Path(tmp) / "empty.duckdb", args.batches)
    print(f"into {events:,} events: {summary(large)}")
    print(f"into an empty database: {summary(empty)}")
    print(f"ratio: {statistics.median(large) / statistics.median(empty):.2f}x")


if __name__ == "__main__":
    main()
