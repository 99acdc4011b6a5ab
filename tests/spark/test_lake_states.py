"""The lake as committed states (issue 22), over one derived lake: readers polling a server
while runs write see the state before or after, never a mixture and never an error; a run
interrupted between its tables or a command killed with SIGKILL leaves the previous state, and
a re-run equals a clean full run; leftovers are never read and are collected. Bad files and
what a state was made of: `test_lake_files`."""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import httpx
import pytest
from lakes import PERIOD, add_last_files, copy_lake, full_copy, lake_parts, lake_rows, write_part
from server import Server
from typer.testing import CliRunner

from convoscope import accounts, cli
from convoscope.engines import spark as engine
from convoscope.store import DERIVED_TABLES, Store

runner = CliRunner()


class Interrupted(Exception):
    """A run stopped at a chosen write (what a kill does to the files: some written)."""


def test_a_run_stopped_between_tables_leaves_the_previous_state(
    spark, derived, tmp_path, monkeypatch
):
    """A run interrupted after its 9th table, between the rollups (derived tables are
    written first, the rollups last; a stale rollup row used to stay after such a kill):
    readers keep the previous state, and the next run equals a clean full run. Every table
    is committed the same way (the state names it at the end), so one place stands for all:
    a stop after the first table was the same test for 72 s more of CI."""
    after_writes = len(DERIVED_TABLES) + 1
    lake = copy_lake(derived, tmp_path)
    previous = lake_rows(spark, lake.root)
    before = lake.manifest()
    add_last_files(lake)
    files = engine.Run._files
    finished = itertools.count(1)  # tables are written a thread each: `next` counts atomically

    def stopping(self, table, rows):
        written = files(self, table, rows)
        if next(finished) == after_writes:
            raise Interrupted(table)
        return written

    monkeypatch.setattr(engine.Run, "_files", stopping)
    with pytest.raises(Interrupted):
        engine.sessionize(spark, lake)
    monkeypatch.setattr(engine.Run, "_files", files)
    assert lake.manifest() == before
    assert lake_rows(spark, lake.root) == previous
    done = engine.sessionize(spark, lake)
    assert done["mode"] == "incremental" and done["new_files"] == 2
    assert lake_rows(spark, lake.root) == full_copy(spark, lake, tmp_path)


