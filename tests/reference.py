"""A plain-Python walk of SPEC section 2, written for the tests from the spec's text.

It is deliberately the obvious per-event loop (the product uses set-based SQL), so the
property tests can compare two independent readings of the rules.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

INACTIVITY = timedelta(minutes=10)
ESCALATED_INACTIVITY = timedelta(hours=24)
CSAT_WINDOW = timedelta(days=7)
ATTRIBUTION_WINDOW = timedelta(days=14)
COMMERCE = ("identify", "order", "refund")


def _utc(ts: str) -> datetime:
    return datetime.fromisoformat(ts).astimezone(UTC).replace(tzinfo=None)


def _cut(events: list[dict[str, Any]]) -> tuple[list[tuple[str, str, list]], list[str]]:
    """Each conversation as (channel, customer, [(ts, event), ...] in thread order), and the
    orphan close ids. Duplicated event ids keep their first arrival, as the store does."""
    seen: set[str] = set()
    threads: dict[tuple[str, str], list[tuple[datetime, int, dict[str, Any]]]] = defaultdict(list)
    for arrival, e in enumerate(events):
        if e["event_id"] in seen:
            continue
        seen.add(e["event_id"])
        if e["type"] in COMMERCE:  # rule 6: not activity (an order may have no thread)
            continue
        threads[(e["channel"], e["customer_id"])].append((_utc(e["ts"]), arrival, e))
    conversations: list[tuple[str, str, list]] = []
    orphans: list[str] = []
    for (channel, customer), items in threads.items():
        current: list[tuple[datetime, dict[str, Any]]] | None = None
        escalated = False
        last_ts: datetime | None = None
        for ts, _, e in sorted(items, key=lambda x: (x[0], x[1])):
            if e["type"] == "csat":  # rule 5: not activity
                continue
            if current is not None and last_ts is not None:
                limit = ESCALATED_INACTIVITY if escalated else INACTIVITY
                if ts - last_ts > limit:
                    conversations.append((channel, customer, current))
                    current = None
            last_ts = ts
            if e["type"] == "close":
                if current is None:
                    orphans.append(e["event_id"])
                else:
                    current.append((ts, e))
                    conversations.append((channel, customer, current))
                    current = None
                continue
            if current is None:
                current, escalated = [], False
            current.append((ts, e))
            if e["type"] == "transfer_request" or e.get("sender") == "teammate":
                escalated = True
        if current is not None:
            conversations.append((channel, customer, current))
    return conversations, orphans


def walk(events: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Conversations (as fact dicts) and orphan close ids, from events in arrival order."""
    cut, orphans = _cut(events)
    return [_facts(channel, customer, items) for channel, customer, items in cut], orphans


def waits(events: list[dict[str, Any]]) -> list[tuple]:
    """Answered response waits as (conversation_id, waited_from, answered_at, teammate_id,
    response_us): after a teammate has written, the first customer message since the last
    teammate message starts a wait, the next teammate message ends it."""
    found = []
    for _, _, items in _cut(events)[0]:
        conversation_id = items[0][1]["event_id"]
        wait, teammate_wrote = None, False
        for ts, e in items:
            sender = e.get("sender") if e["type"] == "message" else None
            if sender == "customer" and teammate_wrote and wait is None:
                wait = ts
            elif sender == "teammate":
                if wait is not None:
                    response = (ts - wait) // timedelta(microseconds=1)
                    found.append((conversation_id, wait, ts, e["teammate_id"], response))
                wait, teammate_wrote = None, True
    return sorted(found)


