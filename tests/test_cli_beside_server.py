"""The CLI beside a running server (issue 21): while `convoscope serve` holds the database,
reports, exports, workspaces, users and keys go through it, as processes a user runs; the
commands that cannot (imports) still say the file is busy; the way in is this machine's
only, with the token the server wrote beside the database."""

from __future__ import annotations

import json
import signal
import stat

import httpx
import pytest
from server import Server, convoscope

from convoscope import accounts
from convoscope.cli.running import control_file
from convoscope.store import Store

pytestmark = pytest.mark.server

DAY = ["--from", "2026-11-10", "--to", "2026-11-10"]
EVENTS = [
    {"event_id": "e1", "ts": "2026-11-10T15:00:00Z", "type": "message", "sender": "customer"},
    {"event_id": "e2", "ts": "2026-11-10T15:00:30Z", "type": "transfer_request"},
    {
        "event_id": "e3",
        "ts": "2026-11-10T15:02:00Z",
        "type": "message",
        "sender": "teammate",
        "teammate_id": "ana",
    },
    {"event_id": "e4", "ts": "2026-11-10T15:05:00Z", "type": "close", "teammate_id": "ana"},
]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A real server on a database with workspace A, a key and a conversation."""
    tmp = tmp_path_factory.mktemp("beside")
    db = tmp / "served.duckdb"
    with Store(db) as store:
        store.ensure_workspace("A", "UTC")
        key = accounts.create_key(store, "A", "test")
    server = Server(db, tmp / "server.log").start()
    auth = {"Authorization": f"Bearer {key}"}
    events = [{**e, "channel": "web_chat", "customer_id": "c1"} for e in EVENTS]
    assert httpx.post(f"{server.url}/v1/events", json=events, headers=auth).status_code == 200
    yield server, auth
    if server.proc is not None:
        server.stop()


def test_the_server_announces_itself_to_its_owner_only(served):
    server, _ = served
    path = control_file(server.db)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    found = json.loads(path.read_text())
    assert found["url"] == server.url and len(found["token"]) >= 40
    assert found["token"] not in server.log.read_text()


def test_keys_and_users_are_managed_while_the_server_runs(served):
    server, _ = served
    made = convoscope("key", "create", "-w", "A", "--name", "curl", db=server.db)
    assert made.returncode == 0, made.stderr
    assert "asked it" in made.stderr  # says where the work was done
    key = made.stdout.strip().splitlines()[-1]
    mine = {"Authorization": f"Bearer {key}"}
    assert httpx.get(f"{server.url}/v1/me", headers=mine).json()["workspace"] == "A"
    listed = convoscope("key", "list", "-w", "A", db=server.db)
    assert listed.returncode == 0 and "curl" in listed.stdout and "test" in listed.stdout
    key_id = key.removeprefix("csk_")[:12]
    assert convoscope("key", "revoke", key_id, db=server.db).returncode == 0
    assert httpx.get(f"{server.url}/v1/me", headers=mine).status_code == 401
    again = convoscope("key", "revoke", key_id, db=server.db)
    assert again.returncode == 2 and f"no active key '{key_id}'" in again.stderr

    pw = "a long enough password"
    user = convoscope("user", "create", "b@a.test", "-w", "A", db=server.db, stdin=pw + "\n")
    assert user.returncode == 0, user.stderr
    signed_in = httpx.post(f"{server.url}/login", data={"email": "b@a.test", "password": pw})
    assert signed_in.status_code == 200
    users = convoscope("user", "list", "-w", "A", db=server.db)
    assert "b@a.test" in users.stdout
    assert (
        convoscope(
            "workspace", "create", "B", "--timezone", "Europe/Paris", db=server.db
        ).returncode
        == 0
    )
    assert "Europe/Paris" in convoscope("workspace", "list", db=server.db).stdout


def test_reports_and_exports_through_the_server_equal_the_api_and_the_file(served, tmp_path):
    server, auth = served
    page = convoscope("report", "-w", "A", *DAY, "--format", "json", db=server.db)
    assert page.returncode == 0, page.stderr
    api = httpx.get(
        f"{server.url}/v1/overview", params={"from": "2026-11-10", "to": "2026-11-10"}, headers=auth
    )
    assert json.loads(page.stdout) == api.json()
    assert api.json()["tiles"]["total_conversations"] == 1
    table = convoscope("report", "-w", "A", *DAY, "--page", "team", db=server.db)
    assert table.returncode == 0 and "ana" in table.stdout
    out = tmp_path / "teammates.csv"
    csv = convoscope("export", "teammates", "-w", "A", *DAY, "--output", str(out), db=server.db)
    assert csv.returncode == 0, csv.stderr
    api_csv = httpx.get(
        f"{server.url}/v1/reports/teammates.csv",
        params={"from": "2026-11-10", "to": "2026-11-10"},
        headers=auth,
    )
    assert out.read_bytes() == api_csv.content

    # the same commands once the server has stopped: the same output, read from the file
    server.stop()
    assert not control_file(server.db).exists()
    alone = convoscope("report", "-w", "A", *DAY, "--page", "team", db=server.db)
    assert alone.returncode == 0 and alone.stdout == table.stdout
    assert "asked it" not in alone.stderr
    server.start()


def test_refusals_through_the_server_name_the_option(served, tmp_path):
    server, _ = served
    cases = [
        (("report", "-w", "Nope"), "no workspace 'Nope'"),
        (("report", "-w", "A", "--channels", "sms"), "--channels: no data on sms"),
        (("report", "-w", "A", "--page", "chatbot", "--teammates", "ana"), "--teammates:"),
        (("report", "-w", "A", "--from", "2026-11-31"), "use YYYY-MM-DD"),
        (("key", "create", "-w", "Nope"), "Nope"),
    ]
    for args, message in cases:
        done = convoscope(*args, db=server.db)
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr and "Traceback" not in done.stderr
    events = tmp_path / "more.jsonl"
    events.write_text(json.dumps({**EVENTS[0], "channel": "web_chat", "customer_id": "c2"}))
    busy = convoscope("import", str(events), "-w", "A", db=server.db)
    assert busy.returncode == 1 and "open in another process" in busy.stderr


def test_the_operator_way_in_needs_the_token_and_is_not_public(served):
    server, auth = served
    url = f"{server.url}/v1/operator/workspaces"
    assert httpx.post(url, json={}).status_code == 403
    assert httpx.post(url, json={}, headers=auth).status_code == 403
    wrong = {"X-Convoscope-Operator": "x" * 43}
    assert httpx.post(url, json={}, headers=wrong).status_code == 403
    token = json.loads(control_file(server.db).read_text())["token"]
    right = {"X-Convoscope-Operator": token}
    assert httpx.post(url, json={}, headers=right).json()["result"][0][0] == "A"
    unknown = httpx.post(f"{server.url}/v1/operator/rebuild", json={}, headers=right)
    assert unknown.status_code == 404
    odd = httpx.post(url, json={"surprise": 1}, headers=right)
    assert odd.status_code == 422
    read = f"{server.url}/v1/operator/read"
    args = {"what": "report", "name": "overview", "workspace_name": "A", "params": {}}
    assert httpx.post(read, json=args, headers=right).status_code == 200
    for bad in ({"what": "drop"}, {"name": "nope"}, {"params": []}, {"params": {"period": 7}}):
        refused = httpx.post(read, json={**args, **bad}, headers=right)
        assert refused.status_code == 422, bad
    assert "/v1/operator" not in json.dumps(httpx.get(f"{server.url}/openapi.json").json())


def test_a_killed_server_leaves_a_file_the_cli_gets_past(served):
    server, _ = served
    server.stop(signal.SIGKILL)
    assert control_file(server.db).exists()  # nobody removed it
    done = convoscope("workspace", "list", db=server.db)
    assert done.returncode == 0 and "asked it" not in done.stderr
    server.start()
