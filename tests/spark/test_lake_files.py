"""Lake files and what a state was made of (issue 22): every bad file is a clear error naming
it, odd but valid files are read, other file systems are refused by name; a file rewritten in
place or a settings change makes a run full, a moved lake keeps its state. Apart from the
state tests over one derived lake (`test_lake_states`), so that the two run on two workers."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from lakes import (
    GOOD_EVENT,
    OUTLET,
    add_last_files,
    full_copy,
    lake_parts,
    lake_rows,
    small_lake,
    write_part,
)
from typer.testing import CliRunner

from convoscope import cli
from convoscope.engines import hadoop
from convoscope.engines import spark as engine
from convoscope.lake import Lake

runner = CliRunner()


def test_what_a_state_was_made_of_decides_incremental_or_full(spark, tmp_path):
    """A file rewritten in place and a settings change run in full (their rows then equal a
    clean full run); a moved lake keeps its state; `--full` with broken settings leaves the
    state as it was."""
    lake = small_lake(tmp_path / "lake", files=3)
    engine.sessionize(spark, lake)
    moved = Lake(tmp_path / "moved")
    shutil.move(lake.root, moved.root)
    assert engine.sessionize(spark, moved)["new_files"] == 0  # the same state, elsewhere
    # each cause alone makes the plan a full run (no Spark job): other settings...
    settings = moved.root / "workspaces.json"
    original = settings.read_bytes()
    other = json.dumps({"outlet": {**OUTLET, "inactivity_seconds": 900}})
    settings.write_text(other)
    assert engine.plan(moved).full
    settings.write_bytes(original)
    assert not engine.plan(moved).full  # the same settings again
    # ... and a file rewritten in place, with one event less
    write_part(moved.root, "shop", 1, lake_parts()["shop"][1][:-1])
    assert engine.plan(moved).full
    # both: the full run equals a clean one (the rewritten file's content included)
    settings.write_text(other)
    assert engine.sessionize(spark, moved)["mode"] == "full"
    assert lake_rows(spark, moved.root) == full_copy(spark, moved, tmp_path / "b")
    assert not engine.plan(moved).full and not engine.plan(moved).new  # nothing since
    # broken settings: refused, the state kept
    state = moved.manifest()
    settings.write_text("{not json")
    result = runner.invoke(cli.app, ["spark", "sessionize", "--lake", str(moved.root), "--full"])
    assert result.exit_code == 2 and "workspaces.json" in result.stderr
    assert moved.manifest() == state


GOOD = GOOD_EVENT


def _table(rows: list[dict[str, Any]], **types: pa.DataType) -> pa.Table:
    schema = pa.schema([(k, types.get(k, pa.string())) for k in rows[0]])
    return pa.Table.from_pylist(rows, schema=schema)


def _write(path: Path, data: bytes | pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        pq.write_table(data, path)


BAD_FILES = {
    "a text file named .parquet": (
        lambda root: _write(root / "events" / "workspace=shop" / "x.parquet", b"event_id,ts\n"),
        "x.parquet: not a readable Parquet file",
    ),
    "an empty file": (
        lambda root: _write(root / "events" / "workspace=shop" / "x.parquet", b""),
        "x.parquet: not a readable Parquet file",
    ),
    "a time that is a number": (
        lambda root: _write(
            root / "events" / "workspace=shop" / "x.parquet",
            _table([{**GOOD, "ts": 1763000000}], ts=pa.int64()),
        ),
        "x.parquet: column ts is int64, not a timestamp or RFC 3339 text",
    ),
    "a score that is text": (
        lambda root: _write(
            root / "events" / "workspace=shop" / "x.parquet",
            _table([{**GOOD, "type": "csat", "sender": None, "score": "5"}], score=pa.string()),
        ),
        "x.parquet: column score is string, not an integer",
    ),
    "nested junk": (
        lambda root: _write(
            root / "events" / "workspace=shop" / "x.parquet",
            _table([{**GOOD, "extra": {"a": 1}}], extra=pa.struct([("a", pa.int64())])),
        ),
        "x.parquet: column 'extra' is not an event field",
    ),
    "times given two ways": (
        lambda root: (
            _write(root / "events" / "workspace=shop" / "a.parquet", _table([GOOD])),
            _write(
                root / "events" / "workspace=shop" / "b.parquet",
                pa.table(
                    {
                        **{k: [v] for k, v in GOOD.items()},
                        "ts": pa.array([0], pa.timestamp("us", "UTC")),
                    }
                ),
            ),
        ),
        "b.parquet: ts is a timestamp here but text in",
    ),
    "an empty workspace= directory name": (
        lambda root: _write(root / "events" / "workspace=" / "x.parquet", _table([GOOD])),
        "x.parquet: workspace name must be 1 to 128 characters",
    ),
    "a workspace named ..": (
        lambda root: _write(root / "events" / "workspace=.." / "x.parquet", _table([GOOD])),
        "is a path, not a workspace name",
    ),
    "a workspace that escapes": (
        lambda root: _write(
            root / "events" / "workspace=..%2F..%2Fx" / "x.parquet", _table([GOOD])
        ),
        "is a path, not a workspace name",
    ),
    "a loop of directory links": (
        lambda root: (
            _write(root / "events" / "workspace=shop" / "x.parquet", _table([GOOD])),
            (root / "events" / "workspace=shop" / "again").symlink_to(root / "events"),
        ),
        "a loop of directory links?",
    ),
    "an inactivity of 3e9 seconds": (
        lambda root: (
            _write(root / "events" / "workspace=shop" / "x.parquet", _table([GOOD])),
            (root / "workspaces.json").write_text('{"shop": {"inactivity_seconds": 3000000000}}'),
        ),
        "workspaces.json: workspace 'shop': bad inactivity_seconds",
    ),
    "a teammate message without its teammate": (
        lambda root: _write(
            root / "events" / "workspace=shop" / "x.parquet",
            _table([{**GOOD, "sender": "teammate"}]),
        ),
        "x.parquet: record 0: field teammate_id",
    ),
    "an id of 5 MB": (
        lambda root: _write(
            root / "events" / "workspace=shop" / "x.parquet",
            _table([{**GOOD, "event_id": "e" * 5_000_000}]),
        ),
        "x.parquet: record 0: field event_id",
    ),
    "a workspace column that contradicts its directory": (
        lambda root: _write(
            root / "events" / "workspace=shop" / "x.parquet",
            _table([{**GOOD, "workspace": "outlet"}]),
        ),
        "x.parquet: record 0: field workspace",
    ),
    # a loose file's workspace is its column's: named as `store.check_workspace_name` names
    "a workspace named with a control character": (
        lambda root: _write(
            root / "events" / "x.parquet",
            _table([{**GOOD, "workspace": "shop"}, {**GOOD, "workspace": "sh\x85op"}]),
        ),
        "x.parquet: record 1: field workspace",
    ),
    "a workspace name of 129 characters": (
        lambda root: _write(
            root / "events" / "x.parquet", _table([{**GOOD, "workspace": "w" * 129}])
        ),
        "x.parquet: record 0: field workspace",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_every_bad_lake_file_is_a_clear_error(tmp_path, case):
    """Through the command: exit 2, the file (and record and field) named, no traceback,
    nothing written."""
    make, message = BAD_FILES[case]
    make(tmp_path)
    result = runner.invoke(cli.app, ["spark", "sessionize", "--lake", str(tmp_path)])
    assert result.exit_code == 2, (result.output, result.exception)
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "derived").exists()


def test_odd_but_valid_event_files_are_read(spark, tmp_path):
    """A file of no row (nothing to do), an upper-case `.PARQUET`, a loose file beside the
    `workspace=` directories (its workspace in a column), a name with glob characters (Spark
    would read `c[1].parquet` as a pattern), leftovers of a writer (`_temporary`,
    `.spark-staging`) skipped: each event counts once."""
    events = tmp_path / "events"
    _write(events / "workspace=shop" / "a.parquet", _table([GOOD]))
    _write(events / "workspace=shop" / "empty.parquet", _table([GOOD]).slice(0, 0))
    _write(
        events / "workspace=shop" / "b.PARQUET",
        _table([{**GOOD, "event_id": "e2", "ts": "2026-11-10T15:01:00Z"}]),
    )
    _write(events / "loose.parquet", _table([{**GOOD, "event_id": "e3", "workspace": "outlet"}]))
    _write(
        events / "workspace=shop" / "c[1].parquet",
        _table([{**GOOD, "event_id": "e4", "ts": "2026-11-10T15:02:00Z"}]),
    )
    _write(events / "workspace=shop" / "_temporary" / "0" / "part.parquet", b"")
    _write(events / "workspace=shop" / ".spark-staging-1" / "part.parquet", _table([GOOD]))
    done = engine.sessionize(spark, Lake(tmp_path))
    assert done["files"] == 5
    assert len(lake_rows(spark, tmp_path)["conversation_events"]) == 4
    rows = lake_rows(spark, tmp_path)["conversations"]
    assert sorted((r[0], r[1]) for r in rows) == [("outlet", "web_chat"), ("shop", "web_chat")]


def test_hadoop_storage_reads_a_file_whole(spark, tmp_path):
    """A file read through Hadoop (the manifest, `workspaces.json`) is its bytes exactly,
    larger than a buffer or empty; a missing one is none."""
    storage = hadoop.on_hadoop(spark, Lake(tmp_path)).storage
    data = os.urandom(300_000)
    (tmp_path / "big").write_bytes(data)
    (tmp_path / "empty").write_bytes(b"")
    root = Path(tmp_path).resolve()
    assert storage.read(root / "big") == data
    assert storage.read(root / "empty") == b""
    assert storage.read(root / "missing") is None


def test_a_lake_on_a_file_system_only_hadoop_reads(spark, tmp_path):
    """A lake named by a `viewfs://` URL (a Hadoop mount table over a directory here: Python
    cannot open such a path, so every listing, read, write and removal of a run goes through
    Hadoop's file system API, as on HDFS or S3): a full then an incremental run, through the
    command, derive exactly what the same lake as a directory does, and a report through
    `--engine spark` reads it. DuckDB, which reads local lakes, says to use Spark; an `s3a://`
    lake without Hadoop's S3 jars (not in PySpark) names the missing class."""
    mount = f"lake-{uuid.uuid4().hex[:8]}"
    directory = tmp_path / "mounted"
    spark.sparkContext._jsc.hadoopConfiguration().set(
        f"fs.viewfs.mounttable.{mount}.link./lake", directory.as_uri()
    )
    url = f"viewfs://{mount}/lake"
    lake = small_lake(directory)
    for _ in range(2):  # full, then incremental over the last files
        result = runner.invoke(cli.app, ["spark", "sessionize", "--lake", url])
        assert result.exit_code == 0, result.output
        add_last_files(lake)
    assert json.loads(result.stderr.splitlines()[-1])["mode"] == "incremental"
    assert lake_rows(spark, directory) == full_copy(spark, lake, tmp_path)

    def report(where: str, *engine_: str) -> Any:
        command = ["report", "--lake", where, "--workspace", "shop", "--format", "json"]
        result = runner.invoke(
            cli.app, [*command, "--from", "2026-11-17", "--to", "2026-11-21", *engine_]
        )
        return result.exit_code, result.stdout if result.exit_code == 0 else result.stderr

    via_spark = report(url, "--engine", "spark")
    assert via_spark == report(str(directory)) and via_spark[0] == 0
    refused = report(url)
    assert (
        refused[0] == 2 and f"{url}/derived/_manifest.json: a viewfs:// lake is read " in refused[1]
    )
    result = runner.invoke(cli.app, ["spark", "sessionize", "--lake", "s3a://bucket/lake"])
    assert result.exit_code == 2 and "S3AFileSystem not found" in result.stderr
