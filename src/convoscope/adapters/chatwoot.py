"""Chatwoot webhook events -> SPEC events (mapping also in the README).

- `message_created`: `incoming` is a `customer` message; `outgoing` by a user (agent) is a
  `teammate` message (`teammate_id` `user-<id>`), by an agent bot or automation (no user) a
  `chatbot` message; private notes, activity and template messages are ignored.
- `conversation_status_changed` to `open` from `pending` (Chatwoot's bot-to-human handoff) is a
  `transfer_request`. When the payload carries no `changed_attributes`, a change to `open` is
  taken as coming from `pending`.
- Status events are dated by the conversation's `updated_at` when the payload has it, else by
  the time the webhook is received: Chatwoot's `timestamp` is the conversation's last
  activity (its last message), not the moment of the status change. Their event id is made
  from the conversation id, the kind and the payload's own times, so each status change has
  its own id while a redelivered webhook keeps it (and is counted as a duplicate).
- A CSAT survey message (`content_type` `input_csat`) whose `content_attributes` carry
  `submitted_values.csat_survey_response.rating`, in `message_created` or `message_updated`
  (Chatwoot updates the survey message when the customer answers), is a `csat` with that
  rating as its `score`, dated when received (the payload carries no answer time), event id
  `chatwoot-csat-<message id>` (one answer per survey message; a re-sent answer is a duplicate).
  A survey message without an answer is ignored. Chatwoot rates the conversation's assigned
  agent: when the payload's conversation has a user (a person) as assignee, the survey is
  `about` `teammate`; without one it says nothing, and SPEC section 7 decides (a teammate
  wrote in the conversation, or the chatbot is rated).
- `conversation_resolved` is a `close`; `department` is the conversation's team when it has one,
  `teammate_id` its assignee.
- A customer message whose contact carries an `identifier` (the shop's customer id, set by
  the widget's `setUser`) also gives an `identify` of the thread as that shop customer (SPEC
  section 8), dated by the message, event id `chatwoot-identify-<customer>-<digest of the
  identifier>`: once per contact and identifier.
- Anything else (`conversation_opened`, `message_updated`, `webwidget_triggered`, ...) is
  acknowledged and counted as ignored.

The customer is the conversation's contact (`contact-<id>`); the channel comes from Chatwoot's
inbox type (`Channel::WebWidget` is `web_chat`, ...). Event ids are derived from Chatwoot's ids,
so a webhook delivered twice is a duplicate.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from convoscope.adapters import unix_time

CHANNELS = {
    "Channel::WebWidget": "web_chat",
    "Channel::FacebookPage": "messenger",
    "Channel::Instagram": "instagram",
    "Channel::Whatsapp": "whatsapp",
    "Channel::Email": "email",
    "Channel::Sms": "sms",
    "Channel::TwilioSms": "sms",
    "Channel::Api": "api",
    "Channel::Telegram": "telegram",
    "Channel::Line": "line",
}


def _ts(value: Any) -> str:
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        return unix_time(value)
    return str(value)


def _status_time(payload: dict[str, Any], received_at: datetime) -> str:
    updated = payload.get("updated_at")
    return _ts(updated) if updated is not None else received_at.isoformat()


def _channel(conversation: dict[str, Any]) -> str:
    name = str(conversation.get("channel") or "")
    return CHANNELS.get(name, name.removeprefix("Channel::").lower() or "web_chat")


def _customer(conversation: dict[str, Any]) -> str:
    contact = (conversation.get("contact_inbox") or {}).get("contact_id")
    if contact is None:
        contact = ((conversation.get("meta") or {}).get("sender") or {}).get("id")
    return f"contact-{contact}"


def _previous_status(payload: dict[str, Any]) -> str | None:
    changed = payload.get("changed_attributes") or []
    for item in changed if isinstance(changed, list) else [changed]:
        status = item.get("status") if isinstance(item, dict) else None
        if isinstance(status, dict):
            return status.get("previous_value")
    return None


def _conversation_event_id(payload: dict[str, Any], what: str) -> str:
    times = [payload.get(k) for k in ("timestamp", "updated_at", "agent_last_seen_at")]
    digest = hashlib.sha256(repr(times).encode()).hexdigest()[:16]
    return f"chatwoot-conversation-{payload.get('id')}-{what}-{digest}"


def _survey(
    payload: dict[str, Any], received_at: datetime
) -> tuple[list[dict[str, Any]], str | None]:
    submitted = (payload.get("content_attributes") or {}).get("submitted_values") or {}
    answer = submitted.get("csat_survey_response") if isinstance(submitted, dict) else None
    rating = answer.get("rating") if isinstance(answer, dict) else None
    if rating is None:
        return [], "csat survey without an answer"
    conversation = payload.get("conversation") or {}
    assignee = (conversation.get("meta") or {}).get("assignee")
    rated = isinstance(assignee, dict) and assignee.get("type") == "user"
    return [
        {
            "event_id": f"chatwoot-csat-{payload.get('id')}",
            "ts": received_at.isoformat(),
            "channel": _channel(conversation),
            "customer_id": _customer(conversation),
            "type": "csat",
            "score": rating,
            **({"about": "teammate"} if rated else {}),
        }
    ], None


def _identify(
    message: dict[str, Any], conversation: dict[str, Any], contact: dict[str, Any]
) -> list[dict[str, Any]]:
    """An `identify` when the contact carries an `identifier` (the shop's customer id, which
    the widget's `setUser` sets): its id is the contact's and the identifier's, so the first
    message that shows it stores it and the later ones are duplicates."""
    identifier = contact.get("identifier") or (
        ((conversation.get("meta") or {}).get("sender") or {}).get("identifier")
    )
    if not identifier:
        return []
    digest = hashlib.sha256(str(identifier).encode()).hexdigest()[:16]
    return [
        {
            "event_id": f"chatwoot-identify-{message['customer_id']}-{digest}",
            "ts": message["ts"],
            "channel": message["channel"],
            "customer_id": message["customer_id"],
            "type": "identify",
            "customer_ref": str(identifier),
        }
    ]


def teammate_names(payload: dict[str, Any]) -> dict[str, str]:
    """The agents a webhook body names, by the teammate ids `map_event` gives them: the sender
    of an agent's message, the assignee of a resolved conversation."""
    sender = payload.get("sender") or {}
    assignee = (payload.get("meta") or {}).get("assignee") or {}
    people = []
    if payload.get("event") == "message_created" and sender.get("type") == "user":
        people.append(sender)
    if payload.get("event") == "conversation_resolved":
        people.append(assignee)
    named = ((p.get("id"), str(p.get("available_name") or p.get("name") or "")) for p in people)
    return {f"user-{i}": name.strip()[:200] for i, name in named if i is not None and name.strip()}


def map_event(
    payload: dict[str, Any], received_at: datetime
) -> tuple[list[dict[str, Any]], str | None]:
    """(SPEC records, None) or ([], why it is ignored) for one webhook body received at
    `received_at` (aware)."""
    event = payload.get("event")
    if (
        event in ("message_created", "message_updated")
        and payload.get("content_type") == "input_csat"
    ):
        return _survey(payload, received_at)
    if event == "message_created":
        conversation = payload.get("conversation") or {}
        kind, sender = payload.get("message_type"), payload.get("sender") or {}
        if payload.get("private"):
            return [], "private note"
        if kind == "incoming":
            extra = {"sender": "customer"}
        elif kind == "outgoing" and sender.get("type") == "user":
            extra = {"sender": "teammate", "teammate_id": f"user-{sender.get('id')}"}
        elif kind == "outgoing":
            extra = {"sender": "chatbot"}
        else:
            return [], f"{kind} message"
        message = {
            "event_id": f"chatwoot-message-{payload.get('id')}",
            "ts": _ts(payload.get("created_at")),
            "channel": _channel(conversation),
            "customer_id": _customer(conversation),
            "type": "message",
            **extra,
        }
        signed_in = _identify(message, conversation, sender) if kind == "incoming" else []
        return [*signed_in, message], None
    if event == "conversation_status_changed":
        previous = _previous_status(payload)
        if payload.get("status") != "open" or previous not in (None, "pending"):
            return [], f"status change to {payload.get('status')}"
        return [
            {
                "event_id": _conversation_event_id(payload, "open"),
                "ts": _status_time(payload, received_at),
                "channel": _channel(payload),
                "customer_id": _customer(payload),
                "type": "transfer_request",
            }
        ], None
    if event == "conversation_resolved":
        meta = payload.get("meta") or {}
        team, assignee = meta.get("team") or {}, meta.get("assignee") or {}
        record = {
            "event_id": _conversation_event_id(payload, "resolved"),
            "ts": _status_time(payload, received_at),
            "channel": _channel(payload),
            "customer_id": _customer(payload),
            "type": "close",
        }
        if team.get("name"):
            record["department"] = team["name"]
        if assignee.get("id") is not None:
            record["teammate_id"] = f"user-{assignee['id']}"
        return [record], None
    return [], str(event or "no event name")
