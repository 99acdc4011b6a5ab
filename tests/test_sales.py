"""Sales Attribution (SPEC section 8), worked out by hand from small scripts: the issue's
example figure by figure, then each definition's edges (the window, the credited teammate,
late identifications and refunds, currencies, tests, filters), asked through the page, the
CSVs and the independent walk of `reference.sales`."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from helpers import Script, load, order, refund

from convoscope import pages
from convoscope.pages import runner, sales
from convoscope.query import Query, QueryError

AFTER = datetime(2026, 4, 1, tzinfo=UTC)


def march(store, *, tz: str = "UTC", now: datetime = AFTER, **filters) -> sales.SalesResult:
    query = Query.build(
        "w", timezone=tz, date_from="2026-03-01", date_to="2026-03-31", now=now, **filters
    )
    return sales.run(store, query)


def example() -> list[dict]:
    """The issue's worked example: shop customer c42 on web chat (w1) and WhatsApp."""
    x = Script("w1", "web_chat", prefix="x").identify("2026-03-01T10:00:00Z", "c42")
    x.customer_msg("2026-03-01T10:00:00Z").bot("2026-03-01T10:01:00Z")
    x.teammate("2026-03-01T10:05:00Z", "t1").customer_msg("2026-03-01T10:10:00Z")
    x.teammate("2026-03-01T10:15:00Z", "t1").customer_msg("2026-03-01T10:18:00Z")
    x.close("2026-03-01T10:20:00Z", who="t1")
    y = Script("+15550001", "whatsapp", prefix="y").identify("2026-03-05T09:00:00Z", "c42")
    y.bot("2026-03-05T09:00:00Z", welcome=True).customer_msg("2026-03-05T09:01:00Z")
    y.bot("2026-03-05T09:02:00Z").customer_msg("2026-03-05T09:05:00Z")
    return [
        *x.events,
        *y.events,
        order("o1", "2026-03-06T12:00:00Z", "O1", "120.00", customer_ref="c42", source="website"),
        refund("r1", "2026-03-08T12:00:00Z", "O1", "20.00"),
        order("o2", "2026-03-16T12:00:00Z", "O2", "80.00", customer_ref="c42"),
        order("o3", "2026-03-10T00:00:00Z", "O3", "50.00"),
    ]


def test_the_issues_example_figure_by_figure(store):
    load(store, example())
    r = march(store)
    assert r.currency == "CAD" and list(r.currencies) == ["CAD"]
    cad = r.currencies["CAD"]
    assert (cad.attributed_sales, cad.attributed_orders) == ("180.00", 2)
    assert (cad.average_order_value, cad.all_sales) == ("90.0000", "230.00")
    assert cad.share_influenced == 180 / 230
    assert (cad.with_teammate.sales, cad.with_teammate.orders) == ("100.00", 1)
    assert (cad.chatbot_only.sales, cad.chatbot_only.orders) == ("80.00", 1)
    assert (cad.chatbot_assisted.sales, cad.chatbot_assisted.orders) == ("180.00", 2)
    assert (cad.direct.sales, cad.direct.orders) == ("0", 0)
    assert (cad.indirect.sales, cad.indirect.orders) == ("180.00", 2)
    assert r.orders.model_dump() == {
        "attributed": 2,
        "not_attributed": 0,
        "unmatched": 1,
        "orphan_refunds": 0,
    }
    assert [t.model_dump() for t in r.by_teammate] == [
        {
            "teammate_id": "t1",
            "currency": "CAD",
            "orders": 1,
            "sales": "100.00",
            "average_order_value": "100.0000",
        }
    ]
    # Y's last touch (03-05 09:05) is O1's latest, but X holds the credited teammate message,
    # so X is O1's conversation: from 03-01 10:18 to 03-06 12:00
    o1 = (datetime(2026, 3, 6, 12) - datetime(2026, 3, 1, 10, 18)).total_seconds()
    o2 = (datetime(2026, 3, 16, 12) - datetime(2026, 3, 5, 9, 5)).total_seconds()
    times = r.time_to_purchase_seconds
    assert (times.count, times.mean) == (2, (o1 + o2) / 2)
    assert times.median == (o1 + o2) / 2 and times.p90 == o2 + (o1 - o2) * 0.1
    series = r.series["CAD"]
    assert series["with_teammate"][5] == "100.00" and series["chatbot_only"][15] == "80.00"
    assert sum(Decimal(v) for v in series["with_teammate"] + series["chatbot_only"]) == 180


