"""The benchmark suite, one command: `python -m bench --events 10M [--out FILE]`.

Builds the deterministic demo at the given size (a year of a retailer's traffic, seed 7, ending
today so that every period has data), then measures in this order: bulk import from Parquet and
JSON Lines; the overview in process and against the PostgreSQL and pandas baselines on the
same conversations (numbers checked equal first, runs interleaved); a 1,000-event batch landing
in a copy of the database and in an empty one; over HTTP on a real server, every page cold
and warm (`bench.http_pages`), ingestion from load generators in separate processes (1, 2 and
4 clients), a mixed run with the derivation lag and the server's peak memory
(`bench.http_ingest`); `convoscope report` as a process. Prints
Markdown tables (pasted into bench/README.md) and writes every figure with the machine as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq

from bench import http_ingest
from bench.baselines import overview_in_process, print_plans, print_team, ratio
from bench.common import machine, machine_line, serving, spread
from bench.http_pages import PERIODS, page_times
from bench.http_pages import print_table as print_pages
from bench.landing import landing_times, moved
from convoscope import accounts, bulk, demo
from convoscope.store import Store

SEED = 7
DAYS = 365
EVENTS_PER_CONVERSATION = 5.46  # events per `--per-day` conversation the demo makes, on average
IMPORT_SAMPLE = 1_000_000  # import rates are measured on at most this many events
PARQUET_ROW_GROUP = 122_880  # rows per row group of the Parquet written, DuckDB's own size
IMPORT_RUN = 9_000  # `landing.moved`'s run for the imported records: customers past the demo's


def count(text: str) -> int:
    """`10M`, `1M`, `20k` or a plain number."""
    units = {"k": 1_000, "m": 1_000_000}
    suffix = text[-1].lower()
    return int(float(text[:-1]) * units[suffix]) if suffix in units else int(text)


def convoscope(*args: str, env: dict[str, str] | None = None) -> float:
    """Run the CLI as its own process; seconds of wall time."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "convoscope", *args],
        check=True,
        capture_output=True,
        env={**os.environ, **(env or {})},
    )
    return time.perf_counter() - started


def build_demo(db: Path, per_day: int, end: date) -> dict[str, Any]:
    seconds = convoscope(
        "demo", "--no-serve", "--db", str(db), "--days", str(DAYS), "--per-day", str(per_day),
        "--seed", str(SEED), "--end", end.isoformat(),
    )  # fmt: skip
    with Store(db) as store:
        events, conversations = store.con.execute(
            "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM conversations)"
        ).fetchone() or (0, 0)
    return {
        "events": events,
        "conversations": conversations,
        "seconds": round(seconds, 1),
        "events_per_s": round(events / seconds),
    }


def import_rates(work: Path, db: Path, per_day: int, end: date, limit: int) -> dict[str, Any]:
    """The demo's first `limit` records written as Parquet and JSON Lines, each imported by
    `convoscope import` (whole process, validation and re-cut included) into a new database
    and into a copy of the demo database `db`. The records get ids and customers of their own
    (`landing.moved`, customers numbered past the demo's), so that in the copy they are new
    events of new threads rather than copies of the stored ones."""
    records = []
    for record in demo.generate(days=DAYS, per_day=per_day, seed=SEED, end=end):
        records.append(moved(record, IMPORT_RUN))
        if len(records) == limit:
            break
    parquet, jsonl = work / "events.parquet", work / "events.jsonl"
    # every field of SPEC section 1 as a column (the demo's flows and sales among them), in
    # row groups of DuckDB's own size: a reader splits a file by row group, and pyarrow's
    # default (1Mi rows) would make a million events one group that one thread reads
    table = pa.Table.from_pylist(records, schema=bulk.RECORD_SCHEMA)
    pq.write_table(table, parquet, row_group_size=PARQUET_ROW_GROUP)
    with jsonl.open("w", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in records)
    out: dict[str, Any] = {"events": len(records)}
    distinct = len({r["event_id"] for r in records})  # the demo re-sends a few: duplicates
    for name, path in (("parquet", parquet), ("jsonl", jsonl)):
        for into, start in ((name, None), (f"{name}_into_demo", db)):
            target = work / f"import-{into}.duckdb"
            if start is not None:
                shutil.copy(start, target)
            stored = _events(target) if start is not None else 0
            seconds = convoscope("import", str(path), "-w", "demo", "--db", str(target))
            if _events(target) != stored + distinct:  # every id a new event
                raise SystemExit(f"import {into}: not every record was stored as a new event")
            out[into] = {
                "seconds": round(seconds, 2),
                "events_per_s": round(len(records) / seconds),
            }
            target.unlink()
        path.unlink()
    return out


def _events(db: Path) -> int:
    with Store(db) as store:
        (events,) = store.con.execute("SELECT count(*) FROM events").fetchone() or (0,)
    return int(events)


def landing(db: Path, work: Path, batches: int) -> dict[str, Any]:
    copy = work / "landing.duckdb"
    shutil.copy(db, copy)
    large, large_derive = landing_times(copy, batches)
    empty, empty_derive = landing_times(work / "empty.duckdb", batches)
    copy.unlink()
    return {
        "large": spread(large),
        "empty": spread(empty),
        "ratio": round(spread(large)["p50"] / spread(empty)["p50"], 2),
        "large_derive": spread(large_derive),
        "empty_derive": spread(empty_derive),
    }


def over_http(db: Path, today: date, args: argparse.Namespace) -> dict[str, Any]:
    with Store(db) as store:
        key = accounts.create_key(store, "demo")
    out: dict[str, Any] = {}
    with serving(db) as server:
        with httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=120
        ) as client:
            out["pages"] = page_times(client, today, args.runs)
            for name in PERIODS:
                out[name] = out["pages"]["overview"][name]
        out.update(http_ingest.run(server, key, args.ingest_batches, args.mixed_seconds))
    return out