def test_leftovers_are_never_read_and_are_collected(spark, derived, tmp_path):
    """Files no state lists (a Spark staging directory, a zero-byte file, a complete copy of
    a listed file) change no number and no reader fails on them; a run removes them once
    older than the grace period."""
    lake = copy_lake(derived, tmp_path)
    previous = lake_rows(spark, lake.root)
    listed = lake.derived / lake.manifest().tables["conversations"][0].path
    junk = [
        lake.table("conversations") / ".spark-staging-1" / "part-0.parquet",
        lake.table("conversations")
        / "run=9-dead"
        / "workspace=shop"
        / "day=2026-11-19"
        / "x.parquet",
        lake.table("conversations") / "workspace=shop" / "day=2026-11-19" / "copy.parquet",
    ]
    for path in junk:
        path.parent.mkdir(parents=True, exist_ok=True)
    junk[0].write_bytes(b"")
    junk[1].write_bytes(b"")
    shutil.copy(listed, junk[2])
    assert lake_rows(spark, lake.root) == previous
    url = lake.root.as_uri()  # a file:// URL names the same lake
    result = runner.invoke(
        cli.app, ["report", "--lake", url, "--workspace", "shop", *_period(), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    old = time.time() - 3600
    for path in junk:
        os.utime(path, (old, old))
    engine.sessionize(spark, lake)  # nothing new: it still collects
    assert not any(path.exists() for path in junk)
    assert listed.exists() and lake_rows(spark, lake.root) == previous


def _period() -> list[str]:
    return ["--from", PERIOD["from"], "--to", PERIOD["to"]]


def test_an_event_id_sent_again_on_another_thread_is_a_conflict(spark, derived, tmp_path):
    """As `convoscope import` refuses it: the later file names the record, nothing changes."""
    lake = copy_lake(derived, tmp_path)
    state = lake.manifest()
    again = {**lake_parts()["shop"][0][0], "customer_id": "someone-else"}
    write_part(lake.root, "shop", 5, [again])
    result = runner.invoke(cli.app, ["spark", "sessionize", "--lake", str(lake.root)])
    assert result.exit_code == 2, result.output
    assert "part-5.parquet: record 0: field event_id:" in result.stderr
    assert "conflict" in result.stderr
    assert lake.manifest() == state


def test_a_bad_record_is_reported_before_a_conflict(spark, derived, tmp_path):
    """The records' check and the search for earlier copies run at once; a file with both a
    bad record and a conflict names the bad record, as when they ran in turn."""
    lake = copy_lake(derived, tmp_path)
    state = lake.manifest()
    first = lake_parts()["shop"][0][0]
    again = {**first, "customer_id": "someone-else"}
    bad = {**first, "event_id": "never-sent", "type": "csat", "sender": None, "score": 9}
    write_part(lake.root, "shop", 5, [again, bad])
    result = runner.invoke(cli.app, ["spark", "sessionize", "--lake", str(lake.root)])
    assert result.exit_code == 2, result.output
    assert "part-5.parquet: record 1: field score: missing or not allowed" in result.stderr
    assert "conflict" not in result.stderr
    assert lake.manifest() == state


def _answer(response: httpx.Response) -> tuple[int, Any]:
    return response.status_code, response.json() if response.status_code == 200 else response.text


def test_readers_see_the_state_before_or_after_while_runs_write(spark, derived, tmp_path):
    """`serve --lake` polled in a loop while a full run and then an incremental run rewrite
    the lake: every answer is a 200 equal to the answer before the run or after it."""
    lake = copy_lake(derived, tmp_path)
    accounts_db = tmp_path / "accounts.duckdb"
    with Store(accounts_db) as store:
        store.ensure_workspace("shop", "Europe/Paris")
        key = accounts.create_key(store, "shop")
    server = Server(accounts_db, tmp_path / "lake.log", args=("--lake", str(lake.root))).start()
    client = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"})
    seen: dict[str, list[tuple[int, Any]]] = {}
    try:
        for label, run in (
            ("full", lambda: engine.sessionize(spark, lake, full=True)),
            ("incremental", lambda: (add_last_files(lake), engine.sessionize(spark, lake))),
        ):
            before = _answer(client.get("/v1/overview", params=PERIOD))
            answers: list[tuple[int, Any]] = []
            done = threading.Event()

            def poll(
                answers: list[tuple[int, Any]] = answers, done: threading.Event = done
            ) -> None:
                while not done.is_set():
                    answers.append(_answer(client.get("/v1/overview", params=PERIOD)))

            poller = threading.Thread(target=poll)
            poller.start()
            try:
                run()
            finally:
                done.set()
                poller.join()
            after = _answer(client.get("/v1/overview", params=PERIOD))
            assert before[0] == after[0] == 200
            seen[label] = answers
            assert len(answers) >= 20, len(answers)
            mixed = [a for a in answers if a not in (before, after)]
            assert not mixed, (label, len(mixed), mixed[0])
            if label == "incremental":
                assert before != after  # the late files changed the numbers
        assert httpx.get(server.url + "/healthz").status_code == 200
    finally:
        server.stop()
    print({label: len(answers) for label, answers in seen.items()})


@pytest.mark.slow
def test_a_killed_command_leaves_the_previous_state(spark, derived, tmp_path):
    """`convoscope spark sessionize` killed with SIGKILL at several moments of its run: the
    state stays the previous one, its leftovers are never read, and a re-run is exact."""
    lake = copy_lake(derived, tmp_path)
    previous = lake_rows(spark, lake.root)
    add_last_files(lake)
    command = [sys.executable, "-m", "convoscope", "spark", "sessionize", "--lake", str(lake.root)]
    env = {**os.environ, "CONVOSCOPE_SPARK_MASTER": "local[1]"}
    for delay in (8.0, 16.0):
        proc = subprocess.Popen(command, env=env, start_new_session=True)
        time.sleep(delay)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        if lake.manifest().version > 1:  # the run finished before the kill: nothing to test
            break
        assert lake_rows(spark, lake.root) == previous, delay
    done = engine.sessionize(spark, lake)
    assert done["mode"] == "incremental" or lake.manifest().version > 1
    assert lake_rows(spark, lake.root) == full_copy(spark, lake, tmp_path)


def test_replaced_files_are_kept_for_the_grace_period_then_removed(spark, derived, tmp_path):
    """An incremental run retires the files of the partitions it replaces: still there for a
    reader on the previous state, removed by the next run once the grace period is over,
    and never a listed file."""
    lake = copy_lake(derived, tmp_path)
    add_last_files(lake)
    engine.sessionize(spark, lake)
    state = lake.manifest()
    assert state.retired and all((lake.derived / p).exists() for p in state.retired)
    rows = lake_rows(spark, lake.root)
    assert lake.collect(state) == set()  # within the grace period: kept
    assert lake.collect(state, grace_seconds=0) == set(state.retired)
    assert not any((lake.derived / p).exists() for p in state.retired)
    assert all((lake.derived / p).exists() for p in state.listed())
    assert lake_rows(spark, lake.root) == rows
