"""HTTP ingestion benchmark: batches of 1,000 events POSTed to a real `convoscope serve` on
loopback, from one client and from two at once; then overview latency over HTTP.

Run by hand: `.venv/bin/python bench/bench_api.py [--batches 200]`. Prints the machine and the
figures (see bench/RESULTS.md); asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from itertools import islice
from pathlib import Path

import httpx
from common import machine, serving

from convoscope import accounts, demo
from convoscope.store import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--size", type=int, default=1000)
    args = parser.parse_args()
    print(machine())
    records = demo.generate(days=120, per_day=2100, seed=3, end=date(2026, 11, 1))
    batches = [list(islice(records, args.size)) for _ in range(args.batches)]
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        with Store(db) as store:
            store.ensure_workspace("demo")
            key = accounts.create_key(store, "demo")
        headers = {"Authorization": f"Bearer {key}"}
        with serving(db) as url:
            half = len(batches) // 2
            with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
                started = time.perf_counter()
                for b in batches[:half]:
                    client.post("/v1/events", json=b).raise_for_status()
                one = time.perf_counter() - started
            events = sum(len(b) for b in batches[:half])
            print(
                f"1 client: {half} batches of {args.size}: {events / one:,.0f} events/s "
                f"({one / half * 1000:.0f} ms a batch)"
            )

            def send(chunk: list[list[dict]]) -> None:
                with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
                    for b in chunk:
                        client.post("/v1/events", json=b).raise_for_status()

            rest = batches[half:]
            started = time.perf_counter()
            with ThreadPoolExecutor(2) as pool:
                list(pool.map(send, [rest[0::2], rest[1::2]]))
            two = time.perf_counter() - started
            events = sum(len(b) for b in rest)
            print(f"2 clients: {len(rest)} batches of {args.size}: {events / two:,.0f} events/s")
            with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
                for period in ("last_7_days", "last_30_days"):
                    times = []
                    for _ in range(10):
                        t = time.perf_counter()
                        client.get("/v1/overview", params={"period": period}).raise_for_status()
                        times.append(time.perf_counter() - t)
                    print(
                        f"GET /v1/overview?period={period}: median "
                        f"{statistics.median(times) * 1000:.0f} ms"
                    )


if __name__ == "__main__":
    main()
