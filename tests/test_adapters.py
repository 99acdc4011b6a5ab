"""Platform adapters on the real payloads in ../shared/data/payloads: Chatwoot and WhatsApp
webhooks (mapping by hand, then through a real server), Rasa trackers and mapped CSV files."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from server import Server
from typer.testing import CliRunner

from convoscope import accounts
from convoscope.adapters import chatwoot, rasa, whatsapp
from convoscope.cli import app
from convoscope.event_fields import EventError
from convoscope.events import validate_batch
from convoscope.store import Store

PAYLOADS = Path(__file__).resolve().parents[2] / "shared" / "data" / "payloads"
APP_SECRET = "meta-app-secret-for-tests"


def chatwoot_payload(name: str) -> dict:
    return json.loads((PAYLOADS / "chatwoot" / f"chatwoot_{name}.json").read_text())


def whatsapp_payloads(name: str) -> dict:
    return json.loads((PAYLOADS / "whatsapp_pywa" / f"{name}.json").read_text())


# Chatwoot ----------------------------------------------------------------------------------


RECEIVED = datetime(2026, 11, 25, 14, 0, 5, tzinfo=UTC)


def mapped(payload: dict) -> tuple[list[dict], str | None]:
    return chatwoot.map_event(payload, RECEIVED)


def test_chatwoot_real_payloads_map_by_hand():
    assert mapped(chatwoot_payload("message_created")) == (
        [
            {
                "event_id": "chatwoot-message-118",
                "ts": "2021-07-23T18:02:48.000Z",
                "channel": "web_chat",
                "customer_id": "contact-14",
                "type": "message",
                "sender": "customer",
            }
        ],
        None,
    )
    # Status changes carry no time of their own: dated when received (see the adapter).
    assert mapped(chatwoot_payload("conversation_status_changed")) == (
        [
            {
                "event_id": "chatwoot-conversation-10-open-74d0782f25d80c63",
                "ts": "2026-11-25T14:00:05+00:00",
                "channel": "web_chat",
                "customer_id": "contact-12",
                "type": "transfer_request",
            }
        ],
        None,
    )
    assert mapped(chatwoot_payload("conversation_resolved")) == (
        [
            {
                "event_id": "chatwoot-conversation-10-resolved-7327916f83ffa72b",
                "ts": "2026-11-25T14:00:05+00:00",
                "channel": "web_chat",
                "customer_id": "contact-12",
                "type": "close",
                "teammate_id": "user-1",
            }
        ],
        None,
    )
    for name, why in (
        ("conversation_opened", "conversation_opened"),
        ("message_updated", "message_updated"),
        ("webwidget_triggered", "webwidget_triggered"),
    ):
        assert mapped(chatwoot_payload(name)) == ([], why)


def test_chatwoot_senders_notes_teams_and_reopens():
    msg = chatwoot_payload("message_created")
    agent = {
        **copy.deepcopy(msg),
        "message_type": "outgoing",
        "sender": {"id": 3, "name": "John", "type": "user"},
    }
    assert mapped(agent)[0][0]["sender"] == "teammate"
    assert mapped(agent)[0][0]["teammate_id"] == "user-3"
    bot = {
        **copy.deepcopy(msg),
        "message_type": "outgoing",
        "sender": {"id": 1, "type": "agent_bot"},
    }
    assert mapped(bot)[0][0]["sender"] == "chatbot"
    assert mapped({**msg, "private": True}) == ([], "private note")
    reopened = {
        **chatwoot_payload("conversation_status_changed"),
        "changed_attributes": [{"status": {"previous_value": "resolved", "current_value": "open"}}],
    }
    assert mapped(reopened) == ([], "status change to open")
    resolved = copy.deepcopy(chatwoot_payload("conversation_resolved"))
    resolved["meta"]["team"] = {"id": 2, "name": "Returns"}
    assert mapped(resolved)[0][0]["department"] == "Returns"


def test_chatwoot_agents_are_named_by_their_teammate_ids():
    agent = {
        **chatwoot_payload("message_created"),
        "message_type": "outgoing",
        "sender": {"id": 7, "name": "Amélie Roy", "available_name": "Amélie", "type": "user"},
    }
    records, _ = chatwoot.map_event(agent, datetime.now(UTC))
    assert records[-1]["teammate_id"] == "user-7"
    assert chatwoot.teammate_names(agent) == {"user-7": "Amélie"}
    assert chatwoot.teammate_names(chatwoot_payload("message_created")) == {}  # a contact
    nameless = {**agent, "sender": {"id": 8, "name": "  ", "type": "user"}}
    assert chatwoot.teammate_names(nameless) == {}


def test_chatwoot_status_changes_get_their_own_ids_and_updated_at_when_given():
    resolved = chatwoot_payload("conversation_resolved")
    first = mapped(resolved)[0][0]
    assert mapped(copy.deepcopy(resolved))[0][0]["event_id"] == first["event_id"]  # redelivery
    later = {**resolved, "agent_last_seen_at": resolved["agent_last_seen_at"] + 60}
    assert mapped(later)[0][0]["event_id"] != first["event_id"]  # resolved again later
    stamped = {**resolved, "updated_at": 1627063600}
    assert mapped(stamped)[0][0]["ts"] == "2021-07-23T18:06:40+00:00"


def test_platform_timestamps_out_of_range_are_named_by_validation():
    msg = {**chatwoot_payload("message_created"), "created_at": 1e20}
    records, _ = mapped(msg)
    with pytest.raises(EventError, match="ts: "):
        validate_batch(records, "shop")
    text = copy.deepcopy(whatsapp_payloads("message")["text"])
    text["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = "1e20"
    by_number, _ = whatsapp.map_payload(text)
    with pytest.raises(EventError, match="ts: "):
        validate_batch(by_number["1122334455667"], "shop")


# WhatsApp ----------------------------------------------------------------------------------


def test_whatsapp_real_messages_map_to_customer_messages():
    messages = whatsapp_payloads("message")
    for name, payload in messages.items():
        by_number, ignored = whatsapp.map_payload(payload)
        (records,) = by_number.values()
        assert len(records) == 1 and not ignored, name
        assert records[0]["sender"] == "customer" and records[0]["channel"] == "whatsapp"
    by_number, _ = whatsapp.map_payload(messages["text"])
    assert by_number["1122334455667"] == [
        {
            "event_id": "whatsapp-wamid.xyzxyz",
            "ts": "2023-10-11T16:53:43+00:00",
            "channel": "whatsapp",
            "customer_id": "972987654321",
            "type": "message",
            "sender": "customer",
        }
    ]
    statuses = whatsapp_payloads("message_status")
    for payload in statuses.values():
        by_number, ignored = whatsapp.map_payload(payload)
        assert by_number == {} and ignored["status"] >= 1
    for payload in whatsapp_payloads("system").values():
        assert whatsapp.map_payload(payload) == ({}, {"system message": 1})


def test_whatsapp_signature():
    body = b'{"object": "whatsapp_business_account"}'
    good = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert whatsapp.signature_ok(APP_SECRET, body, good)
    assert not whatsapp.signature_ok(APP_SECRET, body + b" ", good)
    assert not whatsapp.signature_ok(APP_SECRET, body, None)
    assert not whatsapp.signature_ok(APP_SECRET, body, "sha256=é\udc80")  # no TypeError


# Webhooks through a real server -------------------------------------------------------------


@pytest.fixture(scope="module")
def hooks(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hooks")
    db = tmp / "hooks.duckdb"
    with Store(db) as store:
        store.ensure_workspace("shop")
        store.ensure_workspace("unconfigured")
        admin = accounts.create_key(store, "shop")
        ingest = accounts.create_key(store, "shop", "chatwoot", scope="ingest")
        store.set_whatsapp("shop", APP_SECRET, "verify-me", ["1122334455667"])
        store.ensure_workspace("outlet")  # a second brand on the same Meta app
        store.set_whatsapp("outlet", APP_SECRET, "verify-me", ["5550001"])
    server = Server(db, tmp / "server.log").start()
    yield server, admin, ingest
    server.stop()


@pytest.mark.server
def test_chatwoot_webhook_accepts_the_real_payloads(hooks):
    server, admin, key = hooks
    c = httpx.Client(base_url=server.url)
    results = {}
    for name in (
        "message_created",
        "conversation_opened",
        "conversation_status_changed",
        "message_updated",
        "conversation_resolved",
        "webwidget_triggered",
    ):
        r = c.post("/v1/webhooks/chatwoot", params={"key": key}, json=chatwoot_payload(name))
        assert r.status_code == 200, r.text
        results[name] = r.json()
    assert results["message_created"] == {"accepted": 1, "duplicates": 0, "ignored": {}}
    assert results["conversation_opened"] == {
        "accepted": 0,
        "duplicates": 0,
        "ignored": {"conversation_opened": 1},
    }
    assert results["conversation_resolved"]["accepted"] == 1
    # the assignee's display name, for the pages (the CSVs keep the ids)
    names = c.get("/v1/teammate-names", headers={"Authorization": f"Bearer {admin}"})
    assert names.json() == {"user-1": "John"}
    again = c.post(
        "/v1/webhooks/chatwoot", params={"key": key}, json=chatwoot_payload("message_created")
    )
    assert again.json()["duplicates"] == 1
    redelivered = c.post(  # a later receipt time, same status change: a duplicate, not a 409
        "/v1/webhooks/chatwoot", params={"key": key}, json=chatwoot_payload("conversation_resolved")
    )
    assert redelivered.json() == {"accepted": 0, "duplicates": 1, "ignored": {}}
    bad = c.post(
        "/v1/webhooks/chatwoot",
        params={"key": "csk_wrong"},
        json=chatwoot_payload("message_created"),
    )
    assert bad.status_code == 401
    header = c.post(
        "/v1/webhooks/chatwoot",
        headers={"Authorization": f"Bearer {admin}"},
        json=chatwoot_payload("conversation_opened"),
    )
    assert header.status_code == 200
    in_url = c.post(
        "/v1/webhooks/chatwoot", params={"key": admin}, json=chatwoot_payload("message_created")
    )
    assert in_url.status_code == 403 and "ingest-scoped" in in_url.json()["detail"]
    assert c.get("/v1/overview", headers={"Authorization": f"Bearer {key}"}).status_code == 403
    auth = {"Authorization": f"Bearer {admin}"}
    then = c.get("/v1/overview", params={"from": "2021-07-23", "to": "2021-07-23"}, headers=auth)
    assert then.json()["tiles"]["total_conversations"] == 1  # contact-14's message
    # contact-12: the transfer request and the close, dated when they were received (today).
    rows = c.get("/v1/conversations", params={"period": "today"}, headers=auth).json()["items"]
    (row,) = [r for r in rows if r["customer_id"] == "contact-12"]
    assert row["transfer_requests"] == 1 and row["closed_by"] == "user-1"
    assert 0 <= row["resolution_seconds"] < 60
    text = server.wait_for_log('"path": "/v1/conversations"')
    assert "key=" not in text and key not in text


def signed(body: bytes) -> dict:
    digest = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


@pytest.mark.server
def test_whatsapp_webhook_handshake_signature_and_routing(hooks):
    server, key, _ = hooks
    c = httpx.Client(base_url=server.url)
    params = {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201"}
    r = c.get("/v1/webhooks/whatsapp", params=params)
    assert r.status_code == 200 and r.text == "1158201"
    for wrong in ({"hub.verify_token": "nope"}, {"hub.verify_token": "é"}, {"hub.mode": "x"}):
        assert c.get("/v1/webhooks/whatsapp", params={**params, **wrong}).status_code == 403
    body = json.dumps(whatsapp_payloads("message")["text"]).encode()
    r = c.post("/v1/webhooks/whatsapp", content=body, headers=signed(body))
    assert r.json() == {"accepted": 1, "duplicates": 0, "ignored": {}}
    tampered = body.replace(b"Body Text", b"Other Text")
    assert (
        c.post("/v1/webhooks/whatsapp", content=tampered, headers=signed(body)).status_code == 401
    )
    # A number no workspace registered gets the same 401 as a bad signature.
    stranger = body.replace(b"1122334455667", b"4040404")
    r = c.post("/v1/webhooks/whatsapp", content=stranger, headers=signed(stranger))
    assert r.status_code == 401 and r.json()["detail"] == "missing or wrong X-Hub-Signature-256"
    # The same Meta app, another brand's number: routed to that workspace.
    outlet = body.replace(b"1122334455667", b"5550001").replace(b"wamid.xyzxyz", b"wamid.o1")
    r = c.post("/v1/webhooks/whatsapp", content=outlet, headers=signed(outlet))
    assert r.json()["accepted"] == 1
    with_sig = {**signed(body), "X-Hub-Signature-256": "sha256=é".encode()}
    assert c.post("/v1/webhooks/whatsapp", content=body, headers=with_sig).status_code == 401
    status = json.dumps(whatsapp_payloads("message_status")["read"]).encode()
    r = c.post("/v1/webhooks/whatsapp", content=status, headers=signed(status))
    assert r.json()["accepted"] == 0 and r.json()["ignored"]["status"] == 1
    data = c.get(
        "/v1/overview",
        params={"from": "2023-10-11", "to": "2023-10-11", "channels": "whatsapp"},
        headers={"Authorization": f"Bearer {key}"},
    ).json()
    assert data["tiles"]["total_conversations"] == 1
    assert sum(data["messages"]["customer"]) == 1


# Rasa ----------------------------------------------------------------------------------------


def test_rasa_moodbot_tracker_by_hand():
    with (PAYLOADS / "rasa" / "tracker_moodbot.json").open("rb") as f:
        result = rasa.read(f, welcome=True)
    assert result.events == [
        {
            "event_id": "rasa-mysender-1",
            "ts": "2018-02-05T09:08:46.200036+00:00",
            "channel": "web_chat",
            "customer_id": "mysender",
            "type": "message",
            "sender": "customer",
        },
        {
            "event_id": "rasa-mysender-2",
            "ts": "2018-02-05T09:08:46.200373+00:00",
            "channel": "web_chat",
            "customer_id": "mysender",
            "type": "message",
            "sender": "chatbot",
            "welcome": True,
        },
        {
            "event_id": "rasa-mysender-4",
            "ts": "2018-02-05T09:08:46.209836+00:00",
            "channel": "web_chat",
            "customer_id": "mysender",
            "type": "message",
            "sender": "customer",
        },
        {
            "event_id": "rasa-mysender-5",
            "ts": "2018-02-05T09:08:46.209908+00:00",
            "channel": "web_chat",
            "customer_id": "mysender",
            "type": "message",
            "sender": "chatbot",
            "welcome": False,
        },
    ]
    assert result.ignored["action action_listen"] == 3


def test_rasa_bot_events_handoff_and_sessions(tmp_path):
    tracker = {
        "sender_id": "u1",
        "latest_input_channel": "facebook",
        "events": [
            {"event": "session_started", "timestamp": 1700000000.0},
            {"event": "bot", "timestamp": 1700000001.0, "text": "Hi!"},
            {"event": "user", "timestamp": 1700000010.0, "text": "agent please"},
            {"event": "action", "timestamp": 1700000011.0, "name": "utter_greet"},
            {"event": "action", "timestamp": 1700000012.0, "name": "action_handoff"},
            {"event": "session_started", "timestamp": 1700090000.0},
            {"event": "bot", "timestamp": 1700090001.0, "text": "Welcome back"},
        ],
    }
    path = tmp_path / "trackers.jsonl"
    path.write_text(json.dumps(tracker) + "\n", encoding="utf-8")
    with path.open("rb") as f:
        events = rasa.read(f, welcome=True).events
    assert [(e["event_id"], e["type"], e.get("sender"), e.get("welcome")) for e in events] == [
        ("rasa-u1-1", "message", "chatbot", True),
        ("rasa-u1-2", "message", "customer", None),
        ("rasa-u1-4", "transfer_request", None, None),  # utter_ action skipped: bot events exist
        ("rasa-u1-6", "message", "chatbot", True),
    ]
    assert {e["channel"] for e in events} == {"messenger"}
    runner = CliRunner()
    db = str(tmp_path / "r.duckdb")
    r = runner.invoke(
        app, ["import", str(path), "--format", "rasa", "-w", "bot", "--rasa-welcome", "--db", db]
    )
    assert r.exit_code == 0 and "4 accepted" in r.stdout
    r = runner.invoke(
        app,
        [
            "report",
            "-w",
            "bot",
            "--from",
            "2023-11-14",
            "--to",
            "2023-11-15",
            "--tz",
            "UTC",
            "--format",
            "json",
            "--db",
            db,
        ],
    )
    tiles = json.loads(r.stdout)["tiles"]
    assert (tiles["total_conversations"], tiles["engaged_conversations"]) == (2, 1)


# Generic CSV with a column mapping -----------------------------------------------------------


def test_mapped_csv(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(
        "id,created_at,user,who,kind\n"
        "1,2026-11-10T10:00:00-05:00,alice,bot,msg\n"
        "2,2026-11-10T10:01:00-05:00,alice,client,msg\n"
        "3,2026-11-10T10:02:00-05:00,alice,,handoff\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    db = str(tmp_path / "m.duckdb")
    args = [
        "import",
        str(path),
        "-w",
        "crm",
        "--db",
        db,
        "--map",
        "event_id=id,ts=created_at,customer_id=user,sender=who,type=kind",
        "--value",
        "sender.bot=chatbot,sender.client=customer",
        "--value",
        "type.msg=message,type.handoff=transfer_request",
        "--set",
        "channel=sms",
    ]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.stderr
    assert "3 accepted" in r.stdout
    r = runner.invoke(
        app,
        [
            "report",
            "-w",
            "crm",
            "--from",
            "2026-11-10",
            "--to",
            "2026-11-10",
            "--format",
            "json",
            "--db",
            db,
        ],
    )
    data = json.loads(r.stdout)
    assert data["tiles"]["engaged_conversations"] == 1
    assert sum(data["traffic"]["transfer_requests"]) == 1
    assert sum(data["messages"]["chatbot"]) == 1 and sum(data["messages"]["customer"]) == 1
    r = runner.invoke(app, [*args[:6], "--map", "colour=id"])
    assert r.exit_code == 2 and "'colour' is not an event field" in r.stderr


def test_chatwoot_csat_answers_are_surveys():
    survey = {
        **chatwoot_payload("message_updated"),
        "id": 240,
        "message_type": "template",
        "content_type": "input_csat",
        "content_attributes": {
            "submitted_values": {"csat_survey_response": {"rating": 4, "feedback_message": ""}}
        },
    }
    assert mapped(survey) == (
        [
            {
                "event_id": "chatwoot-csat-240",
                "ts": "2026-11-25T14:00:05+00:00",
                "channel": "web_chat",
                "customer_id": "contact-12",
                "type": "csat",
                "score": 4,
                "about": "teammate",  # the conversation's assignee is a user: John rated
            }
        ],
        None,
    )
    (event,) = validate_batch(mapped(survey)[0], "shop")
    assert event.score == 4 and event.about == "teammate"
    conversation = survey["conversation"]
    for assignee in (None, {"id": 3, "name": "Bot", "type": "agent_bot"}):
        unassigned = {
            **survey,
            "conversation": {
                **conversation,
                "meta": {**conversation["meta"], "assignee": assignee},
            },
        }
        (record,) = mapped(unassigned)[0]
        assert "about" not in record  # left to SPEC section 7
    unanswered = {**survey, "content_attributes": {}}
    assert mapped(unanswered) == ([], "csat survey without an answer")


def test_rasa_flows_steps_ends_and_fallbacks_become_the_chatbot_page(tmp_path):
    """A CALM tracker: order tracking asks for the number (through Rasa's collect pattern),
    the customer is not understood once, the flow completes; a returns flow is started and
    left. Its messages carry flow, step, flow_end and fallback; the page then tells it."""

    def at(seconds: int) -> float:
        return 1772445600.0 + seconds  # 2026-03-02T10:00:00Z

    def bot(seconds: int, utter: str) -> dict:
        return {"event": "bot", "timestamp": at(seconds), "metadata": {"utter_action": utter}}

    def user(seconds: int, intent: str) -> dict:
        return {
            "event": "user",
            "timestamp": at(seconds),
            "parse_data": {"intent": {"name": intent}},
        }

    def flow(seconds: int, kind: str, flow_id: str) -> dict:
        return {"event": kind, "timestamp": at(seconds), "flow_id": flow_id, "step_id": "x"}

    tracker = {
        "sender_id": "u1",
        "latest_input_channel": "rest",
        "events": [
            {"event": "session_started", "timestamp": at(0)},
            bot(1, "utter_greet"),
            user(5, "track_order"),
            flow(6, "flow_started", "order_tracking"),
            flow(6, "flow_started", "pattern_collect_information"),
            bot(7, "utter_ask_order_number"),
            user(20, "nlu_fallback"),
            bot(21, "utter_ask_order_number"),
            user(40, "inform"),
            flow(41, "flow_completed", "pattern_collect_information"),
            bot(42, "utter_order_status"),
            flow(42, "flow_completed", "order_tracking"),
            user(60, "return_item"),
            flow(61, "flow_started", "returns"),
            {"event": "action", "timestamp": at(61), "name": "action_default_fallback"},
            bot(62, "utter_ask_reason"),
            flow(70, "flow_cancelled", "returns"),
        ],
    }
    path = tmp_path / "tracker.json"
    path.write_text(json.dumps(tracker), encoding="utf-8")
    with path.open("rb") as f:
        events = rasa.read(f, welcome=True).events
    chatbot = [
        {k: e.get(k) for k in ("welcome", "flow", "step", "flow_end", "fallback")}
        for e in events
        if e.get("sender") == "chatbot"
    ]
    assert chatbot == [
        {"welcome": True, "flow": None, "step": None, "flow_end": None, "fallback": None},
        {"welcome": False, "flow": "order_tracking", "step": "utter_ask_order_number",
         "flow_end": None, "fallback": None},
        {"welcome": False, "flow": "order_tracking", "step": "utter_ask_order_number",
         "flow_end": None, "fallback": True},
        {"welcome": False, "flow": "order_tracking", "step": "utter_order_status",
         "flow_end": True, "fallback": None},
        {"welcome": False, "flow": "returns", "step": "utter_ask_reason", "flow_end": None,
         "fallback": True},
    ]  # fmt: skip
    db = str(tmp_path / "r.duckdb")
    runner = CliRunner()
    r = runner.invoke(
        app, ["import", str(path), "--format", "rasa", "-w", "bot", "--rasa-welcome", "--db", db]
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        app,
        ["report", "--page", "chatbot", "-w", "bot", "--from", "2026-03-02", "--to",
         "2026-03-02", "--tz", "UTC", "--format", "json", "--db", db],
    )  # fmt: skip
    data = json.loads(r.stdout)
    # one conversation: its last flow (returns) was left unfinished
    assert data["tiles"]["abandoned_in_flow"] == 1 and data["tiles"]["fallback_messages"] == 2
    flows = {row["flow"]: row for row in data["dialog_performance"]}
    assert flows["order_tracking"]["completed"] == 1 and flows["order_tracking"]["fallbacks"] == 1
    assert flows["returns"]["drop_off_steps"] == [{"step": "utter_ask_reason", "conversations": 1}]
    assert flows["returns"]["type"] == "other"  # the catalogue's business


def test_mapped_columns_carry_the_chatbots_flows(tmp_path):
    """The column mapping reaches the section 7 fields: a node column becomes `step`, a
    yes/no column `flow_end` through `--value`; a flow field on a customer's row is named."""
    path = tmp_path / "bot.csv"
    path.write_text(
        "id,at,user,who,node,topic,last\n"
        "1,2026-03-02T10:00:00Z,u1,bot,,,\n"
        "2,2026-03-02T10:00:05Z,u1,client,,,\n"
        "3,2026-03-02T10:00:10Z,u1,bot,ask,faq,no\n"
        "4,2026-03-02T10:00:20Z,u1,client,,,\n"
        "5,2026-03-02T10:00:25Z,u1,bot,answer,faq,yes\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    db = str(tmp_path / "m.duckdb")
    args = [
        "import", str(path), "-w", "crm", "--db", db,
        "--map", "event_id=id,ts=at,customer_id=user,sender=who,step=node,flow=topic,flow_end=last",
        "--value", "sender.bot=chatbot,sender.client=customer,flow_end.yes=true,flow_end.no=false",
        "--set", "channel=web_chat,type=message",
    ]  # fmt: skip
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.stderr
    r = runner.invoke(
        app,
        ["report", "--page", "chatbot", "-w", "crm", "--from", "2026-03-02", "--to",
         "2026-03-02", "--tz", "UTC", "--format", "json", "--db", db],
    )  # fmt: skip
    data = json.loads(r.stdout)
    assert data["tiles"]["automated"] == 1
    (row,) = data["dialog_performance"]
    assert (row["flow"], row["completed"], row["type"]) == ("faq", 1, "other")
    path.write_text(
        path.read_text().replace(
            "2,2026-03-02T10:00:05Z,u1,client,,,", "2,2026-03-02T10:00:05Z,u1,client,,oops,"
        )
    )
    r = runner.invoke(app, [*args[:3], "crm2", *args[4:]])
    assert (
        r.exit_code != 0
        and 'event 1 (id "2"): flow: is only allowed on a chatbot message' in r.stderr
    )