def test_the_previous_period_is_figured_alike(store):
    # April's previous period is the 30 days before it, 03-02 to 03-31: the example's three
    # orders, attributed as in March (O1 through X, whose touch on 03-01 is within the window
    # before the previous period); April holds one order of its own, from no conversation.
    load(store, [*example(), order("o4", "2026-04-10T12:00:00Z", "O4", "40.00")])
    query = Query.build(
        "w", timezone="UTC", date_from="2026-04-01", date_to="2026-04-30",
        now=datetime(2026, 5, 1, tzinfo=UTC),
    )  # fmt: skip
    r = sales.run(store, query)
    assert (query.previous.first.isoformat(), query.previous.last.isoformat()) == (
        "2026-03-02",
        "2026-03-31",
    )
    cad = r.currencies["CAD"]
    assert (cad.attributed_sales, cad.attributed_orders, cad.all_sales) == ("0", 0, "40.00")
    assert r.orders.model_dump() == {
        "attributed": 0,
        "not_attributed": 0,
        "unmatched": 1,
        "orphan_refunds": 0,
    }
    before = cad.previous
    assert (before.attributed_sales, before.attributed_orders) == ("180.00", 2)
    assert (before.average_order_value, before.all_sales) == ("90.0000", "230.00")
    assert before.share_influenced == 180 / 230
    assert (before.with_teammate.sales, before.with_teammate.orders) == ("100.00", 1)
    assert (before.chatbot_only.sales, before.chatbot_only.orders) == ("80.00", 1)
    assert (before.chatbot_assisted.sales, before.chatbot_assisted.orders) == ("180.00", 2)
    assert (before.indirect.sales, before.indirect.orders) == ("180.00", 2)


def test_the_sales_report_has_one_line_per_order(store):
    load(store, example())
    query = Query.build("w", timezone="UTC", date_from="2026-03-01", date_to="2026-03-31")
    lines = runner.export(pages.EXPORTS["sales"], store, query)
    assert [line[:9] for line in lines] == [
        (
            "2026-03-06T12:00:00Z",
            "O1",
            "120.00",
            "20.00",
            "100.00",
            "CAD",
            "c42",
            "indirect",
            "attributed",
        ),
        (
            "2026-03-10T00:00:00Z",
            "O3",
            "50.00",
            "0.00",
            "50.00",
            "CAD",
            None,
            "indirect",
            "unmatched",
        ),
        (
            "2026-03-16T12:00:00Z",
            "O2",
            "80.00",
            "0.00",
            "80.00",
            "CAD",
            "c42",
            "indirect",
            "attributed",
        ),
    ]
    assert [line[9:] for line in lines] == [
        ("t1", True, "web_chat", "2026-03-01T10:00:00Z"),
        (None, None, None, None),
        (None, True, "whatsapp", "2026-03-05T09:00:00Z"),
    ]
    mates = runner.export(pages.EXPORTS["sales-teammates"], store, query)
    assert mates == [("t1", "CAD", 1, "100.00", "100.0000")]


def test_a_currency_that_is_not_iso_4217_is_refused():
    with pytest.raises(QueryError, match="currency"):
        Query.build("w", timezone="UTC", period="today", currency="XYZ")


def _march_lines(store, **filters) -> dict[str, tuple]:
    """Each order of March (UTC): its status, credited teammate and attributed channel."""
    query = Query.build(
        "w", timezone="UTC", date_from="2026-03-01", date_to="2026-03-31", **filters
    )
    columns = sales.ORDER_COLUMNS
    return {
        line[1]: tuple(line[columns.index(c)] for c in ("status", "teammate_id", "channel"))
        for line in runner.export(pages.EXPORTS["sales"], store, query)
    }


