"""A realistic retailer's history, for demos and benchmarks; deterministic for a seed and end date.

What it models, so the page has something true-looking to show: five channels with their
own shares (email has no chatbot and goes straight to teammates), a daily curve with a lunch
and an evening peak, quieter weekends and slow growth; a chatbot welcome on every chat, about
a third of chats never answered by the customer, a few customers who write before the
welcome; transfer requests on a third of engaged chats, teammates who answer after minutes
to hours (some never, each teammate at their own pace) and close with a department (some
without); satisfaction surveys on a third of closed conversations, scores plausible per
teammate; the demo shop's business hours (Mon-Fri 9-17, Sat 10-14); returning customers; and,
in arrival order, a few events delivered late and a few delivered twice. It yields plain SPEC
records, which go through the same validation as every other way in.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

CHANNELS = (("web_chat", 38), ("messenger", 20), ("instagram", 14), ("whatsapp", 18), ("email", 10))
# Share of the day's conversations starting in each local hour (0h..23h).
HOURS = (1, 1, 0.5, 0.5, 0.5, 1, 2, 4, 7, 9, 10, 10, 11, 10, 9, 9, 8, 8, 8, 9, 9, 7, 4, 2)
WEEKDAYS = (1.0, 1.0, 0.97, 1.03, 1.1, 0.8, 0.62)  # Monday .. Sunday
DEPARTMENTS = (("Orders", 34), ("Returns", 24), ("Sales", 20), ("Technical support", 15), (None, 7))
TEAMMATES = (
    "amelie",
    "benoit",
    "chloe",
    "david",
    "emma",
    "felix",
    "gabrielle",
    "hugo",
    "ines",
    "jules",
    "karim",
    "lea",
)


# Teammates differ: how fast they answer (a factor on the wait) and how satisfied their
# customers are (the mean of their survey scores), so that Team Performance tells a story.
SPEED = {name: 0.55 + 0.12 * (i % 7) for i, name in enumerate(TEAMMATES)}
SATISFACTION = {name: 4.6 - 0.15 * (i % 6) for i, name in enumerate(TEAMMATES)}
SURVEY_SHARE = 0.33  # of closed conversations, answered within hours of the close
BUSINESS_HOURS = {
    **{day: [["09:00", "17:00"]] for day in ("monday", "tuesday", "wednesday", "thursday")},
    "friday": [["09:00", "17:00"]],
    "saturday": [["10:00", "14:00"]],
}


# The chatbot's flows: name, type, steps (the last one ends the flow), weight, and the share
# of customers who still ask for a teammate after the flow ends.
FLOWS = (
    ("order_tracking", "support", ("ask_order_number", "check_status", "show_status"), 30, 0.2),
    ("store_information", "support", ("ask_store", "show_hours"), 12, 0.05),
    ("product_search", "sales", ("ask_category", "ask_size", "show_products"), 22, 0.3),
    ("recommendations", "sales", ("ask_occasion", "show_picks"), 10, 0.15),
    ("holiday_campaign", "campaign", ("show_offer", "ask_interest"), 6, 0.1),
    ("talk_to_teammate", "transfer", ("ask_topic", "hand_over"), 20, 1.0),
)
FALLBACK_SHARE = 0.06  # chatbot messages that did not understand the customer
DROP_OFF = {"ask_order_number": 0.12, "ask_size": 0.14, "ask_category": 0.06, "ask_topic": 0.04}
BOT_SURVEY_SHARE = 0.15  # of conversations the chatbot finished alone
BOT_SCORES = ((5, 38), (4, 30), (3, 14), (2, 9), (1, 9))
SMALL_TALK = 0.08  # chats where the chatbot names no flow
TEAMMATE_JOINS = 0.1  # escalations by a teammate joining rather than a transfer request


# The shop: shares of engaged chats whose shopper signs in, of signed-in chats followed by an
# order, of those bought inside the chat; guest orders per conversation; the currencies.
SIGN_IN = 0.45
BUYS = 0.4
IN_CHAT = 0.2
WALK_INS = 0.12
CURRENCIES = (("CAD", 85), ("USD", 15))
SOURCES = (("website", 80), ("store", 12), ("other", 8))
REFUNDS = 0.07
TEST_ORDERS = 0.01
REFUND_BEFORE_ORDER = 0.05  # of refunds: their order is delivered after them


class _Weighted:
    """Values drawn by weight, the cumulative weights summed once rather than at every draw
    (the same draws as `rng.choices(values, weights)[0]`: this is what it sums them into)."""

    def __init__(self, weighted: Iterable[tuple[Any, float]]):
        self.values, weights = zip(*weighted, strict=True)
        self.cum_weights = list(itertools.accumulate(weights))

    def pick(self, rng: random.Random) -> Any:
        return rng.choices(self.values, cum_weights=self.cum_weights)[0]


_CHANNEL, _DEPARTMENT, _BOT_SCORE, _CURRENCY, _SOURCE = map(
    _Weighted, (CHANNELS, DEPARTMENTS, BOT_SCORES, CURRENCIES, SOURCES)
)
_HOUR = _Weighted(zip(range(24), HOURS, strict=True))
_FLOW = _Weighted((flow, flow[3]) for flow in FLOWS)


class _Conversation:
    """Builds one conversation's events, advancing its own clock."""

    def __init__(self, out: list[dict[str, Any]], channel: str, customer: str, start: datetime):
        self.out, self.channel, self.customer, self.t = out, channel, customer, start
        self.engaged = False

    def add(self, after_s: float, type_: str, **fields: Any) -> None:
        self.t += timedelta(seconds=after_s)
        self.out.append(
            {
                "ts": self.t,
                "channel": self.channel,
                "customer_id": self.customer,
                "type": type_,
                **fields,
            }
        )