def surveys(events: list[dict[str, Any]]) -> dict[str, str | None]:
    """Rule 5: each survey's conversation id (None for an orphan survey), from events in
    arrival order: the thread's last conversation whose first event comes before the survey
    in thread order, when the survey is at most CSAT_WINDOW after that conversation's end."""
    first_seen: dict[str, tuple[datetime, int, dict[str, Any]]] = {}
    for arrival, e in enumerate(events):
        first_seen.setdefault(e["event_id"], (_utc(e["ts"]), arrival, e))
    conversations, _ = walk(events)
    result: dict[str, str | None] = {}
    for ts, arrival, e in first_seen.values():
        if e["type"] != "csat":
            continue
        before = [
            c
            for c in conversations
            if (c["channel"], c["customer_id"]) == (e["channel"], e["customer_id"])
            and first_seen[c["conversation_id"]][:2] < (ts, arrival)
        ]
        last = max(before, key=lambda c: first_seen[c["conversation_id"]][:2], default=None)
        result[e["event_id"]] = (
            last["conversation_id"] if last and ts - last["ended_at"] <= CSAT_WINDOW else None
        )
    return result


def _facts(channel: str, customer: str, items: list[tuple[datetime, dict[str, Any]]]) -> dict:
    started, ended = items[0][0], items[-1][0]
    welcome_at = next((i for i, (_, e) in enumerate(items) if e.get("welcome")), -1)
    engaged = any(e.get("sender") == "customer" for _, e in items[welcome_at + 1 :])
    escalated_at = next(
        (ts for ts, e in items if e["type"] == "transfer_request" or e.get("sender") == "teammate"),
        None,
    )
    close = items[-1][1] if items[-1][1]["type"] == "close" else None
    closed_at = items[-1][0] if close else None
    senders = [e.get("sender") for _, e in items]
    first_response = next((ts for ts, e in items if e.get("sender") == "teammate"), None)
    return {
        "channel": channel,
        "customer_id": customer,
        "conversation_id": items[0][1]["event_id"],
        "started_at": started,
        "ended_at": ended,
        "duration_us": (ended - started) // timedelta(microseconds=1),
        "engaged": engaged,
        "escalated_at": escalated_at,
        "transfer_requests": sum(e["type"] == "transfer_request" for _, e in items),
        "support_type": "teammate" if "teammate" in senders else "chatbot",
        "closed_at": closed_at,
        "department": close.get("department") if close else None,
        "closed_by": close.get("teammate_id") if close else None,
        "first_response_at": first_response,
        "resolution_us": None
        if closed_at is None
        else (closed_at - (escalated_at or started)) // timedelta(microseconds=1),
        "customer_messages": senders.count("customer"),
        "chatbot_messages": senders.count("chatbot"),
        "teammate_messages": senders.count("teammate"),
        "teammates": sorted({e["teammate_id"] for _, e in items if e.get("teammate_id")}),
        **_response_facts(items, first_response),
        **_bot_facts(items, engaged),
    }


def _escalates(e: dict[str, Any]) -> bool:
    return e["type"] == "transfer_request" or e.get("sender") == "teammate"


def bot_phase(items: list[tuple[datetime, dict[str, Any]]]) -> list[tuple[datetime, dict]]:
    """SPEC section 7: a conversation's events before its escalating event."""
    escalation = next((i for i, (_, e) in enumerate(items) if _escalates(e)), len(items))
    return items[:escalation]


def _bot_facts(items: list[tuple[datetime, dict[str, Any]]], engaged: bool) -> dict:
    phase = bot_phase(items)
    bot = [e for _, e in phase if e.get("sender") == "chatbot"]
    flowing = [e["flow"] for e in bot if e.get("flow")]
    completed = {e["flow"] for e in bot if e.get("flow") and e.get("flow_end")}
    escalated = len(phase) < len(items)
    bot_end = items[len(phase)][0] if escalated else items[-1][0]
    last_flow = flowing[-1] if flowing else None
    if not bot:
        outcome = None
    elif escalated:
        outcome = "transferred"
    elif not engaged:
        outcome = "not_engaged"
    elif last_flow is not None and last_flow not in completed:
        outcome = "abandoned_in_flow"
    else:
        outcome = "automated"
    return {
        "bot_involved": bool(bot),
        "bot_messages": len(bot),
        "bot_fallbacks": sum(bool(e.get("fallback")) for e in bot),
        "bot_duration_us": (bot_end - items[0][0]) // timedelta(microseconds=1),
        "flows_entered": len(set(flowing)),
        "first_flow": flowing[0] if flowing else None,
        "first_flow_sent_type": next(
            (
                e["flow_type"]
                for e in bot
                if flowing and e.get("flow") == flowing[0] and e.get("flow_type")
            ),
            None,
        ),
        "last_flow": last_flow,
        "bot_outcome": outcome,
    }


