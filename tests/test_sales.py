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