def _conversation(rng: random.Random, conv: _Conversation) -> None:
    chat = conv.channel != "email"
    teammate = rng.choice(TEAMMATES)
    if chat:
        if rng.random() < 0.06:
            conv.add(0, "message", sender="customer")
        conv.add(1, "message", sender="chatbot", welcome=True)
        if rng.random() < 0.33:
            return  # the customer never answers the welcome
        conv.engaged = True
        if not _flow(rng, conv):
            return  # the chatbot finished alone, or the customer gave up
        if rng.random() < TEAMMATE_JOINS:  # a teammate watching the chat joins unasked
            wait = rng.uniform(20, 120)
        else:
            conv.add(rng.uniform(5, 60), "transfer_request")
            if rng.random() < 0.1:
                conv.add(rng.uniform(60, 600), "transfer_request")
            if rng.random() < 0.12:
                return  # nobody answered: ends unclosed after the escalated timeout
            wait = min(rng.lognormvariate(5.5, 1.1), 3 * 3600)
    else:  # an email goes straight to the teammates' inbox: recorded as a transfer request
        conv.add(0, "message", sender="customer")
        conv.add(0, "transfer_request")
        wait = min(rng.lognormvariate(7.5, 1.0), 8 * 3600)
    conv.add(wait * SPEED[teammate], "message", sender="teammate", teammate_id=teammate)
    for _ in range(rng.randint(0, 3)):
        conv.add(rng.uniform(20, 400), "message", sender="customer")
        if rng.random() < 0.08:
            teammate = rng.choice(TEAMMATES)  # handed over to a colleague
        conv.add(rng.uniform(30, 300), "message", sender="teammate", teammate_id=teammate)
    if rng.random() < 0.86:
        department = _DEPARTMENT.pick(rng)
        extra = {"department": department} if department else {}
        conv.add(rng.uniform(30, 900), "close", teammate_id=teammate, **extra)
        if rng.random() < SURVEY_SHARE:
            score = min(5, max(1, round(rng.gauss(SATISFACTION[teammate], 0.9))))
            conv.add(rng.uniform(60, 6 * 3600), "csat", score=score)


def _flow(rng: random.Random, conv: _Conversation) -> bool:
    """The customer's way through one chatbot flow; whether they then want a teammate."""
    if rng.random() < SMALL_TALK:  # the chatbot answers outside any flow
        conv.add(rng.uniform(8, 240), "message", sender="customer")
        conv.add(rng.uniform(1, 4), "message", sender="chatbot")
        return rng.random() < 0.4
    name, kind, steps, _, transfers = _FLOW.pick(rng)
    for i, step in enumerate(steps):
        conv.add(rng.uniform(8, 240), "message", sender="customer")
        fields: dict[str, Any] = {"flow": name, "step": step}
        if i == 0:
            fields["flow_type"] = kind
        if rng.random() < FALLBACK_SHARE:  # misunderstood: asks again
            conv.add(rng.uniform(1, 4), "message", sender="chatbot", fallback=True, **fields)
            conv.add(rng.uniform(8, 120), "message", sender="customer")
            fields.pop("flow_type", None)
        if i == len(steps) - 1:
            fields["flow_end"] = True
        conv.add(rng.uniform(1, 4), "message", sender="chatbot", **fields)
        if rng.random() < DROP_OFF.get(step, 0.02) and i < len(steps) - 1:
            return False  # gave up at this step
    if rng.random() < transfers:
        return True
    if rng.random() < BOT_SURVEY_SHARE:
        conv.add(rng.uniform(30, 600), "csat", score=_BOT_SCORE.pick(rng), about="chatbot")
    return False


