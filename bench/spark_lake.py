"""A lake on Spark in local mode: the first full `sessionize`, an incremental run after one
more day of events, the same day by a full run, and the overview read from the lake by
Spark (`report --engine spark`) and by DuckDB (`serve --lake`).

`python -m bench.spark_lake --events 1M [--master local[2]] [--days 60]` (PySpark and a Java
runtime needed: `pip install -e '.[spark]'`). The demo's events go to the lake as one
Parquet file per UTC day (a platform's daily drop), the last day held back for the
incremental run. Checks that the incremental run equals the full one (conversation rows);
prints figures; asserts nothing else.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from bench.common import machine, machine_line
from convoscope import bulk, demo
from convoscope.engines import spark as engine
from convoscope.lake import Lake, LakeTables
from convoscope.pages import overview
from convoscope.query import QueryParams

# a platform's fixed schema: the bulk import's record, the workspace in the directory
SCHEMA = bulk.RECORD_SCHEMA.remove(bulk.RECORD_SCHEMA.get_field_index("workspace"))
END = date(2026, 11, 20)


def write_days(events: list[dict[str, Any]], folder: Path) -> list[Path]:
    """One Parquet file per UTC day, in arrival order within the day; the files' names sort
    in day order, so the lake's arrival order is the demo's."""
    days: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        days[e["ts"][:10]].append(e)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for day in sorted(days):
        path = folder / f"{day}.parquet"
        rows = {c: [e.get(c) for e in days[day]] for c in SCHEMA.names}
        pq.write_table(pa.table(rows, schema=SCHEMA), path)
        paths.append(path)
    return paths


def timed(fn: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", default="1M", help="e.g. 200k, 1M")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--days", type=int, default=60)
    args = parser.parse_args()
    wanted = int(float(args.events.rstrip("kKmM")) * (1e6 if args.events[-1] in "mM" else 1e3))
    print(machine_line(machine()))
    per_day = max(1, round(wanted / args.days / 5.46))  # events per demo conversation
    events = list(demo.generate(days=args.days, per_day=per_day, seed=7, end=END, timezone="UTC"))
    print(f"{len(events):,} events over {args.days} days ({per_day} conversations a day)")
    started = time.perf_counter()
    session = engine.session(args.master)
    session.sparkContext.setLogLevel("ERROR")
    print(f"session start on {args.master}: {time.perf_counter() - started:.1f} s")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        held = work / "held"
        files = write_days(events, held)
        lake = work / "lake"
        target = lake / "events" / "workspace=demo"
        target.mkdir(parents=True)
        # the last day (and the stragglers the demo delivers the day after) held back
        held_back = [p for p in files if p.stem >= END.isoformat()]
        for path in files:
            if path not in held_back:
                shutil.copy(path, target / path.name)
        first_s, first = timed(lambda: engine.sessionize(session, Lake(lake)))
        for path in held_back:
            shutil.copy(path, target / path.name)
        day_s, day = timed(lambda: engine.sessionize(session, Lake(lake)))
        idle_s, _ = timed(lambda: engine.sessionize(session, Lake(lake)))
        one = events[-1] | {"event_id": "bench-one-more", "ts": events[-1]["ts"]}
        pq.write_table(pa.Table.from_pylist([one], schema=SCHEMA), target / "zz-one.parquet")
        one_s, one_run = timed(lambda: engine.sessionize(session, Lake(lake)))
        full_copy = work / "full"
        shutil.copytree(lake, full_copy)
        full_s, full = timed(lambda: engine.sessionize(session, Lake(full_copy), full=True))

        def rows(root: Path) -> list[tuple]:
            frame = engine.read_derived(session, Lake(root), Lake(root).manifest(), "conversations")
            return sorted(map(tuple, frame.drop("thread_key").collect()))

        if rows(lake) != rows(full_copy):
            raise SystemExit("the incremental run differs from the full run")
        n = full["rows"]["conversations"]
        print("| run | files | threads cut | wall s |\n|---|---:|---:|---:|")
        print(f"| first, full | {first['files']} | all | {first_s:.1f} |")
        print(
            f"| one more day, incremental | {day['new_files']} new ({day['read_files']} read) "
            f"| {day['threads']:,} "
            f"| {day_s:.1f} |"
        )
        print(f"| nothing new | 0 | 0 | {idle_s:.1f} |")
        print(
            f"| one more event, incremental | 1 new ({one_run['read_files']} read) "
            f"| {one_run['threads']:,} | {one_s:.1f} |"
        )
        print(f"| the same, full | {full['files']} | all | {full_s:.1f} |")
        print(f"{n:,} conversations; incremental = full: yes")
        query = QueryParams(period="last_30_days").resolve(
            "demo", "UTC", now=datetime(2026, 11, 21, 9, 30)
        )
        spark_times, duck_times = [], []
        spark_engine = engine.SparkEngine(session, Lake(lake), "demo")
        tables = LakeTables(Lake(lake), Lake(lake).workspace)
        for _ in range(3):
            spark_times.append(timed(lambda: overview.run(spark_engine, query))[0])
            duck_times.append(timed(lambda: overview.run(tables, query))[0])
        if overview.run(spark_engine, query) != overview.run(tables, query):
            raise SystemExit("Spark and DuckDB over the lake differ")
        print(
            f"overview last_30_days from the lake: Spark {statistics.median(spark_times):.2f} s, "
            f"DuckDB over the Parquet {statistics.median(duck_times) * 1000:.0f} ms "
            "(median of 3, in process)"
        )
        tables.close()
    session.stop()


if __name__ == "__main__":
    main()
