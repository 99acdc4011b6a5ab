"""Chatbot Performance through every way in and out: the issue's example sent over HTTP and
imported as JSON Lines, CSV and Parquet (the set-based check and the per-record fallback);
read back as the pinned JSON of `GET /v1/chatbot`, the CLI's `report --page chatbot` (JSON
and table, as a process) and the flows CSV of both; the new fields' errors named; the flow
catalogue through `PUT /v1/workspace` as a partial update."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from test_chatbot import DAY, example
from typer.testing import CliRunner

from convoscope import accounts
from convoscope.cli import app
from convoscope.event_fields import BOOLEAN_FIELDS, CONTENT_FIELDS
from convoscope.store import Store
from convoscope.web import create_app

PERIOD = {"from": DAY, "to": DAY, "tz": "UTC"}
FIELDS = ["event_id", *CONTENT_FIELDS]
PINNED = [
    "workspace", "period", "previous_period", "granularity", "channels", "departments",
    "flow_types", "flows", "buckets", "in_progress_bucket", "tiles", "outcomes",
    "automation_rate", "csat_breakdown", "first_flow_type", "transfers_by_last_flow",
    "dialog_performance", "data_quality",
]  # fmt: skip


@pytest.fixture
def api(tmp_path):
    with Store(tmp_path / "api.duckdb") as store:
        store.ensure_workspace("shop", "America/Toronto")
        key = accounts.create_key(store, "shop", "test")
        with TestClient(create_app(store), headers={"Authorization": f"Bearer {key}"}) as c:
            yield c


def test_the_api_serves_the_pinned_json(api):
    assert api.post("/v1/events", json=example()).status_code == 200
    data = api.get("/v1/chatbot", params=PERIOD).json()
    assert list(data) == PINNED
    t = data["tiles"]
    assert (t["bot_conversations"], t["handled"], t["automated"], t["transferred"]) == (4, 3, 1, 1)
    assert t["containment"] == 2 / 3 and t["fallback_rate"] == 1 / 9
    assert list(t["previous"]) == [k for k in t if k != "previous"]
    assert t["previous"]["automation_rate"] is None  # nothing the day before: no denominator
    assert data["outcomes"]["automated"][10] == 1 and len(data["automation_rate"]) == 24
    assert data["first_flow_type"] == {
        "campaign": 0, "transfer": 0, "sales": 1, "support": 2, "other": 0, "none": 0,
    }  # fmt: skip
    assert [r["flow"] for r in data["dialog_performance"]] == [
        "order_tracking",
        "product_search",
        "returns",
    ]
    assert data["dialog_performance"][2]["drop_off_steps"] == [
        {"step": "ask_reason", "conversations": 1}
    ]
    assert api.get("/v1/flows").json() == ["order_tracking", "product_search", "returns"]
    only = api.get("/v1/chatbot", params={**PERIOD, "flows": "returns,(none)"}).json()
    assert only["flows"] == ["(none)", "returns"] and only["tiles"]["bot_conversations"] == 2


def test_the_flows_csv_names_its_period_and_filters(api):
    api.post("/v1/events", json=example())
    r = api.get("/v1/reports/flows.csv", params={**PERIOD, "flow_types": "support"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    name = "flows_shop_2026-03-02_2026-03-02_flow-types-support.csv"
    assert f'filename="{name}"' in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == [
        "flow", "type", "entered", "completed", "completion_rate", "automated_last",
        "transferred_after", "abandoned", "drop_off_rate", "fallbacks",
        "median_seconds_in_flow", "drop_off_steps",
    ]  # fmt: skip
    assert rows[1:] == [
        ["order_tracking", "support", "1", "1", "1.0", "1", "0", "0", "0.0", "0", "55.0", ""],
        ["returns", "support", "1", "0", "0.0", "0", "0", "1", "1.0", "0", "0.0", "ask_reason (1)"],
    ]


@pytest.mark.parametrize(
    ("path", "params", "param"),
    [
        ("/v1/chatbot", {"teammates": "t1"}, "teammates"),
        ("/v1/reports/flows.csv", {"teammates": "t1"}, "teammates"),
        ("/v1/overview", {"flows": "returns"}, "flows"),
        ("/v1/team", {"flow_types": "sales"}, "flow_types"),
        ("/v1/chatbot", {"flow_types": "billing"}, "flow_types"),
        ("/v1/chatbot", {"flows": "x" * 129}, "flows"),
    ],
)
def test_a_filter_a_page_does_not_take_is_named(api, path, params, param):
    r = api.get(path, params={**PERIOD, **params})
    assert r.status_code == 422 and r.json()["errors"][0]["param"] == param, r.text


def test_the_new_fields_errors_name_the_event_and_field(api):
    base = {"ts": "2026-03-02T10:00:00Z", "channel": "web_chat", "customer_id": "u9"}
    bad = [
        {**base, "event_id": "k1", "type": "message", "sender": "customer", "flow": "faq"},
        {**base, "event_id": "k2", "type": "message", "sender": "chatbot", "step": "s1"},
        {**base, "event_id": "k3", "type": "message", "sender": "chatbot", "flow": "f",
         "flow_type": "billing"},
        {**base, "event_id": "k4", "type": "csat", "score": 4, "about": "bot"},
        {**base, "event_id": "k5", "type": "message", "sender": "customer", "about": "chatbot"},
        {**base, "event_id": "k6", "type": "message", "sender": "teammate", "teammate_id": "t",
         "fallback": True},
        {**base, "event_id": "k7", "type": "message", "sender": "chatbot", "flow_end": True},
        {**base, "event_id": "k8", "type": "message", "sender": "chatbot", "flow": ""},
    ]  # fmt: skip
    r = api.post("/v1/events", json=bad)
    assert r.status_code == 422
    named = [(e["index"], e["event_id"], e["field"]) for e in r.json()["errors"]]
    assert named == [
        (0, "k1", "flow"),
        (1, "k2", "step"),
        (2, "k3", "flow_type"),
        (3, "k4", "about"),
        (4, "k5", "about"),
        (5, "k6", "fallback"),
        (6, "k7", "flow_end"),
        (7, "k8", "flow"),
    ]
    assert api.get("/v1/flows").json() == []  # nothing of the batch stored


def test_the_flow_catalogue_is_a_partial_update(api):
    api.post("/v1/events", json=example())
    hours = {"monday": [["09:00", "17:00"]]}
    assert api.put("/v1/workspace", json={"business_hours": hours}).status_code == 200
    r = api.put("/v1/workspace", json={"flow_types": {"returns": "other"}})
    assert r.status_code == 200
    assert r.json()["flow_types"] == {"returns": "other"}
    assert r.json()["business_hours"]["monday"] == [["09:00", "17:00"]]  # kept
    assert r.json()["timezone"] == "America/Toronto"
    data = api.get("/v1/chatbot", params=PERIOD).json()
    assert data["first_flow_type"]["other"] == 1
    for body, param in (
        ({"flow_types": {"returns": "billing"}}, "flow_types.returns"),
        ({"flow_types": {"": "sales"}}, "flow_types"),
        ({"flow_types": None}, "flow_types"),
        ({"timezone": None}, "timezone"),
    ):
        r = api.put("/v1/workspace", json=body)
        assert r.status_code == 422 and r.json()["errors"][0]["param"].startswith(param), r.text
    assert api.get("/v1/workspace").json()["flow_types"] == {"returns": "other"}


def _write(path, fmt: str, events: list[dict]) -> None:
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    elif fmt == "csv":
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, FIELDS)
            writer.writeheader()
            for e in events:
                writer.writerow(
                    {k: str(v).lower() if isinstance(v, bool) else v for k, v in e.items()}
                )
    else:
        rows = [{k: e.get(k) for k in FIELDS} for e in events]
        for r in rows:
            r["ts"] = datetime.fromisoformat(r["ts"])
            for name in BOOLEAN_FIELDS:
                r[name] = bool(r[name])
        pq.write_table(pa.Table.from_pylist(rows), path)


@pytest.mark.parametrize(
    ("fmt", "suspect"),
    [("jsonl", False), ("jsonl", True), ("csv", False), ("csv", True), ("parquet", False)],
)
def test_every_file_format_gives_the_same_page(tmp_path, fmt, suspect):
    """The set-based check takes the example whole; with a flow_end written "1", which it does
    not vouch for (the model takes it as true), the per-record path stores the same events."""
    events = example()
    if suspect:
        assert events[4]["flow_end"] is True
        events[4] = {**events[4], "flow_end": "1"}
    db = tmp_path / "f.duckdb"
    path = tmp_path / f"events.{fmt}"
    _write(path, fmt, events)
    runner = CliRunner()
    imported = runner.invoke(app, ["import", str(path), "--workspace", "w", "--db", str(db)])
    assert imported.exit_code == 0, imported.output
    report = runner.invoke(
        app,
        ["report", "--page", "chatbot", "--workspace", "w", "--from", DAY, "--to", DAY,
         "--tz", "UTC", "--format", "json", "--db", str(db)],
    )  # fmt: skip
    assert report.exit_code == 0, report.output
    t = json.loads(report.stdout)["tiles"]
    assert (t["handled"], t["automated"], t["fallback_messages"]) == (3, 1, 1)


def test_the_cli_as_a_process(tmp_path):
    db = tmp_path / "cli.duckdb"
    path = tmp_path / "events.jsonl"
    _write(path, "jsonl", example())
    base = [sys.executable, "-m", "convoscope"]

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*base, *args, "--db", str(db)], capture_output=True, text=True, timeout=120
        )

    assert run("import", str(path), "--workspace", "w").returncode == 0
    period = ["--workspace", "w", "--from", DAY, "--to", DAY, "--tz", "UTC"]
    table = run("report", "--page", "chatbot", *period)
    assert table.returncode == 0, table.stderr
    assert "Automation rate" in table.stdout and "33.3%" in table.stdout
    assert "returns" in table.stdout and "ask_reason" in table.stdout
    refused = run("report", "--page", "chatbot", *period, "--teammates", "t1")
    assert refused.returncode == 2
    assert "--teammates: does not apply to the Chatbot Performance page" in refused.stderr
    bad = run("report", "--page", "chatbot", *period, "--flow-types", "billing")
    assert bad.returncode == 2 and bad.stderr.startswith("error: --flow-types:")
    out = tmp_path / "flows.csv"
    exported = run("export", "flows", *period, "--flows", "returns", "--output", str(out))
    assert exported.returncode == 0, exported.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("flow,type,entered") and lines[1].startswith("returns,support,1,")
