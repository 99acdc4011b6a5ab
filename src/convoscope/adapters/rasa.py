"""Rasa tracker store export -> SPEC events.

Accepts one tracker (a JSON object), a JSON array of trackers, or JSON Lines of trackers. The
mapping (also in the README): the tracker's `sender_id` is the customer; `user` events are
`customer` messages, `bot` events `chatbot` messages; trackers from Rasa versions that logged
no `bot` events have their `utter_*` actions taken as the chatbot's messages instead; the
handoff action (default `action_handoff`) is a `transfer_request`; with `welcome=True` the
first chatbot message of each session (after `session_started`, or the first of the tracker)
is the welcome. The channel comes from `latest_input_channel` (`rest`, `socketio` and unknown
ones map to `web_chat`) unless given. `event_id` is `rasa-<sender_id>-<position in the
tracker>`, stable as long as the tracker store only appends.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from convoscope.adapters import unix_time

CHANNELS = {
    "facebook": "messenger",
    "messenger": "messenger",
    "instagram": "instagram",
    "whatsapp": "whatsapp",
    "twilio": "sms",
    "rest": "web_chat",
    "socketio": "web_chat",
}


@dataclass
class RasaResult:
    events: list[dict[str, Any]] = field(default_factory=list)
    ignored: Counter[str] = field(default_factory=Counter)


def _trackers(stream: BinaryIO) -> Iterator[dict[str, Any]]:
    text = stream.read().decode("utf-8-sig")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = [json.loads(line) for line in text.splitlines() if line.strip()]
    trackers = data if isinstance(data, list) else [data]
    for tracker in trackers:
        if not isinstance(tracker, dict) or "sender_id" not in tracker:
            raise ValueError("not a Rasa tracker: an object with sender_id and events is needed")
        yield tracker


def read(
    stream: BinaryIO,
    **options: Any,
) -> RasaResult:
    """Map every tracker of the file; ValueError names the tracker and event at fault."""
    try:
        return _read(stream, **options)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a Rasa tracker export: {exc!r}") from None


def _read(
    stream: BinaryIO,
    *,
    handoff_action: str = "action_handoff",
    welcome: bool = False,
    channel: str | None = None,
) -> RasaResult:
    result = RasaResult()
    for tracker in _trackers(stream):
        customer = str(tracker["sender_id"])
        events = tracker.get("events") or []
        slug = channel or CHANNELS.get(str(tracker.get("latest_input_channel") or ""), "web_chat")
        logs_bot = any(e.get("event") == "bot" for e in events)
        welcomed = False
        for position, event in enumerate(events):
            kind, name = event.get("event"), event.get("name") or ""
            common = {
                "event_id": f"rasa-{customer}-{position}",
                "ts": unix_time(event.get("timestamp")),
                "channel": slug,
                "customer_id": customer,
            }
            if kind == "session_started":
                welcomed = False
                result.ignored[kind] += 1
            elif kind == "user":
                result.events.append({**common, "type": "message", "sender": "customer"})
            elif kind == "bot" or (kind == "action" and not logs_bot and name.startswith("utter_")):
                first = welcome and not welcomed
                welcomed = True
                result.events.append(
                    {**common, "type": "message", "sender": "chatbot", "welcome": first}
                )
            elif kind == "action" and name == handoff_action:
                result.events.append({**common, "type": "transfer_request"})
            else:
                result.ignored[f"{kind} {name}".strip()] += 1
    return result
