"""Core engine benchmark: demo generation + import of N events, then overview queries.

Run by hand: `.venv/bin/python bench/bench_core.py [--per-day 2100 --days 90]`. Prints the
machine and the figures; asserts nothing (figures go into bench/RESULTS.md and closing notes).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from common import machine

from convoscope import conversations, demo, ingest
from convoscope.events import validate_batch
from convoscope.overview import run
from convoscope.query import Query
from convoscope.store import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--per-day", type=int, default=2100)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "bench.duckdb") as store:
        store.ensure_workspace("demo")
        started = time.perf_counter()
        records = list(demo.generate(days=args.days, per_day=args.per_day, seed=args.seed))
        generated = time.perf_counter()
        batches = (
            validate_batch(records[i : i + 10_000], "demo", i)
            for i in range(0, len(records), 10_000)
        )
        result = ingest.store_batches(store, {"demo": batches})["demo"]
        done = time.perf_counter()
        print(f"events: {result.accepted:,} accepted, {result.duplicates:,} duplicates")
        print(
            f"generate: {generated - started:.1f} s; validate+store+sessionize: "
            f"{done - generated:.1f} s ({result.accepted / (done - generated):,.0f} events/s)"
        )
        started = time.perf_counter()
        conversations.rebuild(store)
        print(f"full re-sessionization: {time.perf_counter() - started:.2f} s")
        for period in ("today", "last_7_days", "last_30_days", "last_month"):
            query = Query.build("demo", timezone="America/Toronto", period=period)
            times = []
            for _ in range(5):
                t = time.perf_counter()
                run(store, query)
                times.append(time.perf_counter() - t)
            print(f"overview {period}: median {statistics.median(times) * 1000:.0f} ms over 5 runs")


if __name__ == "__main__":
    main()
