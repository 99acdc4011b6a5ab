"""WhatsApp Cloud API webhooks -> SPEC events, with Meta's signature check.

One Meta app may serve several brands, each with its own business phone number, so a
notification is routed by `metadata.phone_number_id` to the workspace that registered that
number (`convoscope workspace whatsapp W --phone-number-id N`). Inbound messages
(`entry[].changes[].value.messages[]`, any type but `system`) are `customer` messages on
channel `whatsapp`: the customer is the sender's WhatsApp id (`from`), the event id
`whatsapp-<message id>`, the time the message's unix `timestamp`. Message statuses, system
messages, echoes of the business's own messages and other fields are counted as ignored.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from typing import Any

from convoscope.adapters import Record, unix_time


def signature_ok(app_secret: str, body: bytes, header: str | None) -> bool:
    """Meta's X-Hub-Signature-256: `sha256=` + HMAC-SHA256 of the raw body with the app secret."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    sent = header.removeprefix("sha256=").encode("utf-8", "surrogatepass")
    return hmac.compare_digest(expected.encode(), sent)


def phone_numbers(payload: dict[str, Any]) -> set[str]:
    """The business phone numbers a notification is about."""
    return {
        str(((change.get("value") or {}).get("metadata") or {}).get("phone_number_id"))
        for entry in payload.get("entry") or []
        for change in entry.get("changes") or []
    }


def map_payload(payload: dict[str, Any]) -> tuple[dict[str, list[Record]], Counter[str]]:
    """SPEC records per business phone number (`phone_number_id`), and ignored items."""
    records: dict[str, list[Record]] = {}
    ignored: Counter[str] = Counter()
    for entry in payload.get("entry") or []:
        for change in entry.get("changes") or []:
            value = change.get("value") or {}
            if change.get("field") != "messages":
                ignored[str(change.get("field"))] += 1
                continue
            number = str((value.get("metadata") or {}).get("phone_number_id"))
            for key, kind in (("statuses", "status"), ("message_echoes", "message echo")):
                if value.get(key):
                    ignored[kind] += len(value[key])
            for message in value.get("messages") or []:
                if message.get("type") == "system":
                    ignored["system message"] += 1
                    continue
                records.setdefault(number, []).append(
                    {
                        "event_id": f"whatsapp-{message.get('id')}",
                        "ts": unix_time(message.get("timestamp")),
                        "channel": "whatsapp",
                        "customer_id": str(message.get("from")),
                        "type": "message",
                        "sender": "customer",
                    }
                )
    return records, ignored
