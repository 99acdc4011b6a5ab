"""Property tests of Sales Attribution (SPEC section 8): random conversations, sign-ins,
orders and refunds, sent in any arrival order, in any batches, some twice, against the
independent walk of `reference.sales`; and the section's invariants on the page."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from helpers import examples
from hypothesis import given
from hypothesis import strategies as st
from reference import sales as walk_sales
from test_properties import START, THREADS, fresh_store, ingest

from convoscope import pages
from convoscope.pages import runner, sales
from convoscope.query import Query

# How long after a conversation's event an order comes: the window's edges among them.
DELTAS = [
    timedelta(0),
    timedelta(seconds=1),
    timedelta(hours=5),
    timedelta(days=13, hours=23),
    timedelta(days=14),
    timedelta(days=14, microseconds=1),
    timedelta(days=20),
]
REFS = [None, "r1", "r2"]
AMOUNTS = ["10.00", "5.5", "0", "120.25"]


KINDS = {
    "welcome": {"type": "message", "sender": "chatbot", "welcome": True},
    "customer": {"type": "message", "sender": "customer"},
    "bot": {"type": "message", "sender": "chatbot"},
    "t1": {"type": "message", "sender": "teammate", "teammate_id": "t1"},
    "t2": {"type": "message", "sender": "teammate", "teammate_id": "t2"},
    "close": {"type": "close", "teammate_id": "t1"},
}
BETWEEN = [timedelta(hours=1), timedelta(days=2), timedelta(days=10), timedelta(days=15)]
WITHIN = [timedelta(0), timedelta(seconds=1), timedelta(minutes=4)]


@st.composite
def chats(draw) -> list[dict]:
    """Conversations on each thread: mostly engaged (a customer writes), some with a
    teammate, some with the chatbot only, apart by hours to weeks."""
    events: list[dict] = []
    for channel, customer in THREADS:
        clock = START + draw(st.sampled_from(BETWEEN))
        for _ in range(draw(st.integers(0, 3))):
            for kind in draw(st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=5)):
                clock += draw(st.sampled_from(WITHIN))
                events.append(
                    {
                        "event_id": f"e{len(events)}",
                        "ts": clock.isoformat(),
                        "channel": channel,
                        "customer_id": customer,
                        **KINDS[kind],
                    }
                )
            clock += draw(st.sampled_from(BETWEEN))
    return events


@st.composite
def shop(draw) -> list[dict]:
    """A script of conversations, then sign-ins, orders and refunds placed after its events,
    shuffled into an arrival order."""
    talk = draw(chats())
    times = [e["ts"] for e in talk] or [START.isoformat()]
    # orders come after messages (the last touches), often right at the window's edge
    touches = [e["ts"] for e in talk if e["type"] == "message"] or times
    commerce: list[dict] = []
    for n in range(draw(st.integers(0, 3))):
        channel, customer = THREADS[draw(st.sampled_from(range(len(THREADS))))]
        commerce.append(
            {"event_id": f"i{n}", "ts": draw(st.sampled_from(times)), "type": "identify",
             "channel": channel, "customer_id": customer,
             "customer_ref": draw(st.sampled_from(["r1", "r2"]))}
        )  # fmt: skip
    currencies = {}
    for n in range(draw(st.integers(1, 6))):
        base = draw(st.sampled_from(touches))
        delta = draw(st.sampled_from(DELTAS) | st.sampled_from(DELTAS[4:6]))
        ts = (datetime.fromisoformat(base) + delta).isoformat()
        currency = draw(st.sampled_from(["CAD", "EUR"]))
        event = {"event_id": f"o{n}", "ts": ts, "type": "order", "order_id": f"O{n}",
                 "amount": draw(st.sampled_from(AMOUNTS)), "currency": currency,
                 "source": draw(st.sampled_from(["chat", "website"]))}  # fmt: skip
        ref = draw(st.sampled_from(REFS))
        if ref:
            event["customer_ref"] = ref
        own = draw(st.sampled_from([None, *range(len(THREADS))]))
        if own is not None:
            event["channel"], event["customer_id"] = THREADS[own]
        if draw(st.integers(0, 9)) == 0:
            event["test"] = True
        currencies[event["order_id"]] = currency
        commerce.append(event)
    for n in range(draw(st.integers(0, 3))):
        order_id = draw(st.sampled_from([*currencies, "O9"]))
        commerce.append(
            {"event_id": f"r{n}", "ts": draw(st.sampled_from(times)), "type": "refund",
             "order_id": order_id, "amount": draw(st.sampled_from(["1.00", "7", "500.00"])),
             "currency": currencies.get(order_id, "CAD")}
        )  # fmt: skip
    return draw(st.permutations(talk + commerce))


EVERYTHING = Query.build("w", timezone="UTC", date_from="2026-11-01", date_to="2027-01-31")


def _lines(store) -> dict[str, tuple]:
    rows = runner.export(pages.EXPORTS["sales"], store, EVERYTHING)
    columns = sales.ORDER_COLUMNS
    return {
        row[1]: (
            row[columns.index("status")],
            row[columns.index("teammate_id")],
            row[columns.index("chatbot_assisted")],
            row[columns.index("channel")],
            row[columns.index("conversation_started_at")],
            Decimal(row[columns.index("refunded")]),
            Decimal(row[columns.index("net_amount")]),
        )
        for row in rows
    }


def _expected(events: list[dict]) -> dict[str, tuple]:
    walked, _ = walk_sales(events)
    return {
        order_id: (
            o["status"],
            o["teammate_id"],
            o["chatbot_assisted"] if o["status"] == "attributed" else None,
            o.get("channel"),
            o["conversation_started_at"].isoformat() + "Z" if o.get("channel") else None,
            o["refunded"],
            o["net"],
        )
        for order_id, o in walked.items()
    }


@examples(2)
@given(shop(), st.integers(min_value=1, max_value=6), st.booleans())
def test_attribution_equals_the_walk_in_any_arrival_order(events, size, retry):
    store = fresh_store()
    batches = [events[i : i + size] for i in range(0, len(events), size)]
    ingest(store, batches + (batches[:1] if retry else []))  # a retried batch: duplicates
    assert _lines(store) == _expected(events)
    result = sales.run(store, EVERYTHING)
    _, orphans = walk_sales(events)
    assert result.orders.orphan_refunds == len(orphans)
    # SPEC section 8's invariants
    counted = result.orders
    tests = {e["order_id"] for e in events if e["type"] == "order" and e.get("test")}
    orders = {e["order_id"] for e in events if e["type"] == "order"}
    assert counted.attributed + counted.not_attributed + counted.unmatched == len(orders - tests)
    for code, figures in result.currencies.items():
        split = figures.with_teammate, figures.chatbot_only
        assert sum(Decimal(s.sales) for s in split) == Decimal(figures.attributed_sales)
        assert sum(s.orders for s in split) == figures.attributed_orders
        mates = [r for r in result.by_teammate if r.currency == code]
        assert sum(Decimal(r.sales) for r in mates) + Decimal(figures.chatbot_only.sales) == (
            Decimal(figures.attributed_sales)
        )
        assert sum(r.orders for r in mates) == figures.with_teammate.orders
        typed = figures.direct, figures.indirect
        assert sum(Decimal(s.sales) for s in typed) == Decimal(figures.attributed_sales)
        for name in ("with_teammate", "chatbot_only"):
            total = sum(Decimal(v) for v in result.series[code][name])
            assert total == Decimal(getattr(figures, name).sales)
