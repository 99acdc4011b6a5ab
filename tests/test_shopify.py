"""The Shopify adapter (issue 20): order and refund webhooks mapped by hand, in the shapes of
Shopify's documentation, checked with the shop's signature and routed by its domain through
the API; the order export imported as a file (one row per line item); and Chatwoot's
sign-ins (a contact's `identifier`) as `identify` events."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import logging

import pytest
from fastapi.testclient import TestClient
from test_adapters import chatwoot_payload, mapped
from typer.testing import CliRunner

from convoscope import accounts
from convoscope.adapters import shopify
from convoscope.cli import app
from convoscope.events import validate_batch
from convoscope.store import Store
from convoscope.web import create_app

SECRET = "shpss_webhook_secret_for_tests"
DOMAIN = "maple-outfitters.myshopify.com"
# An orders/create body as Shopify documents it (trimmed to what is read, plus a few others).
ORDER = {
    "id": 5940139491234,
    "name": "#1001",
    "email": "ann@example.com",
    "created_at": "2026-03-06T07:00:00-05:00",
    "updated_at": "2026-03-06T07:00:00-05:00",
    "total_price": "120.00",
    "subtotal_price": "110.00",
    "currency": "CAD",
    "financial_status": "paid",
    "test": False,
    "source_name": "web",
    "customer": {"id": 706405506930370084, "email": "ann@example.com", "first_name": "Ann"},
    "line_items": [{"id": 1, "title": "Boots", "price": "110.00", "quantity": 1}],
    "refunds": [],
}
REFUND = {
    "id": 929361462,
    "order_id": 5940139491234,
    "created_at": "2026-03-08T09:00:00-05:00",
    "note": "too small",
    "refund_line_items": [],
    "transactions": [
        {"id": 1, "amount": "20.00", "currency": "CAD", "kind": "refund", "status": "success"},
        {"id": 2, "amount": "5.00", "currency": "CAD", "kind": "refund", "status": "failure"},
    ],
}


def test_orders_and_refunds_map_by_hand():
    assert shopify.map_webhook("orders/create", ORDER) == (
        [
            {
                "event_id": "shopify-order-5940139491234",
                "ts": "2026-03-06T07:00:00-05:00",
                "type": "order",
                "order_id": "5940139491234",
                "amount": "120.00",
                "currency": "CAD",
                "source": "website",
                "test": False,
                "customer_ref": "706405506930370084",
            }
        ],
        None,
    )
    guest = {**ORDER, "customer": None, "source_name": "pos", "test": True}
    (record,), _ = shopify.map_webhook("orders/updated", guest)
    assert "customer_ref" not in record and record["source"] == "store" and record["test"]
    assert (
        shopify.map_webhook("orders/create", {**ORDER, "source_name": "iphone"})[0][0]["source"]
        == "other"
    )
    (refund,), _ = shopify.map_webhook("refunds/create", REFUND)
    assert refund == {
        "event_id": "shopify-refund-929361462",
        "ts": "2026-03-08T09:00:00-05:00",
        "type": "refund",
        "order_id": "5940139491234",
        "amount": "20.00",
        "currency": "CAD",
    }
    restock = {**REFUND, "transactions": []}
    assert shopify.map_webhook("refunds/create", restock) == ([], "refund without money returned")
    assert shopify.map_webhook("products/update", {}) == ([], "topic products/update")
    validate_batch([record, refund], "shop")  # SPEC events


def test_the_signature_is_the_base64_hmac_of_the_raw_body():
    body = json.dumps(ORDER).encode()
    good = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    assert shopify.signature_ok(SECRET, body, good)
    assert not shopify.signature_ok(SECRET, body + b" ", good)
    assert not shopify.signature_ok("other", body, good)
    assert not shopify.signature_ok(SECRET, body, None)
    assert not shopify.signature_ok(SECRET, body, "é")


@pytest.fixture
def shop(tmp_path):
    with Store(tmp_path / "shop.duckdb") as store:
        store.ensure_workspace("shop", "UTC")
        store.set_shopify("shop", SECRET, DOMAIN)
        key = accounts.create_key(store, "shop", "test")
        with TestClient(create_app(store)) as c:
            yield c, {"Authorization": f"Bearer {key}"}


def _send(client, topic: str, payload: dict, *, secret: str = SECRET, domain: str = DOMAIN):
    body = json.dumps(payload).encode()
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    headers = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": domain,
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "Content-Type": "application/json",
    }
    return client.post("/v1/webhooks/shopify", content=body, headers=headers)


def test_the_webhook_checks_routes_and_refuses_silent_changes(shop, caplog):
    client, auth = shop
    assert _send(client, "refunds/create", REFUND).json()["accepted"] == 1  # before its order
    assert _send(client, "orders/create", ORDER).json() == {
        "accepted": 1,
        "duplicates": 0,
        "ignored": {},
    }
    assert _send(client, "orders/updated", ORDER).json()["duplicates"] == 1
    with caplog.at_level(logging.WARNING, logger="convoscope.webhooks"):
        changed = _send(client, "orders/updated", {**ORDER, "test": True})
    assert changed.status_code == 409
    assert changed.json()["event_ids"] == ["shopify-order-5940139491234"]
    assert "refused" in caplog.text and SECRET not in caplog.text
    assert _send(client, "orders/updated", {**ORDER, "currency": "USD"}).status_code == 409
    assert _send(client, "orders/create", ORDER, secret="wrong").status_code == 401
    assert _send(client, "orders/create", ORDER, domain="other.myshopify.com").status_code == 401
    assert _send(client, "orders/create", ORDER, domain=DOMAIN.upper()).status_code == 200
    assert _send(client, "carts/update", {"id": 1}).json()["ignored"] == {"topic carts/update": 1}
    broken = copy.deepcopy(ORDER)
    del broken["total_price"]
    assert _send(client, "orders/create", broken).status_code == 422
    month = {"from": "2026-03-01", "to": "2026-03-31"}
    data = client.get("/v1/sales", params=month, headers=auth).json()
    assert data["currencies"]["CAD"]["all_sales"] == "100.00"  # 120.00 less the 20.00 refund
    assert data["orders"]["unmatched"] == 1  # no chat signed in as its customer


EXPORT = (
    "Name,Email,Financial Status,Paid at,Currency,Subtotal,Total,Created at,Lineitem quantity,"
    "Lineitem name,Lineitem price,Refunded Amount,Id,Source\n"
    "#1001,Ann@Example.com,paid,2026-03-06 12:00:00 -0500,CAD,110.00,120.00,"
    "2026-03-06 12:00:00 -0500,1,Boots,80.00,20.00,5940139491234,web\n"
    "#1001,Ann@Example.com,,,,,,,1,Socks,30.00,,5940139491234,web\n"
    "#1002,,paid,2026-03-07 09:30:00 -0500,CAD,50.00,50.00,2026-03-07 09:30:00 -0500,1,Hat,"
    "50.00,0.00,5940139491235,pos\n"
)


def test_the_order_export_is_one_order_per_id(tmp_path):
    path = tmp_path / "orders_export.csv"
    path.write_text(EXPORT, encoding="utf-8")
    db = ["--db", str(tmp_path / "x.duckdb")]
    runner = CliRunner()
    done = runner.invoke(app, ["import", str(path), "--format", "shopify", "-w", "shop", *db])
    assert done.exit_code == 0, done.output
    assert "3 accepted" in done.output  # two orders and one refund; a line-item row ignored
    report = runner.invoke(
        app,
        ["report", "--page", "sales", "-w", "shop", "--from", "2026-03-01", "--to",
         "2026-03-31", "--format", "json", *db],
    )  # fmt: skip
    data = json.loads(report.stdout)
    assert data["currencies"]["CAD"]["all_sales"] == "150.00"
    assert data["orders"]["unmatched"] == 2
    again = runner.invoke(app, ["import", str(path), "--format", "shopify", "-w", "shop", *db])
    assert "0 accepted, 3 duplicates" in again.output
    wrong = tmp_path / "other.csv"
    wrong.write_text("a,b\n1,2\n", encoding="utf-8")
    bad = runner.invoke(app, ["import", str(wrong), "--format", "shopify", "-w", "shop", *db])
    assert bad.exit_code != 0 and "not a Shopify order export" in bad.output


def test_a_chatwoot_contact_with_an_identifier_signs_the_thread_in():
    payload = chatwoot_payload("message_created")
    payload["sender"]["identifier"] = "706405506930370084"
    records, _ = mapped(payload)
    identify, message = records
    assert identify["type"] == "identify" and identify["customer_ref"] == "706405506930370084"
    assert (identify["channel"], identify["customer_id"]) == ("web_chat", "contact-14")
    assert identify["ts"] == message["ts"] and identify["event_id"].startswith(
        "chatwoot-identify-contact-14-"
    )
    again, _ = mapped({**payload, "id": 119})
    assert again[0]["event_id"] == identify["event_id"]  # once per contact and identifier
    assert len(mapped(chatwoot_payload("message_created"))[0]) == 1  # no identifier: none