def _chat(customer: str, channel: str = "web_chat", *, teammate: str | None = None,
          at: str = "2026-03-02T10:00:00", ref: str | None = "c42") -> Script:  # fmt: skip
    """An engaged conversation starting at `at` (UTC): welcome, the customer, a chatbot
    answer, and a teammate's message when `teammate` is given; its last message 3 minutes on."""
    s = Script(customer, channel, prefix=f"{channel}-{customer}-{at}-")
    if ref:
        s.identify(f"{at}Z", ref)
    s.bot(f"{at}Z", welcome=True).customer_msg(f"{at[:-2]}30Z").bot(f"{at[:-5]}01:00Z")
    if teammate:
        s.teammate(f"{at[:-5]}02:00Z", teammate)
    return s.customer_msg(f"{at[:-5]}03:00Z")


def test_an_order_before_any_conversation_is_not_attributed(store):
    load(
        store,
        [*_chat("u1").events, order("o1", "2026-03-01T12:00:00Z", "O1", "10", customer_ref="c42")],
    )
    assert _march_lines(store) == {"O1": ("not_attributed", None, None)}


def test_an_order_during_a_conversation_is_credited_to_what_came_before_it(store):
    s = _chat("u1", teammate="t1")  # the teammate writes at 10:02, the last message at 10:03
    during = order("o1", "2026-03-02T10:01:30Z", "O1", "10", customer_ref="c42")
    load(store, [*s.events, during])
    # a candidate: it started before the order, and its last touch before it is 10:01:00
    # (a chatbot answer): the teammate's message came after the order
    assert _march_lines(store) == {"O1": ("attributed", None, "web_chat")}


@pytest.mark.parametrize(
    ("ts", "status"),
    [
        ("2026-03-16T10:03:00Z", "attributed"),  # 14 days exactly after the last touch
        ("2026-03-16T10:03:00.000001Z", "not_attributed"),  # and a microsecond
    ],
)
def test_the_window_is_14_days_and_equal_counts(store, ts, status):
    load(store, [*_chat("u1").events, order("o1", ts, "O1", "10", customer_ref="c42")])
    assert _march_lines(store)["O1"][0] == status


def test_a_chatbot_conversation_after_a_teammate_one_leaves_the_teammate_the_credit(store):
    first = _chat("u1", teammate="t1", at="2026-03-02T10:00:00")
    then = _chat("u1", at="2026-03-05T10:00:00", ref=None)  # the chatbot only
    load(store, [*first.events, *then.events,
                 order("o1", "2026-03-06T12:00:00Z", "O1", "10", customer_ref="c42")])  # fmt: skip
    query = Query.build("w", timezone="UTC", date_from="2026-03-01", date_to="2026-03-31")
    (line,) = runner.export(pages.EXPORTS["sales"], store, query)
    columns = sales.ORDER_COLUMNS
    assert line[columns.index("teammate_id")] == "t1"
    assert line[columns.index("conversation_started_at")] == "2026-03-02T10:00:00Z"


def test_an_identification_arriving_after_the_order_re_attributes_it(store):
    chat = _chat("u1", ref=None)
    load(store, [*chat.events, order("o1", "2026-03-03T12:00:00Z", "O1", "10", customer_ref="c42")])
    assert _march_lines(store) == {"O1": ("unmatched", None, None)}
    load(store, Script("u1").identify("2026-03-02T10:00:30Z", "c42").events)
    assert _march_lines(store) == {"O1": ("attributed", None, "web_chat")}
    # a later sign-in as someone else: the thread now belongs to c7
    load(store, Script("u1", prefix="again-").identify("2026-03-02T11:00:00Z", "c7").events)
    assert _march_lines(store) == {"O1": ("unmatched", None, None)}


def test_a_refund_larger_than_its_order_nets_zero_and_is_not_an_attributed_order(store):
    load(store, [*_chat("u1", teammate="t1").events,
                 order("o1", "2026-03-03T12:00:00Z", "O1", "30.00", customer_ref="c42"),
                 refund("r1", "2026-03-04T12:00:00Z", "O1", "45.00")])  # fmt: skip
    r = march(store)
    cad = r.currencies["CAD"]
    assert (cad.attributed_sales, cad.attributed_orders, cad.average_order_value) == (
        "0.00",
        0,
        None,
    )
    assert r.orders.attributed == 1  # counted among the orders all the same
    assert r.by_teammate[0].orders == 0 and r.by_teammate[0].sales == "0.00"


