"""WhatsApp Cloud API webhooks -> SPEC events, with Meta's signature check.

Inbound messages (`entry[].changes[].value.messages[]`, any type but `system`) are `customer`
messages on channel `whatsapp`: the customer is the sender's WhatsApp id (`from`), the event id
`whatsapp-<message id>`, the time the message's unix `timestamp`. Message statuses, system
messages, echoes of the business's own messages and other fields are counted as ignored.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from datetime import UTC, datetime
from typing import Any


def signature_ok(app_secret: str, body: bytes, header: str | None) -> bool:
    """Meta's X-Hub-Signature-256: `sha256=` + HMAC-SHA256 of the raw body with the app secret."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256="))


def map_payload(payload: dict[str, Any]) -> tuple[list[dict[str, Any]], Counter[str]]:
    records: list[dict[str, Any]] = []
    ignored: Counter[str] = Counter()
    for entry in payload.get("entry") or []:
        for change in entry.get("changes") or []:
            value = change.get("value") or {}
            if change.get("field") != "messages":
                ignored[str(change.get("field"))] += 1
                continue
            for key, kind in (("statuses", "status"), ("message_echoes", "message echo")):
                if value.get(key):
                    ignored[kind] += len(value[key])
            for message in value.get("messages") or []:
                if message.get("type") == "system":
                    ignored["system message"] += 1
                    continue
                records.append(
                    {
                        "event_id": f"whatsapp-{message.get('id')}",
                        "ts": datetime.fromtimestamp(float(message["timestamp"]), UTC).isoformat(),
                        "channel": "whatsapp",
                        "customer_id": str(message.get("from")),
                        "type": "message",
                        "sender": "customer",
                    }
                )
    return records, ignored
