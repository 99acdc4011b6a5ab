"""The cut of SPEC section 2 on Spark in local mode against DuckDB, on the same events.

`python -m bench.spark_cut --db DEMO.duckdb [--masters local[1],local[2]]` (PySpark and a
Java runtime needed: `pip install -e '.[spark]'`). DuckDB: a full re-cut of a copy of the
database (`conversations.rebuild`: every derived table and rollup). Spark: the events written
once as Parquet, read by Spark, every derived table computed by
`convoscope.engines.spark.derive` (the same statements, transpiled) and written as
Parquet; the session's start is timed apart.
Conversation counts are checked equal. Prints figures; asserts nothing else.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from bench.common import machine, machine_line
from convoscope import conversations
from convoscope.engines import spark as engine
from convoscope.store import Store


def duckdb_cut(db: Path, work: Path) -> tuple[float, int]:
    """Seconds for a full re-cut in a copy of `db`, and its conversation count."""
    copy = work / "copy.duckdb"
    shutil.copyfile(db, copy)
    with Store(copy) as store:
        started = time.perf_counter()
        conversations.rebuild(store)
        seconds = time.perf_counter() - started
        (count,) = store.con.execute("SELECT count(*) FROM conversations").fetchall()[0]
    return seconds, count


def spark_cut(master: str, events: Path, workspaces: Path, out: Path) -> dict[str, float]:
    """Seconds to start a session on `master`, then to cut and write every derived table."""
    from pyspark.sql import SparkSession

    started = time.perf_counter()
    session = engine.pin(
        SparkSession.builder.master(master)
        .appName("convoscope-bench")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "8g")
        .config(map=engine.BUILDER_SETTINGS)
        .getOrCreate()
    )
    start_s = time.perf_counter() - started
    try:
        started = time.perf_counter()
        derived = engine.derive(
            session, session.read.parquet(str(events)), session.read.parquet(str(workspaces))
        )
        for name, frame in derived.items():
            frame.write.mode("overwrite").parquet(str(out / name))
        cut_s = time.perf_counter() - started
        count = derived["conversations"].count()
    finally:
        session.stop()
    return {"start_s": round(start_s, 1), "cut_s": round(cut_s, 1), "conversations": count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--masters", default="local[1],local[2]")
    args = parser.parse_args()
    print(machine_line(machine()))
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        events, workspaces = work / "events.parquet", work / "workspaces.parquet"
        with Store(args.db) as store:
            (n,) = store.con.execute("SELECT count(*) FROM events").fetchall()[0]
            store.con.execute(
                "COPY (SELECT * REPLACE (CAST(thread_key AS VARCHAR) AS thread_key, "
                f"CAST(event_key AS VARCHAR) AS event_key) FROM events) TO '{events}'"
            )
            store.con.execute(
                "COPY (SELECT name, inactivity_seconds, escalated_inactivity_seconds, "
                f"csat_window_seconds FROM workspaces) TO '{workspaces}'"
            )
        seconds, expected = duckdb_cut(args.db, work)
        print(f"{n:,} events, {expected:,} conversations")
        print("| engine | session start s | cut s | events/s |\n|---|---:|---:|---:|")
        print(f"| DuckDB (full re-cut) | - | {seconds:.1f} | {n / seconds:,.0f} |")
        for master in args.masters.split(","):
            figures = spark_cut(master, events, workspaces, work / master.replace("[", "_"))
            if figures["conversations"] != expected:
                raise SystemExit(f"{master}: {figures['conversations']} conversations")
            print(
                f"| Spark {master} | {figures['start_s']} | {figures['cut_s']} "
                f"| {n / figures['cut_s']:,.0f} |"
            )


if __name__ == "__main__":
    main()