def test_two_currencies_are_never_added_and_test_orders_are_left_out(store):
    load(store, [*_chat("u1", teammate="t1").events,
                 order("o1", "2026-03-03T12:00:00Z", "O1", "30.00", customer_ref="c42"),
                 order("o2", "2026-03-03T13:00:00Z", "O2", "7.125", "EUR", customer_ref="c42"),
                 order("o3", "2026-03-03T14:00:00Z", "O3", "7.00", "EUR", customer_ref="c42"),
                 order("o4", "2026-03-03T15:00:00Z", "O4", "99", customer_ref="c42",
                       test=True)])  # fmt: skip
    r = march(store)
    assert r.currency == "EUR"  # two attributed orders in euros, one in dollars
    assert r.currencies["CAD"].attributed_sales == "30.00"
    assert r.currencies["EUR"].attributed_sales == "14.125"
    assert r.currencies["EUR"].average_order_value == "7.0625"
    assert march(store, currency="CAD").currency == "CAD"
    assert "O4" not in _march_lines(store)


def test_filters_select_attributed_orders_by_their_conversation(store):
    web = _chat("u1", teammate="t1").close("2026-03-02T10:10:00Z", "Sales", "t1")
    whatsapp = _chat("+1555", "whatsapp", at="2026-03-05T10:00:00", ref="c7")
    load(store, [*web.events, *whatsapp.events,
                 order("o1", "2026-03-06T12:00:00Z", "O1", "10", customer_ref="c42"),
                 order("o2", "2026-03-06T12:00:00Z", "O2", "20", customer_ref="c7"),
                 order("o3", "2026-03-06T12:00:00Z", "O3", "40")])  # fmt: skip
    assert set(_march_lines(store, departments="Sales")) == {"O1"}
    assert set(_march_lines(store, departments="(none)")) == {"O2"}
    assert set(_march_lines(store, channels="whatsapp")) == {"O2"}
    assert set(_march_lines(store, teammates="t1")) == {"O1"}
    assert set(_march_lines(store, teammates="t9")) == set()
    filtered = march(store, channels="whatsapp").currencies["CAD"]
    assert (filtered.attributed_sales, filtered.all_sales) == ("20", "70")  # never filtered
    assert filtered.share_influenced == 20 / 70


def test_another_zone_places_orders_in_its_own_days(store):
    load(store, [*_chat("u1").events,
                 order("o1", "2026-03-03T03:00:00Z", "O1", "10", customer_ref="c42")])  # fmt: skip
    # 03:00 UTC on the 3rd is 22:00 on the 2nd in Toronto
    day = {"date_from": "2026-03-02", "date_to": "2026-03-02"}
    toronto = sales.run(store, Query.build("w", timezone="America/Toronto", **day))
    utc = sales.run(store, Query.build("w", timezone="UTC", **day))
    assert toronto.currencies["CAD"].attributed_orders == 1
    assert utc.currencies == {} and utc.currency is None  # its 3rd, not its 2nd
    assert toronto.series["CAD"]["chatbot_only"][22] == "10"  # hourly: the 22:00 bar


def test_erasing_a_customer_unlinks_their_orders_and_erasing_a_shop_customer_removes_them(store):
    from convoscope import ingest

    chat = _chat("u1", teammate="t1")
    in_chat = order("o2", "2026-03-02T10:02:30Z", "O2", "15", channel="web_chat",
                    customer_id="u1", source="chat")  # fmt: skip
    load(store, [*chat.events, in_chat,
                 order("o1", "2026-03-03T12:00:00Z", "O1", "10", customer_ref="c42"),
                 refund("r1", "2026-03-04T12:00:00Z", "O1", "2")])  # fmt: skip
    assert _march_lines(store) == {
        "O1": ("attributed", "t1", "web_chat"),
        "O2": ("attributed", "t1", "web_chat"),
    }
    ingest.erase_customer(store, "w", "u1")
    # the chat and its sign-in are gone: O1 has no thread left, O2 kept without its thread
    assert _march_lines(store) == {"O1": ("unmatched", None, None), "O2": ("unmatched", None, None)}
    assert ingest.erase_shop_customer(store, "w", "c42") == {"identify": 0, "order": 1, "refund": 1}
    assert _march_lines(store) == {"O2": ("unmatched", None, None)}
    conversations_left = store.con.execute("SELECT count(*) FROM commerce").fetchone()
    assert conversations_left == (1,)
