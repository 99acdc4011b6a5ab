"""Sales Attribution through every way in and out: the worked example sent over HTTP and
imported as a file; read back as the pinned JSON of `GET /v1/sales`, both CSVs, and the CLI's
`report --page sales` and exports as a process; the commerce events' errors named; an order
id kept unique; a refund in its order's currency; the attribution window as a setting."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from helpers import order, refund
from test_sales import example

from convoscope import accounts
from convoscope.store import Store
from convoscope.web import create_app

MARCH = {"from": "2026-03-01", "to": "2026-03-31", "tz": "UTC"}
PINNED = [
    "workspace", "period", "previous_period", "granularity", "channels", "departments",
    "teammates", "buckets", "in_progress_bucket", "currency", "currencies",
    "time_to_purchase_seconds", "series", "by_teammate", "orders", "data_quality",
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
    data = api.get("/v1/sales", params=MARCH).json()
    assert list(data) == PINNED
    cad = data["currencies"]["CAD"]
    assert cad["attributed_sales"] == "180.00" and cad["attributed_orders"] == 2
    assert cad["average_order_value"] == "90.0000" and cad["all_sales"] == "230.00"
    assert cad["share_influenced"] == 0.782608695652174
    assert cad["direct"] == {"sales": "0", "orders": 0}
    assert list(cad["previous"]) == [k for k in cad if k != "previous"]
    assert (
        cad["previous"]["attributed_sales"] == "0" and cad["previous"]["share_influenced"] is None
    )
    assert data["currency"] == "CAD" and data["series"]["CAD"]["with_teammate"][5] == "100.00"
    assert data["orders"] == {"attributed": 2, "not_attributed": 0, "unmatched": 1,
                              "orphan_refunds": 0}  # fmt: skip
    assert data["data_quality"] == {"orphan_closes": 0, "orphan_surveys": 0, "orphan_refunds": 0}
    assert data["by_teammate"] == [
        {"teammate_id": "t1", "currency": "CAD", "orders": 1, "sales": "100.00",
         "average_order_value": "100.0000"}
    ]  # fmt: skip
    # a filter: the teammates filter keeps O1 only; the denominator stays the shop's
    t1 = api.get("/v1/sales", params={**MARCH, "teammates": "t1"}).json()
    assert t1["currencies"]["CAD"]["attributed_sales"] == "100.00"
    assert t1["currencies"]["CAD"]["all_sales"] == "230.00"
    assert t1["orders"] == {"attributed": 1, "not_attributed": 0, "unmatched": 0,
                            "orphan_refunds": 0}  # fmt: skip
    whatsapp = api.get("/v1/sales", params={**MARCH, "channels": "whatsapp"}).json()
    assert whatsapp["currencies"]["CAD"]["chatbot_only"] == {"sales": "80.00", "orders": 1}
    assert whatsapp["currencies"]["CAD"]["with_teammate"] == {"sales": "0", "orders": 0}


def test_the_csvs_name_their_period_and_filters(api):
    api.post("/v1/events", json=example())
    r = api.get("/v1/reports/sales.csv", params=MARCH)
    assert r.status_code == 200
    assert "sales_shop_2026-03-01_2026-03-31" in r.headers["content-disposition"]
    lines = list(csv.reader(io.StringIO(r.text)))
    assert lines[0] == [
        "time_of_purchase", "order_id", "amount", "refunded", "net_amount", "currency",
        "customer_ref", "sale_type", "status", "teammate_id", "chatbot_assisted", "channel",
        "conversation_started_at",
    ]  # fmt: skip
    assert lines[1] == ["2026-03-06T12:00:00Z", "O1", "120.00", "20.00", "100.00", "CAD", "c42",
                        "indirect", "attributed", "t1", "true", "web_chat",
                        "2026-03-01T10:00:00Z"]  # fmt: skip
    mates = api.get("/v1/reports/sales-teammates.csv", params={**MARCH, "channels": "web_chat"})
    assert (
        "sales-teammates_shop_2026-03-01_2026-03-31_web_chat.csv"
        in mates.headers["content-disposition"]
    )
    assert mates.text.splitlines()[1] == "t1,CAD,1,100.00,100.0000"


@pytest.mark.parametrize(
    ("path", "params", "param"),
    [
        ("/v1/overview", {"currency": "CAD"}, "currency"),
        ("/v1/sales", {"currency": "XYZ"}, "currency"),
        ("/v1/sales", {"flows": "returns"}, "flows"),
    ],
)
def test_a_parameter_the_page_does_not_take_is_named(api, path, params, param):
    r = api.get(path, params={**MARCH, **params})
    assert r.status_code == 422 and r.json()["errors"][0]["param"] == param, r.text


def test_the_commerce_fields_errors_name_the_event_and_field(api):
    thread = {"channel": "web_chat", "customer_id": "u9"}
    ts = "2026-03-02T10:00:00Z"
    bad = [
        order("k1", ts, "O1", "12.345678"),
        order("k2", ts, "O2", 12.5),
        order("k3", ts, "O3", "10", "ZZZ"),
        order("k4", ts, "O4", "10", channel="web_chat"),
        refund("k5", ts, "O1", "0"),
        {**refund("k6", ts, "O1", "5"), **thread},
        {"event_id": "k7", "ts": ts, "type": "identify", **thread},
        {"event_id": "k8", "ts": ts, "type": "message", "sender": "customer", "amount": "1",
         **thread},
        order("k9", ts, "O9", "10", source="phone"),
    ]  # fmt: skip
    r = api.post("/v1/events", json=bad)
    assert r.status_code == 422
    named = [(e["index"], e["event_id"], e["field"]) for e in r.json()["errors"]]
    assert named == [
        (0, "k1", "amount"),
        (1, "k2", "amount"),
        (2, "k3", "currency"),
        (3, "k4", "customer_id"),
        (4, "k5", "amount"),
        (5, "k6", "channel"),
        (5, "k6", "customer_id"),
        (6, "k7", "customer_ref"),
        (7, "k8", "amount"),
        (8, "k9", "source"),
    ]
    assert api.get("/v1/sales", params=MARCH).json()["currencies"] == {}  # nothing stored


def test_an_order_id_is_one_order_and_a_refund_keeps_its_currency(api):
    o1 = order("o1", "2026-03-06T12:00:00Z", "O1", "120.00")
    assert api.post("/v1/events", json=[o1]).json()["accepted"] == 1
    # the same order under another event id: a duplicate; with other content: a conflict
    same = api.post("/v1/events", json=[{**o1, "event_id": "o1-again"}]).json()
    assert (same["accepted"], same["duplicates"]) == (0, 1)
    other = api.post("/v1/events", json=[{**o1, "event_id": "o1-b", "amount": "99.00"}])
    assert other.status_code == 409 and "order_id" in other.json()["detail"]
    assert other.json()["event_ids"] == ["o1-b"]
    wrong = api.post("/v1/events", json=[refund("r1", "2026-03-07T00:00:00Z", "O1", "5", "USD")])
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "currency"
    # a refund before its order is held: an orphan refund until the order comes
    early = refund("r2", "2026-03-07T00:00:00Z", "O2", "5", "EUR")
    assert api.post("/v1/events", json=[early]).status_code == 200
    data = api.get("/v1/sales", params=MARCH).json()
    assert data["orders"]["orphan_refunds"] == 1 == data["data_quality"]["orphan_refunds"]
    api.post("/v1/events", json=[order("o2", "2026-03-06T12:00:00Z", "O2", "30.00", "EUR")])
    data = api.get("/v1/sales", params=MARCH).json()
    assert data["orders"]["orphan_refunds"] == 0
    assert data["currencies"]["EUR"]["all_sales"] == "25.00"


def test_the_attribution_window_is_a_setting(api):
    api.post("/v1/events", json=example())
    assert api.get("/v1/workspace").json()["attribution_window_seconds"] == 14 * 86400
    r = api.put("/v1/workspace", json={"attribution_window_days": 16})
    assert r.status_code == 200 and r.json()["attribution_window_seconds"] == 16 * 86400
    assert r.json()["timezone"] == "America/Toronto"  # the others kept
    # X (last touch 03-01 10:18) is now a candidate for O2 (03-16 12:00): t1 gets it
    data = api.get("/v1/sales", params=MARCH).json()
    assert data["currencies"]["CAD"]["with_teammate"] == {"sales": "180.00", "orders": 2}
    for days in (0, 366, None, 1.5):
        r = api.put("/v1/workspace", json={"attribution_window_days": days})
        assert r.status_code == 422 and r.json()["errors"][0]["param"].startswith(
            "attribution_window_days"
        ), r.text


def test_the_cli_as_a_process(tmp_path):
    db = tmp_path / "cli.duckdb"
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in example()), encoding="utf-8")
    base = [sys.executable, "-m", "convoscope"]

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*base, *args, "--db", str(db)], capture_output=True, text=True, timeout=120
        )

    assert run("import", str(path), "--workspace", "w").returncode == 0
    period = ["--workspace", "w", "--from", "2026-03-01", "--to", "2026-03-31", "--tz", "UTC"]
    table = run("report", "--page", "sales", *period)
    assert table.returncode == 0, table.stderr
    assert "Attributed sales" in table.stdout and "180.00" in table.stdout
    assert "1 unmatched" in table.stdout
    as_json = run("report", "--page", "sales", *period, "--format", "json", "--currency", "CAD")
    assert json.loads(as_json.stdout)["currencies"]["CAD"]["attributed_orders"] == 2
    refused = run("report", "--page", "overview", *period, "--currency", "CAD")
    assert refused.returncode == 2 and "--currency: does not apply" in refused.stderr
    out = tmp_path / "sales.csv"
    exported = run("export", "sales", *period, "--output", str(out))
    assert exported.returncode == 0, exported.stderr
    assert [line.split(",")[1] for line in out.read_text().splitlines()[1:]] == ["O1", "O3", "O2"]
    mates = run("export", "sales-teammates", *period)
    assert mates.stdout.splitlines()[1] == "t1,CAD,1,100.00,100.0000"


def test_erasing_a_shop_customer_over_http(api):
    api.post("/v1/events", json=example())
    r = api.delete("/v1/shop-customers/c42")
    assert r.status_code == 200
    assert r.json() == {"customer_ref": "c42", "orders": 2, "refunds": 1, "identifications": 2}
    data = api.get("/v1/sales", params=MARCH).json()
    assert data["orders"] == {"attributed": 0, "not_attributed": 0, "unmatched": 1,
                              "orphan_refunds": 0}  # fmt: skip
    assert api.get("/v1/overview", params=MARCH).json()["tiles"]["total_conversations"] == 2