def report_wall(db: Path, work: Path, runs: int) -> dict[str, Any]:
    """`convoscope report` as a process, as an installed copy starts: its modules compiled once
    (a wheel's install compiles them; here into a cache in `work`, by a first run timed apart,
    whatever PYTHONDONTWRITEBYTECODE says), then `runs` runs."""
    args = ("report", "-w", "demo", "--db", str(db), "--period", "last_7_days", "--format", "json")
    env = {"PYTHONPYCACHEPREFIX": str(work / "pycache"), "PYTHONDONTWRITEBYTECODE": ""}
    first = convoscope(*args, env=env) * 1000
    return {
        **spread([convoscope(*args, env=env) * 1000 for _ in range(runs)]),
        "first": round(first),
    }


def print_tables(r: dict[str, Any]) -> None:
    print(machine_line(r["machine"]))
    d = r["demo"]
    print(
        f"\ndata: {d['events']:,} events, {d['conversations']:,} conversations "
        f"(demo, {DAYS} days, {r['per_day']:,} conversations a day, seed {SEED}, "
        f"ending {r['end']})\n"
    )
    i = r["import"]
    print("| bulk | events/s | seconds |\n|---|---:|---:|")
    print(f"| demo build ({d['events']:,} events) | {d['events_per_s']:,} | {d['seconds']} |")
    for fmt in ("parquet", "jsonl"):
        for key, into in ((fmt, "an empty database"), (f"{fmt}_into_demo", "the demo's copy")):
            if key in i:  # results written before the import into the demo's copy lack it
                print(f"| import {fmt} ({i['events']:,} events) into {into} "
                      f"| {i[key]['events_per_s']:,} | {i[key]['seconds']} |")  # fmt: skip
    w = r["landing"]
    print("\n| 1,000-event batch landing (acknowledged) | p50 ms | p95 ms |\n|---|---:|---:|")
    print(
        f"| into the {d['events']:,}-event database | {w['large']['p50']} | {w['large']['p95']} |"
    )
    print(f"| into an empty database | {w['empty']['p50']} | {w['empty']['p95']} |")
    print(f"| ratio | {w['ratio']}x | |")
    print(
        f"| then derived, in the large database | {w['large_derive']['p50']} | "
        f"{w['large_derive']['p95']} |"
    )
    print(f"| then derived, empty | {w['empty_derive']['p50']} | {w['empty_derive']['p95']} |")
    print(
        "\n| overview (ms) | run cold | run p50 | run p95 | HTTP cold | HTTP p50 | HTTP p95 "
        "| PostgreSQL p50 | PG/ours | pandas p50 | pandas/ours |\n|---|" + "---:|" * 10
    )
    for name in PERIODS:
        o, h = r["overview"][name], r["http"][name]
        mine, pg, pd_ = o["convoscope"]["p50"], o["postgres"]["p50"], o["pandas"]["p50"]
        print(
            f"| {name} | {o['cold_ms']} | {mine} | {o['convoscope']['p95']} | {h['cold_ms']} "
            f"| {h['warm']['p50']} | {h['warm']['p95']} | {pg} | {ratio(pg, mine)} | {pd_} "
            f"| {ratio(pd_, mine)} |"
        )
    print_team(r["overview"])
    print_team(r["overview"], "chatbot", "Chatbot Performance")
    print_team(r["overview"], "sales", "Sales Attribution")
    print_pages(r["http"]["pages"])
    h = r["http"]
    http_ingest.print_tables(h)
    print(
        f"`convoscope report` as a process: p50 {r['report_ms']['p50']} ms "
        f"(its first run, compiling its modules: {r['report_ms'].get('first', '-')} ms); "
        "baselines loaded in: PostgreSQL "
        f"{r['overview']['postgres_load_s']} s, pandas {r['overview']['pandas_load_s']} s"
    )
    print_plans(r["overview"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=count, default=count("10M"), help="e.g. 10M, 1M, 20k")
    parser.add_argument("--out", type=Path, help="JSON file (default bench/results-N.json)")
    parser.add_argument("--runs", type=int, default=10, help="warm runs per period")
    parser.add_argument("--batches", type=int, default=20, help="batches landed in process")
    parser.add_argument("--ingest-batches", type=int, default=100, help="per HTTP client")
    parser.add_argument("--mixed-seconds", type=int, default=120)
    parser.add_argument("--work", type=Path, help="folder for the databases (default: temp)")
    args = parser.parse_args()
    end = datetime.now(UTC).date()
    per_day = max(1, round(args.events / DAYS / EVENTS_PER_CONVERSATION))
    results: dict[str, Any] = {
        "machine": machine(),
        "per_day": per_day,
        "end": end.isoformat(),
        "mixed_seconds": args.mixed_seconds,
    }
    if args.work:
        args.work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        work = Path(tmp)
        db = work / "demo.duckdb"
        step = "demo"
        try:
            results["demo"] = build_demo(db, per_day, end)
            step = "import"
            results["import"] = import_rates(work, db, per_day, end, IMPORT_SAMPLE)
            step = "overview"
            results["overview"] = overview_in_process(db, end, args.runs, work)
            step = "landing"
            results["landing"] = landing(db, work, args.batches)
            step = "http"
            results["http"] = over_http(db, end, args)
            step = "report"
            results["report_ms"] = report_wall(db, work, 9)
        except subprocess.CalledProcessError as exc:
            raise SystemExit(f"{step}: {exc}\n{exc.stderr.decode(errors='replace')}") from None
    out = args.out or Path(__file__).parent / f"results-{args.events}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print_tables(results)
    print(f"\nwritten: {out}")


if __name__ == "__main__":
    main()