def flows(events: list[dict[str, Any]]) -> list[tuple]:
    """Each flow entered in a conversation's chatbot phase, as (conversation_id, flow,
    sent_type, completed, first_at, last_at, last_step, fallbacks), sorted."""
    found = []
    for _, _, items in _cut(events)[0]:
        by_flow: dict[str, list[tuple[datetime, dict[str, Any]]]] = {}
        for ts, e in bot_phase(items):
            if e.get("sender") == "chatbot" and e.get("flow"):
                by_flow.setdefault(e["flow"], []).append((ts, e))
        for flow, messages in by_flow.items():
            typed = [e["flow_type"] for _, e in messages if e.get("flow_type")]
            found.append(
                (
                    items[0][1]["event_id"],
                    flow,
                    typed[0] if typed else None,
                    any(e.get("flow_end") for _, e in messages),
                    messages[0][0],
                    messages[-1][0],
                    messages[-1][1].get("step"),
                    sum(bool(e.get("fallback")) for _, e in messages),
                )
            )
    return sorted(found)


def about(survey: dict[str, Any], conversation: dict[str, Any]) -> str:
    """What a survey of a conversation rates (SPEC section 7)."""
    given = survey.get("about")
    if given:
        return str(given)
    return "teammate" if conversation["teammate_messages"] else "chatbot"


def _response_facts(items: list[tuple[datetime, dict[str, Any]]], first_response: Any) -> dict:
    """first_responder, initial_response_from (a transfer request before the first teammate
    message, else the first customer message before it) and initial_response_us."""
    first = next((i for i, (_, e) in enumerate(items) if e.get("sender") == "teammate"), None)
    before = items if first is None else items[:first]
    transfer = next((ts for ts, e in before if e["type"] == "transfer_request"), None)
    customer = next((ts for ts, e in before if e.get("sender") == "customer"), None)
    started = transfer or customer
    last = max((i for i, (_, e) in enumerate(items) if e.get("sender") == "teammate"), default=None)
    escalation = next(
        (e for _, e in items if e["type"] == "transfer_request" or e.get("sender") == "teammate"),
        None,
    )
    return {
        "first_responder": None if first is None else items[first][1]["teammate_id"],
        "last_responder": None if last is None else items[last][1]["teammate_id"],
        "transferred": escalation is not None and escalation["type"] == "transfer_request",
        "initial_response_from": started,
        "initial_response_us": None
        if started is None or first_response is None
        else (first_response - started) // timedelta(microseconds=1),
    }


