"""The HTTP load generator: one client in its own process, started by the suite.

`python -m bench.load ingest URL --first R --step S --batches N` posts N batches of 1,000
events (runs R, R+S, R+2S... of `landing.moved`, so that clients never send the same ids);
`python -m bench.load dashboard URL --seconds T` asks for the overview of a rotating period
until T seconds have passed. The key comes from CONVOSCOPE_BENCH_KEY (never on the command
line). Prints one JSON object: latencies in ms, errors, events sent, elapsed seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import httpx

from bench.landing import day_of_events, moved

PERIODS = ("today", "last_7_days", "last_30_days", "last_month")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=("ingest", "dashboard"))
    parser.add_argument("url")
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--step", type=int, default=1)
    parser.add_argument("--batches", type=int, default=0, help="ingest: batches to send")
    parser.add_argument("--seconds", type=float, default=0, help="stop after this long")
    args = parser.parse_args()
    headers = {"Authorization": f"Bearer {os.environ['CONVOSCOPE_BENCH_KEY']}"}
    records = day_of_events() if args.kind == "ingest" else []
    latencies: list[float] = []
    errors, events = 0, 0
    started = time.perf_counter()

    def going(i: int) -> bool:
        if args.seconds and time.perf_counter() - started >= args.seconds:
            return False
        return not args.batches or i < args.batches

    with httpx.Client(base_url=args.url, headers=headers, timeout=120) as client:
        i = 0
        while going(i):
            if args.kind == "ingest":
                body = [moved(r, args.first + i * args.step) for r in records]
                t = time.perf_counter()
                response = client.post("/v1/events", json=body)
                events += len(body) if response.is_success else 0
            else:
                t = time.perf_counter()
                response = client.get("/v1/overview", params={"period": PERIODS[i % 4]})
            latencies.append((time.perf_counter() - t) * 1000)
            errors += not response.is_success
            i += 1
    elapsed = time.perf_counter() - started
    print(
        json.dumps(
            {"latencies_ms": latencies, "errors": errors, "events": events, "elapsed_s": elapsed}
        )
    )


if __name__ == "__main__":
    main()
