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

Flows (Rasa Pro's CALM, SPEC section 7): the tracker's `flow_started`, `flow_interrupted`,
`flow_resumed`, `flow_completed` and `flow_cancelled` events keep a stack of the flows under
way; a chatbot message belongs to the flow on top (Rasa's own `pattern_*` flows, such as
`pattern_collect_information`, ask on behalf of the flow below them and are passed over),
its `step` is the response it utters (`metadata.utter_action`, or the `utter_*` action), and
the last message of a flow before its `flow_completed` ends it (`flow_end`). A flow
cancelled or left unfinished is not ended. A chatbot message answering a customer message
Rasa did not understand (the `nlu_fallback` intent, or after `action_default_fallback`) is a
`fallback`. The tracker says nothing of a flow's type: the workspace's flow catalogue does.
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


FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTION = "action_default_fallback"
FLOW_EVENTS = (
    "flow_started",
    "flow_interrupted",
    "flow_resumed",
    "flow_completed",
    "flow_cancelled",
)


@dataclass
class _Flows:
    """The flows under way in one tracker, and the last chatbot message of each."""

    stack: list[str] = field(default_factory=list)
    last_message: dict[str, dict[str, Any]] = field(default_factory=dict)

    def current(self) -> str | None:
        return next((f for f in reversed(self.stack) if not f.startswith("pattern_")), None)

    def apply(self, kind: str, flow: str) -> None:
        if kind in ("flow_started", "flow_resumed"):
            if flow in self.stack:
                self.stack.remove(flow)
            self.stack.append(flow)
        elif kind in ("flow_completed", "flow_cancelled"):
            if flow in self.stack:
                self.stack.remove(flow)
            ended = self.last_message.pop(flow, None)
            if kind == "flow_completed" and ended is not None:
                ended["flow_end"] = True
        # flow_interrupted: another flow starts on top of it, which its own event says

    def tag(self, message: dict[str, Any], step: str | None) -> None:
        """Place a chatbot message in the flow under way, if any."""
        flow = self.current()
        if flow is None:
            return
        message["flow"] = flow
        if step:
            message["step"] = step
        self.last_message[flow] = message


def _misunderstood(event: dict[str, Any]) -> bool:
    intent = (event.get("parse_data") or {}).get("intent") or event.get("intent") or {}
    return isinstance(intent, dict) and intent.get("name") == FALLBACK_INTENT


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
        flows = _Flows()
        fallback = False  # the customer's last message was not understood
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
                fallback = _misunderstood(event)
                result.events.append({**common, "type": "message", "sender": "customer"})
            elif kind == "bot" or (kind == "action" and not logs_bot and name.startswith("utter_")):
                first = welcome and not welcomed
                welcomed = True
                message = {**common, "type": "message", "sender": "chatbot", "welcome": first}
                if fallback:
                    message["fallback"] = True
                    fallback = False
                step = (
                    name if kind == "action" else (event.get("metadata") or {}).get("utter_action")
                )
                flows.tag(message, step)
                result.events.append(message)
            elif kind in FLOW_EVENTS and event.get("flow_id"):
                flows.apply(kind, str(event["flow_id"]))
                result.ignored[kind] += 1
            elif kind == "action" and name == FALLBACK_ACTION:
                fallback = True
                result.ignored[f"{kind} {name}"] += 1
            elif kind == "action" and name == handoff_action:
                result.events.append({**common, "type": "transfer_request"})
            else:
                result.ignored[f"{kind} {name}".strip()] += 1
    return result