def percentile(values: list[int], q: float) -> float:
    """Linear interpolation between closest ranks (numpy.percentile's default)."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _durations(values: list[int]) -> dict[str, Any]:
    if not values:
        return {"mean": None, "median": None, "p90": None, "count": 0}
    return {
        "mean": round(sum(values) / len(values) / 1e6, 6),
        "median": round(percentile(values, 0.5) / 1e6, 6),
        "p90": round(percentile(values, 0.9) / 1e6, 6),
        "count": len(values),
    }


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
QUARTER = timedelta(minutes=15)


def business_us(
    start: datetime, end: datetime, hours: dict[str, list[list[str]]] | None, timezone: str
) -> int:
    """Microseconds of [start, end) (naive UTC) whose local wall-clock time lies in a span,
    walked a UTC quarter-hour at a time. Only for spans on quarter hours in zones whose offsets
    are whole quarter hours: then each quarter is wholly inside or outside the hours."""
    if hours is None or not any(hours.values()):
        return (end - start) // timedelta(microseconds=1)
    zone, total = ZoneInfo(timezone), timedelta(0)
    chunk = start.replace(minute=start.minute // 15 * 15, second=0, microsecond=0)
    while chunk < end:
        local = chunk.replace(tzinfo=UTC).astimezone(zone)
        clock = local.strftime("%H:%M")
        if any(a <= clock < b for a, b in hours.get(WEEKDAYS[local.weekday()], [])):
            total += min(end, chunk + QUARTER) - max(start, chunk)
        chunk += QUARTER
    return total // timedelta(microseconds=1)


def team_tiles(
    events: list[dict[str, Any]],
    start: datetime,
    end: datetime,
    *,
    departments: set[str | None] | None = None,
    teammates: set[str] | None = None,
    hours: dict[str, list[list[str]]] | None = None,
    timezone: str = "America/Toronto",
) -> dict[str, Any]:
    """SPEC section 5's tiles over [start, end) (naive UTC), walked from the events: each
    element's items, attributed and anchored as the spec's table says."""
    cut, _ = _cut(events)
    facts = {c["conversation_id"]: c for c in walk(events)[0]}
    kept = {
        cid for cid, c in facts.items() if departments is None or c["department"] in departments
    }

    def inside(ts: datetime) -> bool:
        return start <= ts < end

    def chosen(teammate: str | None) -> bool:
        return teammates is None or teammate in teammates

    initial = [
        c["initial_response_us"]
        for cid, c in facts.items()
        if cid in kept
        and c["initial_response_us"] is not None
        and inside(c["first_response_at"])
        and chosen(c["first_responder"])
    ]
    response = [w[4] for w in waits(events) if w[0] in kept and inside(w[2]) and chosen(w[3])]
    closed = [
        c
        for cid, c in facts.items()
        if cid in kept
        and c["escalated_at"] is not None
        and c["closed_at"] is not None
        and inside(c["closed_at"])
        and chosen(c["closed_by"])
    ]
    first_seen: dict[str, dict[str, Any]] = {}
    for e in events:
        first_seen.setdefault(e["event_id"], e)
    scores = []
    for event_id, cid in surveys(events).items():
        e = first_seen[event_id]
        if cid is None or cid not in kept or not inside(_utc(e["ts"])):
            continue
        c = facts[cid]
        if about(e, c) == "teammate" and chosen(c["closed_by"] or c["last_responder"]):
            scores.append(e["score"])
    addressed = {
        items[0][1]["event_id"]
        for _, _, items in cut
        for ts, e in items
        if e.get("sender") == "teammate"
        and inside(ts)
        and chosen(e["teammate_id"])
        and items[0][1]["event_id"] in kept
    }
    transfers = [
        c
        for cid, c in facts.items()
        if cid in kept
        and c["transferred"]
        and inside(c["escalated_at"])
        and (teammates is None or set(c["teammates"]) & teammates)
    ]
    resolutions = [c["resolution_us"] for c in closed]
    return {
        "initial_response_seconds": _durations(initial),
        "response_seconds": _durations(response),
        "resolution_seconds": _durations(resolutions),
        "resolution_business_seconds": _durations(
            [business_us(c["escalated_at"], c["closed_at"], hours, timezone) for c in closed]
        ),
        "csat": {
            "mean": round(sum(scores) / len(scores), 6) if scores else None,
            "count": len(scores),
        },
        "successful_transfers": len(transfers),
        "addressed_conversations": len(addressed),
        "closed_conversations": len(closed),
    }


NO_FLOW = "(none)"


def chatbot_tiles(
    events: list[dict[str, Any]],
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    catalogue: dict[str, str] | None = None,
    departments: set[str | None] | None = None,
    flows_chosen: set[str] | None = None,
    types_chosen: set[str] | None = None,
) -> dict[str, Any]:
    """SPEC section 7's tiles over [start, end) (naive UTC) at the time `now`, walked from the
    events, with the first flow types of D."""
    catalogue = catalogue or {}
    facts = {c["conversation_id"]: c for c in walk(events)[0]}
    entered: dict[str, dict[str, tuple]] = defaultdict(dict)
    for f in flows(events):
        entered[f[0]][f[1]] = f

    def type_of(cid: str, flow: str) -> str:
        return catalogue.get(flow) or entered[cid][flow][2] or "other"

    def chosen(cid: str) -> bool:
        c, mine = facts[cid], entered.get(cid, {})
        if departments is not None and c["department"] not in departments:
            return False
        if flows_chosen is not None and not (
            (NO_FLOW in flows_chosen and not mine) or set(mine) & flows_chosen
        ):
            return False
        return types_chosen is None or bool(
            (NO_FLOW in types_chosen and not mine) or {type_of(cid, f) for f in mine} & types_chosen
        )

    def outcome(c: dict[str, Any]) -> str:
        going = c["closed_at"] is None and now - c["ended_at"] <= INACTIVITY
        return "in_progress" if c["bot_outcome"] != "transferred" and going else c["bot_outcome"]

    bot = [
        c
        for cid, c in facts.items()
        if c["bot_involved"] and start <= c["started_at"] < end and chosen(cid)
    ]
    outcomes = [outcome(c) for c in bot]
    handled = [
        c for c, o in zip(bot, outcomes, strict=True) if o != "in_progress" and o != "not_engaged"
    ]
    count = {o: outcomes.count(o) for o in ("automated", "abandoned_in_flow", "transferred")}
    d = len(handled)
    messages = fallbacks = 0
    for _, _, items in _cut(events)[0]:
        if not chosen(items[0][1]["event_id"]):
            continue
        for ts, e in bot_phase(items):
            if e.get("sender") == "chatbot" and start <= ts < end:
                messages += 1
                fallbacks += bool(e.get("fallback"))
    first_seen: dict[str, dict[str, Any]] = {}
    for e in events:
        first_seen.setdefault(e["event_id"], e)
    scores = [
        first_seen[sid]["score"]
        for sid, cid in surveys(events).items()
        if cid is not None
        and chosen(cid)
        and start <= _utc(first_seen[sid]["ts"]) < end
        and about(first_seen[sid], facts[cid]) == "chatbot"
    ]
    requested = sum(1 for c in handled if outcome(c) == "transferred" and c["transferred"])
    first_types: dict[str, int] = defaultdict(int)
    for c in handled:
        cid = c["conversation_id"]
        first_types["none" if c["first_flow"] is None else type_of(cid, c["first_flow"])] += 1
    return {
        "bot_conversations": len(bot),
        "handled": d,
        **count,
        "transferred_requested": requested,
        "transferred_teammate_joined": count["transferred"] - requested,
        "not_engaged": outcomes.count("not_engaged"),
        "in_progress": outcomes.count("in_progress"),
        "automation_rate": count["automated"] / d if d else None,
        "transfer_rate": count["transferred"] / d if d else None,
        "abandoned_rate": count["abandoned_in_flow"] / d if d else None,
        "containment": (count["automated"] + count["abandoned_in_flow"]) / d if d else None,
        "chatbot_messages": messages,
        "fallback_messages": fallbacks,
        "fallback_rate": fallbacks / messages if messages else None,
        "time_with_chatbot_seconds": _durations([c["bot_duration_us"] for c in handled]),
        "csat": {
            "mean": round(sum(scores) / len(scores), 6) if scores else None,
            "count": len(scores),
        },
        "first_flow_type": dict(first_types),
    }


def sales(
    events: list[dict[str, Any]], window: timedelta = ATTRIBUTION_WINDOW
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """SPEC section 8, order by order: each order's (not a test) attribution by its id, and
    the ids of the refunds whose order is unknown (or in another currency), from events in
    arrival order. Money as `Decimal`."""
    first: dict[str, tuple[datetime, int, dict[str, Any]]] = {}
    for arrival, e in enumerate(events):
        first.setdefault(e["event_id"], (_utc(e["ts"]), arrival, e))
    kept = sorted(first.values(), key=lambda x: (x[0], x[1]))
    shop_customer: dict[tuple[str, str], str] = {}
    for _, _, e in kept:  # thread order: the latest identification wins
        if e["type"] == "identify":
            shop_customer[(e["channel"], e["customer_id"])] = e["customer_ref"]
    orders: dict[str, tuple[datetime, dict[str, Any]]] = {}
    for ts, _, e in sorted(first.values(), key=lambda x: x[1]):
        if e["type"] == "order":
            orders.setdefault(e["order_id"], (ts, e))
    refunded: dict[str, Decimal] = defaultdict(Decimal)
    orphan_refunds = []
    for _, _, e in kept:
        if e["type"] != "refund":
            continue
        order = orders.get(e["order_id"])
        if order is None or order[1]["currency"] != e["currency"]:
            orphan_refunds.append(e["event_id"])
        else:
            refunded[e["order_id"]] += Decimal(e["amount"])
    conversations = [
        (_facts(channel, customer, items), items) for channel, customer, items in _cut(events)[0]
    ]
    result = {}
    for order_id, (ts, o) in orders.items():
        if o.get("test"):
            continue
        threads = {(c, k) for (c, k), ref in shop_customer.items() if ref == o.get("customer_ref")}
        if o.get("channel"):
            threads.add((o["channel"], o["customer_id"]))
        amount = Decimal(o["amount"])
        out: dict[str, Any] = {
            "ts": ts,
            "amount": amount,
            "refunded": refunded.get(order_id, Decimal(0)),
            "net": max(Decimal(0), amount - refunded.get(order_id, Decimal(0))),
            "currency": o["currency"],
            "sale_type": "direct" if o.get("source") == "chat" else "indirect",
            "status": "unmatched" if not threads else "not_attributed",
            "teammate_id": None,
            "conversation_id": None,
            "chatbot_assisted": False,
            "last_touch": None,
        }
        candidates = []
        for facts, items in conversations:
            if (facts["channel"], facts["customer_id"]) not in threads or not facts["engaged"]:
                continue
            touches = [(t, e) for t, e in items if e["type"] == "message" and t <= ts]
            if touches and facts["started_at"] <= ts and ts - touches[-1][0] <= window:
                candidates.append((facts, touches))
        if candidates:
            teammate = max(
                (
                    (t, e["event_id"], e["teammate_id"], facts["conversation_id"])
                    for facts, touches in candidates
                    for t, e in touches
                    if e.get("sender") == "teammate"
                ),
                default=None,
            )
            latest = min(
                candidates,
                key=lambda c: (
                    -c[1][-1][0].timestamp(),
                    -c[0]["started_at"].timestamp(),
                    c[0]["channel"],
                    c[0]["customer_id"],
                ),
            )
            chosen = (
                latest[0]
                if teammate is None
                else next(f for f, _ in candidates if f["conversation_id"] == teammate[3])
            )
            touches = next(t for f, t in candidates if f is chosen)
            out |= {
                "status": "attributed",
                "teammate_id": teammate[2] if teammate else None,
                "conversation_id": chosen["conversation_id"],
                "channel": chosen["channel"],
                "department": chosen["department"],
                "conversation_started_at": chosen["started_at"],
                "last_touch": touches[-1][0],
                "chatbot_assisted": any(
                    e.get("sender") == "chatbot" and not e.get("welcome")
                    for _, t in candidates
                    for _, e in t
                ),
            }
        result[order_id] = out
    return result, orphan_refunds
