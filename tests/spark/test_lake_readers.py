"""The lake as committed states while things happen to it (issue 22): readers polling a
server while runs rewrite the lake see the state before or after, never a mixture and never an
error; a command killed with SIGKILL leaves the previous state. Apart from the other state
tests so that the two halves run on two workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import httpx
import pytest
from lakes import PERIOD, add_last_files, copy_lake, full_copy, lake_rows
from server import Server

from convoscope import accounts
from convoscope.engines import spark as engine
from convoscope.store import Store


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
