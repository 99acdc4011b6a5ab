"""HTTP ingestion on a real server: 1, 2 and 4 load generators (`bench.load`, separate
processes) posting batches of 1,000 events, then a mixed run (4 ingesting, 4 reading the
overview) during which `/healthz` is sampled for the derivation lag (how far the derived
tables trail the acknowledged events; reads never see it). Part of `python -m bench`; on its
own against an existing database (it writes into it: use a copy):
`.venv/bin/python -m bench.http_ingest --db PATH [--batches 30] [--mixed-seconds 60]`.
Prints the machine and Markdown tables; asserts nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from typing import Any

import httpx

from bench.common import Server, demo_key, serving, spread, step_parser

CLIENTS = (1, 2, 4)
RUNS_APART = 1000  # `landing.moved` runs: each round's clients use runs of their own


def clients(server: Server, key: str, commands: list[list[str]]) -> list[dict[str, Any]]:
    """Load generators started together; their reports."""
    env = {**os.environ, "CONVOSCOPE_BENCH_KEY": key}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.load", kind, server.url, *rest],
            stdout=subprocess.PIPE,
            env=env,
        )
        for kind, *rest in commands
    ]
    return [json.loads(p.communicate()[0]) for p in procs]


def ingestion(reports: list[dict[str, Any]]) -> dict[str, Any]:
    elapsed = max(r["elapsed_s"] for r in reports)
    return {
        "events_per_s": round(sum(r["events"] for r in reports) / elapsed),
        "batch_ms": spread([t for r in reports for t in r["latencies_ms"]]),
        "errors": sum(r["errors"] for r in reports),
    }


def ingesters(n: int, first: int, until: list[str]) -> list[list[str]]:
    return [["ingest", "--first", str(first + c), "--step", str(n), *until] for c in range(n)]


def sample_lag(url: str, stop: threading.Event) -> list[float]:
    """`derivation_lag_seconds` from /healthz every 0.1 s until `stop`."""
    lags: list[float] = []
    with httpx.Client(base_url=url, timeout=30) as client:
        while not stop.wait(0.1):
            lags.append(client.get("/healthz").json().get("derivation_lag_seconds", 0.0))
    return lags


def run(server: Server, key: str, batches: int, mixed_seconds: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for round_no, n in enumerate(CLIENTS, start=1):
        commands = ingesters(n, round_no * RUNS_APART, ["--batches", str(batches)])
        out[f"ingest_{n}"] = ingestion(clients(server, key, commands))
    stop = threading.Event()
    lags: list[float] = []
    sampler = threading.Thread(target=lambda: lags.extend(sample_lag(server.url, stop)))
    sampler.start()
    seconds = ["--seconds", str(mixed_seconds)]
    reports = clients(
        server,
        key,
        ingesters(4, (len(CLIENTS) + 1) * RUNS_APART, seconds)
        + [["dashboard", *seconds] for _ in range(4)],
    )
    stop.set()
    sampler.join()
    out["mixed"] = {
        "ingest": ingestion(reports[:4]),
        "overview_ms": spread([t for r in reports[4:] for t in r["latencies_ms"]]),
        "overview_errors": sum(r["errors"] for r in reports[4:]),
        "lag_s": {"p50": spread(lags)["p50"], "max": max(lags, default=0.0)},
    }
    out["server_peak_rss_mb"] = round(server.peak_rss_mb())
    return out


def print_tables(r: dict[str, Any]) -> None:
    print(
        "\n| HTTP ingestion, batches of 1,000 | events/s | batch p50 ms | batch p99 ms | errors |"
    )
    print("|---|---:|---:|---:|---:|")
    rows = [(f"{n} client{'s' if n > 1 else ''}", r[f"ingest_{n}"]) for n in CLIENTS]
    rows.append(("mixed: 4 ingesting, 4 reading", r["mixed"]["ingest"]))
    for label, i in rows:
        print(
            f"| {label} | {i['events_per_s']:,} | {i['batch_ms']['p50']} | "
            f"{i['batch_ms']['p99']} | {i['errors']} |"
        )
    m = r["mixed"]
    print(
        f"\nmixed run: overview p50 {m['overview_ms']['p50']} ms, p99 {m['overview_ms']['p99']}"
        f" ms, {m['overview_errors']} errors; derivation lag p50 {m['lag_s']['p50']} s, max "
        f"{m['lag_s']['max']} s; server peak RSS {r['server_peak_rss_mb']} MB"
    )


def main() -> None:
    parser = step_parser(__doc__, periods=False)
    parser.add_argument("--batches", type=int, default=30, help="per client and round")
    parser.add_argument("--mixed-seconds", type=float, default=60)
    args = parser.parse_args()
    key = demo_key(args.db)
    with serving(args.db) as server:
        print_tables(run(server, key, args.batches, args.mixed_seconds))


if __name__ == "__main__":
    main()