class _Shop:
    """The shop's commerce events, each held until the day its time falls in."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed * 7919 + 1)
        self.held: list[dict[str, Any]] = []
        self.orders = 0

    def after(self, conv: _Conversation, start: datetime) -> None:
        """What a chat leads to: a sign-in, and perhaps an order and a refund."""
        rng = self.rng
        if conv.channel == "email" or not conv.engaged or rng.random() >= SIGN_IN:
            return
        shopper = "shopper-" + conv.customer.removeprefix("cust-")
        thread = {"channel": conv.channel, "customer_id": conv.customer}
        self.held.append(
            {"ts": start + timedelta(seconds=30), "type": "identify", "customer_ref": shopper}
            | thread
        )
        if rng.random() >= BUYS:
            return
        if rng.random() < IN_CHAT:
            self.order(conv.t + timedelta(seconds=rng.uniform(30, 300)), shopper, "chat", thread)
        else:
            later = timedelta(hours=min(rng.lognormvariate(3.5, 1.4), 21 * 24))
            self.order(conv.t + later, shopper, _SOURCE.pick(rng), {})

    def walk_in(self, moment: datetime, customers: int) -> None:
        """An order from a shopper who did not chat (some never will), or a guest."""
        rng = self.rng
        if rng.random() < 0.5:
            self.order(moment, None, _SOURCE.pick(rng), {})
        else:
            shopper = f"shopper-{rng.randrange(customers):07d}"
            self.order(moment, shopper, _SOURCE.pick(rng), {})

    def order(
        self, moment: datetime, shopper: str | None, source: str, thread: dict[str, str]
    ) -> None:
        rng = self.rng
        self.orders += 1
        order_id = f"#{100000 + self.orders}"
        amount = Decimal(str(round(min(rng.lognormvariate(4.3, 0.7), 2000), 2))).quantize(
            Decimal("0.01")
        )
        currency = _CURRENCY.pick(rng)
        order = {"ts": moment, "type": "order", "order_id": order_id, "amount": str(amount)}
        order |= {"currency": currency, "source": source, **thread}
        if shopper:
            order["customer_ref"] = shopper
        if rng.random() < TEST_ORDERS:
            order["test"] = True
        self.held.append(order)
        if rng.random() < REFUNDS:
            part = amount if rng.random() < 0.6 else (amount * Decimal("0.3")).quantize(amount)
            refund = {"ts": moment + timedelta(days=rng.uniform(1, 10)), "type": "refund"}
            self.held.append(
                refund | {"order_id": order_id, "amount": str(part), "currency": currency}
            )
            if rng.random() < REFUND_BEFORE_ORDER:
                order["ts"], order["deliver_after"] = moment, refund["ts"]

    def due(self, before: datetime) -> list[dict[str, Any]]:
        """The held events of times before `before`, in time order (an order whose refund
        came first: at its refund's time)."""
        due = [e for e in self.held if e.get("deliver_after", e["ts"]) < before]
        self.held = [e for e in self.held if e.get("deliver_after", e["ts"]) >= before]
        return sorted(due, key=lambda e: e.get("deliver_after", e["ts"]))


def generate(
    *,
    days: int = 60,
    per_day: int = 400,
    seed: int = 7,
    end: date | None = None,
    timezone: str = "America/Toronto",
    commerce: bool = True,
) -> Iterator[dict[str, Any]]:
    """SPEC records for `days` local days ending `end` (default today), in arrival order;
    without the shop's sales when `commerce` is false.

    When `end` is today, nothing is dated after the current time.
    """
    rng = random.Random(seed)
    zone = ZoneInfo(timezone)
    now = datetime.now(UTC)
    end = end or now.astimezone(zone).date()
    first = end - timedelta(days=days - 1)
    customers = max(50, int(per_day * days * 0.7))
    serial = 0
    late: list[dict[str, Any]] = []
    shop = _Shop(seed)
    for offset in range(days):
        day = first + timedelta(days=offset)
        midnight = datetime.combine(day, time(), tzinfo=zone)
        trend = 0.85 + 0.3 * offset / max(days - 1, 1)
        count = max(0, round(rng.gauss(per_day * WEEKDAYS[day.weekday()] * trend, per_day * 0.05)))
        events: list[dict[str, Any]] = []
        for _ in range(count):
            hour = _HOUR.pick(rng)
            local = midnight + timedelta(hours=hour, seconds=rng.uniform(0, 3600))
            start = local.astimezone(UTC)
            customer = f"cust-{rng.randrange(customers):07d}"
            conv = _Conversation(events, _CHANNEL.pick(rng), customer, start)
            _conversation(rng, conv)
            if commerce:
                shop.after(conv, start)
                if shop.rng.random() < WALK_INS:
                    shop.walk_in(start + timedelta(minutes=shop.rng.uniform(0, 600)), customers)
        events.sort(key=lambda e: e["ts"])
        if commerce:  # the day's sales, after its conversations (ties: conversations first)
            tomorrow = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
            events = sorted(
                events + shop.due(tomorrow), key=lambda e: e.get("deliver_after", e["ts"])
            )
        batch, late = late, []
        for event in events:
            if event.get("deliver_after", event["ts"]) > now:
                break
            event.pop("deliver_after", None)
            serial += 1
            event["event_id"] = f"demo-{serial:09d}"
            event["ts"] = event["ts"].isoformat()
            roll = rng.random()
            if roll < 0.004:
                late.append(event)  # delivered with the next day's traffic
                continue
            batch.append(event)
            if roll > 0.998:
                late.append(dict(event))  # delivered twice
        yield from batch
    yield from late
