"""Lakes for the Spark tier: two workspaces' events in `workspace=W/` files, and the rows of
a lake's derived tables or of a DuckDB file, comparable."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import SparkSession

from convoscope import demo
from convoscope.engines import spark as engine
from convoscope.event_fields import CONTENT_FIELDS
from convoscope.lake import Lake
from convoscope.store import DERIVED_TABLES, ROLLUP_TABLES, Store

# The zone of the tests' JVM and Python: neither UTC nor any workspace's.
HOSTILE_ZONE = "America/Toronto"


def plain(value: Any) -> Any:
    return list(value) if isinstance(value, list | tuple) else value


# One valid lake event (text time), for tests that change a field of it.
GOOD_EVENT = {
    "event_id": "e1",
    "ts": "2026-11-10T15:00:00Z",
    "type": "message",
    "channel": "web_chat",
    "customer_id": "c1",
    "sender": "customer",
}
OUTLET = {
    "timezone": "Asia/Kathmandu",
    "inactivity_seconds": 300,
    "escalated_inactivity_seconds": 7200,
    "csat_window_seconds": 86400,
}
LAKE_NOW = datetime(2026, 11, 21, 9, 30)
# The period the lake-state tests read (the last files change it).
PERIOD = {"from": "2026-11-17", "to": "2026-11-21"}


def lake_parts() -> dict[str, list[list[dict[str, Any]]]]:
    parts = {}
    for name, zone, seed in (("shop", "Europe/Paris", 11), ("outlet", OUTLET["timezone"], 12)):
        events = list(
            demo.generate(days=3, per_day=25, seed=seed, end=date(2026, 11, 20), timezone=zone)
        )
        third = len(events) // 3
        late = [e for i, e in enumerate(events[:third]) if i % 5 == 0]  # held back...
        first = [e for i, e in enumerate(events[:third]) if i % 5 != 0]
        # ...and a customer message in every gap of a thread: conversations merge late
        filler = [
            {
                "event_id": f"{e['event_id']}-gap",
                "channel": e["channel"],
                "customer_id": e["customer_id"],
                "type": "message",
                "sender": "customer",
                "ts": later(e["ts"], 240),
            }
            for e in events[:third:7]
            if e["type"] == "message"
        ]
        parts[name] = [
            first,
            events[third : 2 * third],
            late + events[2 * third :] + filler + first[:5],
        ]
    return parts


def later(ts: str, seconds: int) -> str:
    return (datetime.fromisoformat(ts) + timedelta(seconds=seconds)).isoformat()


def write_part(lake: Path, workspace: str, index: int, events: list[dict[str, Any]]) -> None:
    columns = ["event_id", *CONTENT_FIELDS]
    folder = lake / "events" / f"workspace={workspace}"
    folder.mkdir(parents=True, exist_ok=True)
    # a column no event of the file fills is left out, as a JSON-to-Parquet pipeline does:
    # the files of one lake need not have the same columns
    present = [c for c in columns if any(e.get(c) is not None for e in events)]
    rows = [{c: e.get(c) for c in present} for e in events]
    pq.write_table(pa.Table.from_pylist(rows), folder / f"part-{index}.parquet")


# What each engine numbers its own way: the thread key (a digest) and the commerce events'
# arrival number (the store's count, Spark's file rank and row): the same order, other values.
NUMBERED = ("thread_key", "seq")


def lake_rows(spark: SparkSession, lake: Path) -> dict[str, list[tuple]]:
    out = {}
    for table in (*DERIVED_TABLES, *ROLLUP_TABLES):
        found = engine.read_derived(spark, Lake(lake), Lake(lake).manifest(), table)
        columns = [c for c, _ in engine.derived_schema(table) if c not in NUMBERED]
        rows = found.select(*columns).collect()
        out[table] = sorted((tuple(plain(v) for v in r) for r in rows), key=repr)
    return out


def store_rows(store: Store) -> dict[str, list[tuple]]:
    out = {}
    for table in (*DERIVED_TABLES, *ROLLUP_TABLES):
        columns = [c for c, _ in engine.derived_schema(table) if c not in NUMBERED]
        rows = store.con.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
        out[table] = sorted((tuple(plain(v) for v in r) for r in rows), key=repr)
    return out


def small_lake(root: Path, files: int = 2) -> Lake:
    """A lake with the first `files` files of each workspace (of three) and its settings."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "workspaces.json").write_text(json.dumps({"outlet": OUTLET}))
    for workspace, parts in lake_parts().items():
        for i in range(files):
            write_part(root, workspace, i, parts[i])
    return Lake(root)


def copy_lake(root: Path, tmp_path: Path) -> Lake:
    """A copy of a derived lake (times kept, so its state holds), for one test to change."""
    shutil.copytree(root, tmp_path / "lake")
    return Lake(tmp_path / "lake")


def add_last_files(lake: Lake) -> None:
    for workspace, parts in lake_parts().items():
        write_part(lake.root, workspace, 2, parts[2])


def full_copy(spark, lake: Lake, tmp: Path) -> dict[str, list[tuple]]:
    """The rows of the same events derived in one clean full run."""
    clean = tmp / "clean"
    shutil.copytree(lake.events, clean / "events")
    shutil.copy(lake.root / "workspaces.json", clean / "workspaces.json")
    engine.sessionize(spark, Lake(clean), full=True)
    return lake_rows(spark, clean)
