"""The HTTP service in process (Starlette's test client over the ASGI app, the same app
`convoscope serve` runs): every route, the pinned JSON, errors, sessions and isolation. What
needs a real socket or a second process is in `tests/test_service_ops.py`."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from test_overview import scenario

from convoscope import accounts
from convoscope.store import Store, database
from convoscope.web import create_app

PASSWORD = "correct horse battery"
PERIOD = {"from": "2026-11-10", "to": "2026-11-11"}


@dataclass
class Api:
    app: FastAPI
    keys: dict[str, str]

    def anonymous(self, **options: Any) -> TestClient:
        return TestClient(self.app, **options)


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> Iterator[Api]:
    """Workspaces A and B, each with an admin, a teammate (A) and a key; A holds the scenario."""
    db = tmp_path_factory.mktemp("api") / "api.duckdb"
    with Store(db) as store:
        keys = {}
        for ws in ("A", "B"):
            store.ensure_workspace(ws, "America/Toronto")
            accounts.create_user(store, f"admin@{ws.lower()}.test", ws, "admin", PASSWORD)
            keys[ws] = accounts.create_key(store, ws, "test")
        accounts.create_user(store, "tm@a.test", "A", "teammate", PASSWORD)
        keys["A-ingest"] = accounts.create_key(store, "A", "platform", scope="ingest")
        accounts.create_user(store, "locked@b.test", "B", "admin", PASSWORD)
        api = Api(create_app(store), keys)
        for ws in ("A", "B"):  # the scenario in both workspaces
            r = client(api, ws).post("/v1/events", json=scenario())
            assert r.status_code == 200, r.text
        yield api


def client(env: Api, ws: str = "A") -> TestClient:
    return env.anonymous(headers={"Authorization": f"Bearer {env.keys[ws]}"})


def login(env: Api, email: str) -> TestClient:
    c = env.anonymous()
    r = c.post("/login", data={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return c


def event(i: int, **kw) -> dict:
    return {
        "event_id": f"x-{i}",
        "ts": "2026-11-12T15:00:00Z",
        "channel": "sms",
        "customer_id": f"x{i}",
        "type": "message",
        "sender": "customer",
        **kw,
    }


def test_healthz_and_openapi(env):
    c = client(env)
    assert c.get("/healthz").json() == {"status": "ok", "derivation_lag_seconds": 0}
    schema = c.get("/openapi.json").json()
    assert "/v1/events" in schema["paths"] and "/v1/overview" in schema["paths"]
    assert c.get("/docs").status_code == 200


def test_healthz_answers_busy_at_once_while_a_write_holds_the_database(env):
    store = env.app.state.services.store
    held, done = threading.Event(), threading.Event()

    def long_write() -> None:
        with store.transaction():
            held.set()
            done.wait(10)

    writer = threading.Thread(target=long_write)
    writer.start()
    try:
        assert held.wait(5)
        started = time.monotonic()
        r = client(env).get("/healthz")
        assert r.status_code == 200 and r.json()["status"] == "busy"
        assert time.monotonic() - started < 2  # answered, not queued behind the write
    finally:
        done.set()
        writer.join()
    assert client(env).get("/healthz").json() == {"status": "ok", "derivation_lag_seconds": 0}


def test_overview_is_the_pinned_json_with_hand_worked_numbers(env):
    data = client(env).get("/v1/overview", params=PERIOD).json()
    t = data["tiles"]
    assert (t["total_conversations"], t["engaged_conversations"], t["unique_customers"]) == (
        6,
        5,
        4,
    )
    assert t["average_conversation_duration_seconds"] == {
        "all": 1398.0,
        "teammate": 1720.0,
        "chatbot": 915.0,
    }
    assert data["engagement"] == {"engaged": [3, 2], "non_engaged": [1, 0]}
    assert data["period"] == {**PERIOD, "timezone": "America/Toronto"}
    assert data["data_quality"] == {"orphan_closes": 1, "orphan_surveys": 0}


def test_overview_with_filters_and_granularity(env):
    c = client(env)
    r = c.get("/v1/overview", params={**PERIOD, "channels": "web_chat", "granularity": "hour"})
    data = r.json()
    assert len(data["buckets"]) == 48 and data["tiles"]["total_conversations"] == 2
    assert data["channels"] == ["web_chat"]


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"period": "fortnight"}, "period"),
        ({"from": "2026-11-10"}, "to"),
        ({"from": "2026-11-10", "to": "2026-11-01"}, "to"),
        ({"from": "10/11/2026", "to": "x"}, "from"),
        ({"period": "today", "tz": "Mars/Base"}, "tz"),
        ({"period": "today", "channels": "A B"}, "channels"),
        ({"period": "today", "granularity": "minute"}, "granularity"),
    ],
)
def test_bad_query_parameters_are_named(env, params, param):
    r = client(env).get("/v1/overview", params=params)
    assert r.status_code == 422
    assert param in [e["param"] for e in r.json()["errors"]], r.json()


def test_department_csv(env):
    r = client(env).get("/v1/reports/departments.csv", params=PERIOD)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == (
        'attachment; filename="departments_A_2026-11-10_2026-11-11.csv"; '
        "filename*=UTF-8''departments_A_2026-11-10_2026-11-11.csv"
    )
    assert r.text.splitlines() == [
        "department,conversations,teammates_involved,avg_resolution_seconds",
        "Returns,2,1,1020.0",
        "Sales,1,1,1680.0",
        "No department,1,1,2880.0",
    ]


def test_team_is_the_pinned_json_with_hand_worked_numbers(env):
    # The overview scenario seen by Team Performance: initial responses A1 180 s (from the
    # transfer request), E1 1500 s, C1 2280 s; A1, C1, D1, E1 escalated by a transfer request
    # and closed (t1 twice, t2, t3); no answered wait after a teammate's first message.
    data = client(env).get("/v1/team", params=PERIOD).json()
    assert list(data) == [
        "workspace", "period", "previous_period", "granularity", "channels", "departments",
        "teammates", "buckets", "in_progress_bucket", "tiles", "efficiency", "csat_breakdown",
        "by_teammate", "data_quality",
    ]  # fmt: skip
    t = data["tiles"]
    assert t["initial_response_seconds"] == {
        "mean": 1320.0,
        "median": 1500.0,
        "p90": 2124.0,  # rank 1.8: 1500 + 0.8 * 780
        "count": 3,
    }
    assert t["response_seconds"] == {"mean": None, "median": None, "p90": None, "count": 0}
    assert (t["successful_transfers"], t["addressed_conversations"]) == (4, 3)
    assert (t["closed_conversations"], t["csat"]) == (4, {"mean": None, "count": 0})
    assert t["previous"]["closed_conversations"] == 0
    assert data["efficiency"]["initial_response_seconds"] == [180.0, 1890.0]  # C1 answered 11th
    rows = {r["teammate_id"]: r for r in data["by_teammate"]}
    assert list(rows) == ["t1", "t2", "t3"]
    assert (rows["t1"]["closed_conversations"], rows["t1"]["addressed_conversations"]) == (2, 2)
    assert rows["t3"]["resolution_seconds"]["mean"] == 1680.0
    only = client(env).get("/v1/team", params={**PERIOD, "teammates": "t3,t2"}).json()
    assert only["teammates"] == ["t2", "t3"] and only["tiles"]["closed_conversations"] == 2
    bad = client(env).get(
        "/v1/team", params={**PERIOD, "teammates": ",".join(f"x{i}" for i in range(300))}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["param"] == "teammates"


def test_teammates_csv_and_pickers(env):
    c = client(env)
    r = c.get("/v1/reports/teammates.csv", params={**PERIOD, "departments": "Returns"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    name = "teammates_A_2026-11-10_2026-11-11_departments-Returns.csv"
    assert f'filename="{name}"' in r.headers["content-disposition"]
    lines = r.text.splitlines()
    assert lines[0].startswith("teammate_id,initial_response_seconds_mean,")
    assert lines[0].endswith(",csat_mean,csat_count,addressed_conversations,closed_conversations")
    assert len(lines) == 2 and lines[1].startswith("t1,840.0,840.0,1368.0,2,")  # A1, E1
    assert lines[1].endswith(",,0,2,2")
    assert c.get("/v1/departments").json() == ["Returns", "Sales"]
    assert c.get("/v1/teammates").json() == ["t1", "t2", "t3"]


def test_the_drill_down_pages_through_one_statement(env):
    """Pages follow each other (newest first) and share one statement: the limit and the offset
    are parameters, so paging through a large offset range cannot grow the server's table of
    statements (`database.bound`)."""
    c = client(env)
    whole = c.get("/v1/conversations", params={**PERIOD, "limit": 6}).json()["items"]
    c.get("/v1/conversations", params={**PERIOD, "limit": 2, "offset": 0})
    known = len(database._PARAMETERS)
    pages = [
        c.get("/v1/conversations", params={**PERIOD, "limit": 2, "offset": o}).json()["items"]
        for o in (0, 2, 4, 6, 9_999_999)
    ]
    assert [i for page in pages for i in page] == whole and pages[-2:] == [[], []]
    assert len(database._PARAMETERS) == known


def test_conversations_drill_down(env):
    c = client(env)
    page = c.get("/v1/conversations", params={**PERIOD, "limit": 2}).json()
    assert page["total"] == 6 and len(page["items"]) == 2 and page["limit"] == 2
    assert page["items"][0]["conversation_id"] == "email-eve-2"  # newest first
    engaged = c.get("/v1/conversations", params={**PERIOD, "engaged": "false"}).json()
    assert [i["conversation_id"] for i in engaged["items"]] == ["whatsapp-bob-1"]
    returns = c.get(
        "/v1/conversations", params={**PERIOD, "department": "Returns", "anchor": "closed_at"}
    ).json()
    assert {i["conversation_id"] for i in returns["items"]} == {"web_chat-ann-1", "email-eve-2"}
    both = c.get(  # the page's departments filter and the drill-down's department together
        "/v1/conversations",
        params={**PERIOD, "departments": "Returns,Sales", "department": "Returns"},
    ).json()
    assert {i["conversation_id"] for i in both["items"]} == {"web_chat-ann-1", "email-eve-2"}
    none = c.get("/v1/conversations", params={**PERIOD, "department": ""}).json()
    assert [i["conversation_id"] for i in none["items"]] == ["messenger-ann-1"]
    teammate = c.get("/v1/conversations", params={**PERIOD, "support_type": "teammate"}).json()
    assert teammate["total"] == 3
    csv_text = c.get("/v1/conversations.csv", params=PERIOD).text.splitlines()
    assert csv_text[0].startswith("conversation_id,channel,customer_id,started_at")
    assert len(csv_text) == 7
    assert c.get("/v1/conversations", params={**PERIOD, "limit": 0}).status_code == 422


def test_ingest_then_query_sees_it_and_retries_are_duplicates(env):
    c = client(env, "B")
    batch = [event(1), event(2)]
    assert c.post("/v1/events", json=batch).json() == {"accepted": 2, "duplicates": 0}
    assert c.post("/v1/events", json=batch).json() == {"accepted": 0, "duplicates": 2}
    ndjson = "\n".join(json.dumps(e) for e in [event(2), event(3)]) + "\n"
    r = c.post("/v1/events", content=ndjson, headers={"Content-Type": "application/x-ndjson"})
    assert r.json() == {"accepted": 1, "duplicates": 1}
    data = c.get(
        "/v1/overview", params={"from": "2026-11-12", "to": "2026-11-12", "channels": "sms"}
    ).json()
    assert data["tiles"]["total_conversations"] == 3


def test_bad_events_422_with_one_entry_each_and_nothing_stored(env):
    c = client(env, "B")
    bad = [
        event(10),
        event(11, ts="2026-11-12T10:00:00"),
        event(12, sender=None),
        event(13, workspace="A"),
    ]
    r = c.post("/v1/events", json=bad)
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {"index": 1, "event_id": "x-11", "field": "ts", "message": "timestamp has no UTC offset"},
        {"index": 2, "event_id": "x-12", "field": "sender", "message": "is required for a message"},
        {
            "index": 3,
            "event_id": "x-13",
            "field": "workspace",
            "message": "differs from the target 'B'",
        },
    ]
    ids = c.get("/v1/conversations", params={"from": "2026-11-12", "to": "2026-11-12"}).json()
    assert "x-10" not in {i["conversation_id"] for i in ids["items"]}


def test_malformed_bodies(env):
    c = client(env, "B")
    r = c.post("/v1/events", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "not valid JSON" in r.json()["detail"]
    r = c.post("/v1/events", json={"event_id": "x"})
    assert r.status_code == 422 and "array" in r.json()["detail"]
    r = c.post("/v1/events", json=[1])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "(event)"


def test_conflict_409(env):
    c = client(env, "B")
    c.post("/v1/events", json=[event(20)])
    r = c.post("/v1/events", json=[event(21), event(20, customer_id="someone-else")])
    assert r.status_code == 409 and r.json()["event_ids"] == ["x-20"]
    assert c.post("/v1/events", json=[event(21)]).json()["accepted"] == 1  # nothing was stored


def test_size_limits_413(env):
    c = client(env, "B")
    r = c.post("/v1/events", json=[event(100 + i) for i in range(10_001)])
    assert r.status_code == 413 and "10000" in r.json()["detail"]
    r = c.post(
        "/v1/events",
        content=b"[" + b" " * (17 * 1024 * 1024) + b"]",
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 413


def test_authentication_and_roles(env):
    anon = env.anonymous()
    assert anon.post("/v1/events", json=[event(1)]).status_code == 401
    assert anon.get("/v1/overview").status_code == 401
    bad = env.anonymous(headers={"Authorization": "Bearer csk_nope"})
    assert bad.get("/v1/overview").status_code == 401
    teammate = login(env, "tm@a.test")
    for path in (
        "/v1/overview",
        "/v1/reports/departments.csv",
        "/v1/conversations",
        "/v1/workspace",
        "/v1/channels",
    ):
        r = teammate.get(path)
        assert r.status_code == 403 and "admins" in r.json()["detail"], path
    assert teammate.get("/v1/me").json() == {
        "workspace": "A",
        "role": "teammate",
        "email": "tm@a.test",
        "workspaces": ["A"],
        "timezone": "America/Toronto",
    }


def test_login_cookie_csrf_and_logout(env):
    c = env.anonymous()
    r = c.post("/login", data={"email": "admin@a.test", "password": PASSWORD})
    cookie = r.headers.get_list("set-cookie")
    session = next(h for h in cookie if h.startswith("cs_session="))
    assert "HttpOnly" in session and "SameSite=lax" in session and "Max-Age=43200" in session
    assert c.get("/v1/overview", params=PERIOD).json()["tiles"]["total_conversations"] == 6
    body = {"timezone": "America/Toronto", "business_hours": None}
    assert c.put("/v1/workspace", json=body).status_code == 403  # no CSRF header
    r = c.put("/v1/workspace", json=body, headers={"X-CSRF-Token": c.cookies["cs_csrf"]})
    assert r.status_code == 200
    csrf = c.cookies["cs_csrf"]
    assert c.post("/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    c.cookies.set("cs_session", session.split(";")[0].split("=", 1)[1])
    assert c.get("/v1/overview").status_code == 401  # the session is gone server-side
    tampered = env.anonymous(cookies={"cs_session": "forged.value.sig"})
    assert tampered.get("/v1/overview").status_code == 401


def test_failed_logins_are_slowed_down(env):
    c = env.anonymous()
    codes = [
        c.post("/login", data={"email": "locked@b.test", "password": "wrong password!"}).status_code
        for _ in range(6)
    ]
    assert codes == [401] * 5 + [429]
    r = c.post("/login", data={"email": "locked@b.test", "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


def test_ingest_scoped_key_sends_but_does_not_read(env):
    c = client(env, "A-ingest")
    assert c.post("/v1/events", json=[event(800, channel="video")]).json() == {
        "accepted": 1,
        "duplicates": 0,
    }
    for path in ("/v1/overview", "/v1/conversations", "/v1/workspace", "/v1/channels"):
        assert c.get(path).status_code == 403, path
    assert c.delete("/v1/customers/x800").status_code == 403


def test_workspace_settings(env):
    c = client(env, "B")
    assert c.get("/v1/workspace").json()["timezone"] == "America/Toronto"
    hours = {"monday": [["09:00", "17:30"]], "saturday": [["10:00", "14:00"]]}
    r = c.put("/v1/workspace", json={"timezone": "Europe/Paris", "business_hours": hours})
    assert r.status_code == 200 and r.json()["timezone"] == "Europe/Paris"
    assert r.json()["business_hours"]["monday"] == [["09:00", "17:30"]]
    r = c.put("/v1/workspace", json={"timezone": "Europe/Pariss"})
    assert r.status_code == 422 and r.json()["errors"][0]["param"] == "timezone"
    r = c.put(
        "/v1/workspace",
        json={"timezone": "UTC", "business_hours": {"monday": [["18:00", "09:00"]]}},
    )
    assert r.status_code == 422 and "business_hours.monday" in r.json()["errors"][0]["param"]
    data = c.get("/v1/overview", params={"period": "today"}).json()
    assert data["period"]["timezone"] == "Europe/Paris"
    c.put("/v1/workspace", json={"timezone": "America/Toronto"})


def test_workspace_isolation_on_every_endpoint(env):
    a, b = client(env, "A"), client(env, "B")
    b.post("/v1/events", json=[event(500, customer_id="only-in-b")])
    assert "sms" not in a.get("/v1/channels").json() and "sms" in b.get("/v1/channels").json()
    rows = a.get("/v1/conversations", params={"from": "2026-11-12", "to": "2026-11-12"}).json()
    assert "only-in-b" not in {i["customer_id"] for i in rows["items"]}
    assert (
        "only-in-b"
        not in a.get(
            "/v1/conversations.csv", params={"from": "2026-11-12", "to": "2026-11-12"}
        ).text
    )
    r = a.delete("/v1/customers/only-in-b")
    assert r.json() == {
        "customer_id": "only-in-b",
        "events": 0,
        "conversations": 0,
        "orphan_closes": 0,
    }
    assert (
        b.get(
            "/v1/conversations",
            params={"from": "2026-11-12", "to": "2026-11-12", "channels": "sms"},
        ).json()["total"]
        >= 1
    )
    day = {"from": "2026-11-12", "to": "2026-11-12"}
    assert (
        a.get("/v1/overview", params={**day, "channels": "sms"}).json()["tiles"][
            "total_conversations"
        ]
        == 0
    )
    assert (
        b.get("/v1/overview", params={**day, "channels": "sms"}).json()["tiles"][
            "total_conversations"
        ]
        >= 1
    )
    b.post(
        "/v1/events",
        json=[
            event(502, customer_id="b-closer"),
            {
                **event(503, customer_id="b-closer"),
                "type": "close",
                "sender": None,
                "department": "Only-B",
            },
        ],
    )
    assert "Only-B" not in a.get("/v1/reports/departments.csv", params=day).text
    assert "Only-B" in b.get("/v1/reports/departments.csv", params=day).text
    a.put("/v1/workspace", json={"timezone": "Asia/Tokyo"})
    assert b.get("/v1/workspace").json()["timezone"] != "Asia/Tokyo"
    a.put("/v1/workspace", json={"timezone": "America/Toronto"})
    assert a.post("/v1/events", json=[event(501, workspace="B")]).status_code == 422
    assert a.get("/v1/workspace").json()["name"] == "A"
    assert login(env, "admin@b.test").get("/v1/me").json()["workspace"] == "B"


def test_erase_customer(env):
    c = client(env, "B")
    c.post(
        "/v1/events",
        json=[
            event(600, customer_id="forget-me"),
            event(601, customer_id="forget-me", channel="whatsapp"),
        ],
    )
    r = c.delete("/v1/customers/forget-me")
    assert r.json() == {
        "customer_id": "forget-me",
        "events": 2,
        "conversations": 2,
        "orphan_closes": 0,
    }
    rows = c.get("/v1/conversations", params={"from": "2026-11-12", "to": "2026-11-12"}).json()
    assert "forget-me" not in {i["customer_id"] for i in rows["items"]}


def test_the_longest_valid_query_string_fits_the_request_line_the_server_reads():
    """Every analytics parameter at its longest, each character a 4-byte one percent-encoded
    (12 bytes), stays within what `serve` reads of a request line, so schema-valid requests
    are answered rather than cut off (schemathesis generates them)."""
    from convoscope.cli.server import MAX_REQUEST_HEAD
    from convoscope.query import QueryParams

    longest = sum(
        len(name)
        + 2
        + 12 * max((m.max_length for m in f.metadata if hasattr(m, "max_length")), default=32)
        for name, f in QueryParams.model_fields.items()
    )
    assert longest < MAX_REQUEST_HEAD - 4096, longest  # the path and headers besides


@pytest.mark.parametrize(
    ("path", "params", "param"),
    [
        ("/v1/overview", {"perod": "today"}, "perod"),
        ("/v1/team", {"period": "today", "teammate": "amy"}, "teammate"),
        ("/v1/chatbot", {"period": "today", "flow": "faq"}, "flow"),
        ("/v1/reports/departments.csv", {"form": "2026-11-10", "to": "2026-11-11"}, "form"),
        ("/v1/conversations", {"period": "today", "limits": "5"}, "limits"),
    ],
)
def test_a_misspelt_query_parameter_is_named_not_ignored(env, path, params, param):
    r = client(env).get(path, params=params)
    assert r.status_code == 422, r.text
    (error,) = r.json()["errors"]
    assert error["param"] == param and "unknown parameter (known: " in error["message"]
    assert client(env).get(path, params={"period": "today"}).status_code == 200


def test_an_event_with_several_problems_is_one_invalid_event(env):
    bad = {"event_id": "x-900", "ts": "2026-11-12T10:00:00", "channel": "Web", "type": "fax"}
    r = client(env, "B").post("/v1/events", json=[bad])
    assert r.status_code == 422
    assert r.json()["detail"] == "1 invalid event(s), nothing stored"
    assert len(r.json()["errors"]) >= 3  # each problem named


def test_the_conversations_csv_names_its_own_filters(env):
    r = client(env).get(
        "/v1/conversations.csv",
        params={**PERIOD, "department": "", "anchor": "closed_at", "engaged": "true"},
    )
    name = "conversations_A_2026-11-10_2026-11-11_engaged_department-none_by-closed_at.csv"
    assert f'filename="{name}"' in r.headers["content-disposition"]


def test_the_api_docs_can_authorize_and_every_operation_is_named(env):
    """/docs gets an Authorize button (the bearer scheme is declared and every analytics
    operation asks for it), each operation a written summary, each schema its own title."""
    spec = env.anonymous().get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert {"HTTPBearer": []} in spec["paths"]["/v1/chatbot"]["get"]["security"]
    routes = [r for r in env.app.routes if isinstance(r, APIRoute) and r.include_in_schema]
    unnamed = [r.path for r in routes if not r.summary]
    assert unnamed == []  # FastAPI would make one of the function's name
    titles = [schema.get("title") for schema in spec["components"]["schemas"].values()]
    assert len(titles) == len(set(titles))


def test_a_member_of_several_workspaces_switches_between_them(env):
    """Issue 21's workspace switcher: a session shows one of its user's workspaces at a time,
    with that workspace's role; a key or a non-member cannot switch."""
    store = env.app.state.services.store
    accounts.create_user(store, "multi@a.test", "A", "teammate", PASSWORD)
    accounts.grant(store, "multi@a.test", "B", "admin")
    c = login(env, "multi@a.test")
    assert c.get("/v1/me").json()["workspaces"] == ["A", "B"]
    assert c.get("/v1/overview").status_code == 403  # a teammate in A
    csrf = {"X-CSRF-Token": c.cookies["cs_csrf"]}
    assert c.put("/v1/me/workspace", json={"workspace": "B"}).status_code == 403  # no CSRF
    switched = c.put("/v1/me/workspace", json={"workspace": "B"}, headers=csrf)
    assert switched.status_code == 200
    assert switched.json() == {
        "workspace": "B",
        "role": "admin",
        "email": "multi@a.test",
        "workspaces": ["A", "B"],
        "timezone": "America/Toronto",
    }
    overview = c.get("/v1/overview", params={"from": "2026-11-10", "to": "2026-11-10"})
    assert overview.status_code == 200 and overview.json()["workspace"] == "B"
    other = c.put("/v1/me/workspace", json={"workspace": "C"}, headers=csrf)
    assert other.status_code == 404 and "not a member" in other.json()["detail"]
    assert c.get("/v1/me").json()["workspace"] == "B"  # still B
    assert client(env).put("/v1/me/workspace", json={"workspace": "B"}).status_code == 403
    # a new sign-in starts in the user's own workspace again
    assert login(env, "multi@a.test").get("/v1/me").json()["workspace"] == "A"


def test_teammate_names_are_set_read_and_kept_per_workspace(env):
    a, b = client(env, "A"), client(env, "B")
    put = a.put("/v1/teammate-names", json={"amy": "Amy Zhang", "bo": "Bo"})
    assert put.status_code == 200 and put.json() == {"amy": "Amy Zhang", "bo": "Bo"}
    assert a.put("/v1/teammate-names", json={"bo": None}).json() == {"amy": "Amy Zhang"}
    assert b.get("/v1/teammate-names").json() == {}  # another workspace's names stay there
    for bad in ({"amy": ""}, {"amy": "x" * 201}, {"": "Empty"}, {"amy": 3}, ["amy"]):
        r = a.put("/v1/teammate-names", json=bad)
        assert r.status_code == 422, bad
    assert a.put("/v1/teammate-names", json={f"t{i}": "n" for i in range(1001)}).status_code == 422
    assert login(env, "tm@a.test").get("/v1/teammate-names").status_code == 403
    assert a.get("/v1/teammate-names").json() == {"amy": "Amy Zhang"}
    a.put("/v1/teammate-names", json={"amy": None})
