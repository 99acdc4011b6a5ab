"""Shopify orders and refunds -> SPEC commerce events (SPEC sections 1 and 8; also in the README).

Webhooks (`POST /v1/webhooks/shopify`), by the `X-Shopify-Topic` header:

- `orders/create` and `orders/updated` are one `order`: `order_id` the order's numeric `id`
  (what its refunds name), `ts` its `created_at`, `amount` its `total_price`, `currency`, the
  customer's `id` as `customer_ref` (none for a guest checkout), `source_name` mapped to
  `source` (`web` -> `website`, `pos` -> `store`, anything else -> `other`), `test` kept. Its
  event id is `shopify-order-<id>` whatever the topic, so an update that changes none of
  these is a duplicate, and one that changes them (its test flag, its currency, an edited
  total) is a conflict: answered 409 and logged, never applied silently.
- `refunds/create` is a `refund` of the sum of its successful `refund` transactions, in their
  currency (the order's, else the shop's `presentment` one), dated by its `created_at`; event
  id `shopify-refund-<id>`. A refund without such a transaction (a restock only) is ignored.
- Other topics are acknowledged and counted as ignored.

The signature is `X-Shopify-Hmac-Sha256`: the base64 HMAC-SHA256 of the raw body with the
shop's webhook secret, compared in constant time (`signature_ok`).

The order export (`convoscope import orders.csv --format shopify`): one row per line item, the
order's fields on its first row. Each `Id` (else `Name`) is one order: `Total`, `Currency`,
`Created at` (`2026-03-06 12:00:00 -0500`), `Source`, and, for `customer_ref`, the `Email`
(lower-cased: the export has no customer id, so a shop that matches its chats to orders by
email signs its shoppers in with it); a `Refunded Amount` above 0 is one refund, dated at the
order's creation (the export does not say when).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, BinaryIO

from convoscope.adapters import Record

SOURCES = {"web": "website", "pos": "store"}
ORDER_TOPICS = ("orders/create", "orders/updated")
REFUND_TOPIC = "refunds/create"


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """Shopify's X-Shopify-Hmac-Sha256: base64 of HMAC-SHA256(raw body, webhook secret)."""
    if not header:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, header.encode("utf-8", "surrogatepass"))


def _source(name: Any) -> str:
    return SOURCES.get(str(name or "").lower(), "other")


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def order_record(order: dict[str, Any]) -> Record:
    """An order webhook's body as a SPEC `order`."""
    customer = order.get("customer") or {}
    record: Record = {
        "event_id": f"shopify-order-{order['id']}",
        "ts": order["created_at"],
        "type": "order",
        "order_id": str(order["id"]),
        "amount": order["total_price"],
        "currency": order["currency"],
        "source": _source(order.get("source_name")),
        "test": bool(order.get("test")),
    }
    ref = _text(customer.get("id"))
    if ref:
        record["customer_ref"] = ref
    return record


def refund_record(refund: dict[str, Any]) -> Record | None:
    """A refund webhook's body as a SPEC `refund`, or None when it returns no money."""
    paid = [
        t
        for t in refund.get("transactions") or []
        if t.get("kind") == "refund" and t.get("status") == "success"
    ]
    if not paid:
        return None
    currencies = {t.get("currency") for t in paid}
    total = sum((Decimal(str(t["amount"])) for t in paid), Decimal(0))
    return {
        "event_id": f"shopify-refund-{refund['id']}",
        "ts": refund["created_at"],
        "type": "refund",
        "order_id": str(refund["order_id"]),
        "amount": str(total),
        # one currency per refund; several (never seen) are left for validation to refuse
        "currency": ",".join(sorted(map(str, currencies))),
    }


def map_webhook(topic: str, payload: dict[str, Any]) -> tuple[list[Record], str | None]:
    """The records of one webhook, or none and the reason it is ignored."""
    if topic in ORDER_TOPICS:
        return [order_record(payload)], None
    if topic == REFUND_TOPIC:
        record = refund_record(payload)
        return ([record], None) if record else ([], "refund without money returned")
    return [], f"topic {topic[:40]}"


@dataclass
class Export:
    """The orders of an export file, and what it held that is not an order."""

    events: list[Record] = field(default_factory=list)
    ignored: Counter[str] = field(default_factory=Counter)


def _export_time(text: str) -> str:
    """`2026-03-06 12:00:00 -0500` as RFC 3339; anything else is passed on for validation to
    name."""
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S %z").isoformat()
    except ValueError:
        return text


def read_export(stream: BinaryIO) -> Export:
    """Shopify's order export CSV: each order's first row carries its fields."""
    reader = csv.DictReader(io.TextIOWrapper(stream, encoding="utf-8-sig", newline=""))
    missing = {"Name", "Total", "Currency", "Created at"} - set(reader.fieldnames or ())
    if missing:
        raise ValueError(f"not a Shopify order export: no {', '.join(sorted(missing))} column")
    out = Export()
    seen: set[str] = set()
    for row in reader:
        key = row.get("Id") or row["Name"]
        if key in seen:
            out.ignored["line item rows"] += 1
            continue
        seen.add(key)
        ts = _export_time(row["Created at"])
        record: Record = {
            "event_id": f"shopify-order-{key}",
            "ts": ts,
            "type": "order",
            "order_id": key,
            "amount": row["Total"],
            "currency": row["Currency"],
            "source": _source(row.get("Source")),
        }
        email = (row.get("Email") or "").strip().lower()
        if email:
            record["customer_ref"] = email
        out.events.append(record)
        refunded = _amount(row.get("Refunded Amount"))
        if refunded:
            out.events.append(
                {
                    "event_id": f"shopify-refund-of-{key}",
                    "ts": ts,
                    "type": "refund",
                    "order_id": key,
                    "amount": str(refunded),
                    "currency": row["Currency"],
                }
            )
    return out


def _amount(text: str | None) -> Decimal | None:
    try:
        value = Decimal((text or "").strip() or "0")
    except InvalidOperation:
        return None
    return value if value > 0 else None
