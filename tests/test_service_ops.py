"""Operations of the real server process: durability across SIGKILL, graceful shutdown on
SIGTERM, and schemathesis fuzzing of the OpenAPI schema."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from server import Server

from convoscope import accounts, conversations
from convoscope.store import Store

pytestmark = pytest.mark.server

BATCH = 200


def setup_db(db: Path) -> str:
    with Store(db) as store:
        store.ensure_workspace("w")
        return accounts.create_key(store, "w")


def batch(n: int) -> list[dict]:
    """Batch n: BATCH customers, each a welcome and a reply one second apart."""
    events = []
    for i in range(BATCH):
        common = {"channel": "web_chat", "customer_id": f"b{n}-c{i}"}
        events.append(
            {
                "event_id": f"b{n}-{i}-w",
                "ts": "2026-11-10T15:00:00Z",
                "type": "message",
                "sender": "chatbot",
                "welcome": True,
                **common,
            }
        )
        events.append(
            {
                "event_id": f"b{n}-{i}-r",
                "ts": "2026-11-10T15:00:01Z",
                "type": "message",
                "sender": "customer",
                **common,
            }
        )
    return events


@pytest.mark.slow
def test_acknowledged_batches_survive_sigkill(tmp_path):
    db = tmp_path / "durable.duckdb"
    key = setup_db(db)
    server = Server(db, tmp_path / "server.log").start()
    rng = random.Random(20261124)
    acknowledged: set[int] = set()
    sent = 0
    kills = 0
    deadline = time.monotonic() + 120
    while kills < 10 and time.monotonic() < deadline:
        proc = server.proc
        # The kill is timed from the round's first acknowledgement, so that every round
        # keeps at least one batch however slow the machine is.
        killer = threading.Timer(rng.uniform(0.0, 0.8), proc.kill)
        armed = False
        with httpx.Client(
            base_url=server.url, timeout=30, headers={"Authorization": f"Bearer {key}"}
        ) as client:
            while proc.poll() is None:
                n, sent = sent, sent + 1
                try:
                    r = client.post("/v1/events", json=batch(n))
                except httpx.TransportError:
                    break
                if r.status_code == 200:
                    acknowledged.add(n)
                    if not armed:
                        killer.start()
                        armed = True
                if time.monotonic() > deadline:
                    proc.kill()
        if armed:
            killer.join()
        proc.wait()
        kills += 1
        if kills < 10 and time.monotonic() < deadline:
            server.start()

    assert kills >= 5 and len(acknowledged) >= 10
    with Store(db) as store:
        # killed last: acknowledged batches may wait for their derivation, which any open
        # that reads (a command, a server) does first
        conversations.settle(store)
        rows = store.con.execute(
            "SELECT split_part(event_id, '-', 1), count(*), count(DISTINCT event_id) "
            "FROM events GROUP BY 1"
        ).fetchall()
        per_batch = {int(b[1:]): (total, distinct) for b, total, distinct in rows}
        for n in acknowledged:
            assert per_batch.get(n) == (2 * BATCH, 2 * BATCH), n  # there, exactly once
        for n, (total, _) in per_batch.items():
            assert total == 2 * BATCH, n  # nothing half there
        stored_conversations = store.con.execute(
            "SELECT * FROM conversations ORDER BY conversation_id"
        ).fetchall()
        conversations.rebuild(store)
        assert store.con.execute(
            "SELECT * FROM conversations ORDER BY conversation_id"
        ).fetchall() == (stored_conversations)
        assert len(stored_conversations) == BATCH * len(per_batch)
    print(
        f"durability: {kills} kills survived, {len(acknowledged)} acknowledged batches kept "
        f"exactly once, {len(per_batch) - len(acknowledged)} unacknowledged batches whole"
    )


def test_sigterm_finishes_the_request_in_flight(tmp_path):
    db = tmp_path / "graceful.duckdb"
    key = setup_db(db)
    server = Server(db, tmp_path / "server.log").start()
    body = httpx.Request("POST", "/", json=batch(0)).content
    half = len(body) // 2
    sent_first_half = threading.Event()
    terminated = threading.Event()

    def slow_body():
        yield body[:half]
        sent_first_half.set()
        terminated.wait(10)
        time.sleep(0.3)
        yield body[half:]

    result: dict = {}

    def post():
        with httpx.Client(base_url=server.url, timeout=30) as client:
            result["response"] = client.post(
                "/v1/events",
                content=slow_body(),
                headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            )

    thread = threading.Thread(target=post)
    thread.start()
    assert sent_first_half.wait(10)
    time.sleep(0.2)
    server.proc.send_signal(signal.SIGTERM)
    terminated.set()
    thread.join(30)
    assert result["response"].status_code == 200
    assert result["response"].json() == {"accepted": 2 * BATCH, "duplicates": 0}
    # uvicorn re-raises the signal once it has drained, so the exit status is SIGTERM's.
    assert server.proc.wait(30) in (0, -signal.SIGTERM)
    server.proc = None
    with Store(db) as store:
        assert store.con.execute("SELECT count(*) FROM events").fetchall() == [(2 * BATCH,)]


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path):
    db = tmp_path / "fuzz.duckdb"
    key = setup_db(db)
    server = Server(db, tmp_path / "server.log").start()
    try:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}) as c:
            assert c.post("/v1/events", json=batch(0)).status_code == 200
        st = Path(sys.executable).parent / "schemathesis"
        run = subprocess.run(
            [
                str(st),
                "run",
                f"{server.url}/openapi.json",
                "-H",
                f"Authorization: Bearer {key}",
                "--checks",
                "not_a_server_error,response_schema_conformance",
                "--max-examples",
                "40",
                "--seed",
                "7",
                "--max-time",
                "45",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert run.returncode == 0, run.stdout[-4000:]
        assert "passed" in run.stdout
    finally:
        server.stop()


PASSWORD = "correct horse battery"


@pytest.fixture
def served(tmp_path):
    """A real server on a database with workspace A (an admin and a key)."""
    db = tmp_path / "served.duckdb"
    with Store(db) as store:
        store.ensure_workspace("A", "America/Toronto")
        accounts.create_user(store, "admin@a.test", "A", "admin", PASSWORD)
        key = accounts.create_key(store, "A", "test")
    server = Server(db, tmp_path / "server.log").start()
    yield server, {"A": key}
    server.stop()


def test_access_log_holds_no_secrets(served):
    server, keys = served
    httpx.get(
        f"{server.url}/v1/overview",
        params={"period": "today"},
        headers={"Authorization": f"Bearer {keys['A']}"},
    )
    text = server.wait_for_log('"path": "/v1/overview"')
    assert '"path": "/v1/overview"' in text
    for secret in (keys["A"], PASSWORD, "cs_session", "period=today"):
        assert secret not in text
