"""SPEC section 4 on one hand-worked scenario: every tile, chart, split and the CSV.

The workspace is in America/Toronto (UTC-5 in these November days). Expected values are
worked out in the comments from the events, not from the code.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from helpers import Script, load

from convoscope import exports, pages
from convoscope.pages import overview, runner
from convoscope.query import Query


def loc(day: int, hh: int, mm: int, ss: int = 0) -> str:
    return f"2026-11-{day:02d}T{hh:02d}:{mm:02d}:{ss:02d}-05:00"


def scenario() -> list[dict]:
    # A1 (web_chat, ann), 10th: engaged, teammate, 600 s, closed Returns by t1 at 10:10,
    # resolution 10:10 - 10:02 = 480 s.
    a = (
        Script("ann", "web_chat")
        .welcome(loc(10, 10, 0))
        .customer_msg(loc(10, 10, 1))
        .bot(loc(10, 10, 1, 30))
        .transfer(loc(10, 10, 2))
        .teammate(loc(10, 10, 5), "t1")
        .customer_msg(loc(10, 10, 6))
        .close(loc(10, 10, 10), "Returns", "t1")
    )
    # B1 (whatsapp, bob), 10th 11:00: welcome only, not engaged, 0 s.
    # B2: 13:00 customer then bot (no welcome): engaged, chatbot, 30 s.
    b = (
        Script("bob", "whatsapp")
        .welcome(loc(10, 11, 0))
        .customer_msg(loc(10, 13, 0))
        .bot(loc(10, 13, 0, 30))
    )
    # C1 (messenger, ann) from 23:50 on the 10th to 00:40 on the 11th: engaged (customer at
    # 23:51 after the welcome), teammate, 3000 s, closed on the 11th without department by
    # t2, resolution 00:40 - 23:52 = 2880 s.
    c = (
        Script("ann", "messenger")
        .customer_msg(loc(10, 23, 50))
        .welcome(loc(10, 23, 50, 10))
        .customer_msg(loc(10, 23, 51))
        .transfer(loc(10, 23, 52))
        .teammate(loc(11, 0, 30), "t2")
        .close(loc(11, 0, 40), who="t2")
    )
    # D1 (web_chat, dan), 11th: escalated, never answered, closed 27 min later by t3 (Sales):
    # engaged, chatbot support, 1800 s, resolution 09:30 - 09:02 = 1680 s.
    d = (
        Script("dan", "web_chat")
        .welcome(loc(11, 9, 0))
        .customer_msg(loc(11, 9, 1))
        .transfer(loc(11, 9, 2))
        .customer_msg(loc(11, 9, 3))
        .close(loc(11, 9, 30), "Sales", "t3")
    )
    # E (email, eve), 11th: an orphan close at 12:00, then E1 12:05-12:31: engaged (no
    # welcome), teammate, 1560 s, closed Returns by t1, resolution 12:31 - 12:05 = 1560 s.
    e = (
        Script("eve", "email")
        .close(loc(11, 12, 0))
        .customer_msg(loc(11, 12, 5))
        .transfer(loc(11, 12, 5))
        .teammate(loc(11, 12, 30), "t1")
        .close(loc(11, 12, 31), "Returns", "t1")
    )
    # Previous period (8th-9th): F engaged chatbot 60 s; G welcome only.
    f = Script("fay", "web_chat").welcome(loc(9, 10, 0)).customer_msg(loc(9, 10, 1))
    g = Script("gus", "instagram").welcome(loc(9, 11, 0))
    # After the period: not counted.
    h = Script("hal", "web_chat").customer_msg(loc(12, 10, 0))
    return [ev for s in (a, b, c, d, e, f, g, h) for ev in s.events]


@pytest.fixture
def loaded(store):
    load(store, scenario())
    return store


def run(store, **kw):
    now = kw.pop("now", datetime(2026, 11, 24, 12, tzinfo=UTC))
    query = Query.build("w", timezone="America/Toronto", now=now, **kw)
    return overview.run(store, query)


def test_tiles(loaded):
    r = run(loaded, date_from="2026-11-10", date_to="2026-11-11")
    t = r.tiles
    assert (t.total_conversations, t.engaged_conversations, t.unique_customers) == (6, 5, 4)
    d = t.average_conversation_duration_seconds
    assert (d.all, d.teammate, d.chatbot) == (1398.0, 1720.0, 915.0)  # 6990/5, 5160/3, 1830/2


def test_previous_period_tiles(loaded):
    p = run(loaded, date_from="2026-11-10", date_to="2026-11-11").tiles.previous
    assert (p.total_conversations, p.engaged_conversations, p.unique_customers) == (2, 1, 2)
    d = p.average_conversation_duration_seconds
    assert (d.all, d.teammate, d.chatbot) == (60.0, None, 60.0)


def test_charts(loaded):
    r = run(loaded, date_from="2026-11-10", date_to="2026-11-11")
    assert r.buckets == ["2026-11-10T00:00:00-05:00", "2026-11-11T00:00:00-05:00"]
    assert (r.engagement.engaged, r.engagement.non_engaged) == ([3, 2], [1, 0])
    assert r.messages.teammate == [1, 2]
    assert r.messages.chatbot == [5, 1]
    assert r.messages.customer == [5, 3]
    assert r.traffic.transfer_requests == [2, 2]
    assert r.traffic.engaged_conversations == [3, 3]  # C1 spans midnight: in both days


def test_departments_support_and_data_quality(loaded):
    r = run(loaded, date_from="2026-11-10", date_to="2026-11-11")
    assert [row.model_dump() for row in r.closed_by_department] == [
        {
            "department": "Returns",
            "conversations": 2,
            "teammates_involved": 1,
            "avg_resolution_seconds": 1020.0,
        },
        {
            "department": "Sales",
            "conversations": 1,
            "teammates_involved": 1,
            "avg_resolution_seconds": 1680.0,
        },
        {
            "department": None,
            "conversations": 1,
            "teammates_involved": 1,
            "avg_resolution_seconds": 2880.0,
        },
    ]
    assert r.support_type.model_dump() == {
        "all": {"teammate": 3, "chatbot": 3},
        "engaged": {"teammate": 3, "chatbot": 2},
    }
    assert r.data_quality.orphan_closes == 1


def test_department_anchor_is_closed_at(loaded):
    # Only the 10th: A1 closed that day; C1 started that day but closed on the 11th.
    r = run(loaded, date_from="2026-11-10", date_to="2026-11-10")
    assert [(x.department, x.conversations) for x in r.closed_by_department] == [("Returns", 1)]
    assert r.tiles.total_conversations == 4


def test_department_csv(loaded):
    def report(**kw):
        query = Query.build("w", timezone="America/Toronto", **kw)
        report = pages.EXPORTS["departments"]
        rows = runner.export(report, loaded, query)
        text = exports.csv_text(report.columns, rows)
        return exports.filename("departments", query), text, len(rows)

    name, text, count = report(date_from="2026-11-10", date_to="2026-11-11")
    assert text == (
        "department,conversations,teammates_involved,avg_resolution_seconds\r\n"
        "Returns,2,1,1020.0\r\n"
        "Sales,1,1,1680.0\r\n"
        "No department,1,1,2880.0\r\n"
    )
    assert name == "departments_w_2026-11-10_2026-11-11.csv" and count == 3
    web, _, _ = report(date_from="2026-11-10", date_to="2026-11-11", channels="web_chat,email")
    assert web == "departments_w_2026-11-10_2026-11-11_email+web_chat.csv"


def test_channel_filter(loaded):
    r = run(loaded, date_from="2026-11-10", date_to="2026-11-11", channels="web_chat")
    t = r.tiles
    assert (t.total_conversations, t.engaged_conversations, t.unique_customers) == (2, 2, 2)
    d = t.average_conversation_duration_seconds
    assert (d.all, d.teammate, d.chatbot) == (1200.0, 600.0, 1800.0)
    assert [(x.department, x.conversations) for x in r.closed_by_department] == [
        ("Returns", 1),
        ("Sales", 1),
    ]
    assert r.messages.customer == [2, 2] and r.data_quality.orphan_closes == 0
    assert t.previous.total_conversations == 1  # F


def test_channel_filter_partitions_the_totals(loaded):
    whole = run(loaded, date_from="2026-11-10", date_to="2026-11-11")
    parts = [
        run(loaded, date_from="2026-11-10", date_to="2026-11-11", channels=ch)
        for ch in ("web_chat", "whatsapp", "messenger", "email", "instagram")
    ]
    for field in ("total_conversations", "engaged_conversations"):
        assert sum(getattr(p.tiles, field) for p in parts) == getattr(whole.tiles, field)
    assert [sum(x) for x in zip(*(p.messages.customer for p in parts), strict=True)] == (
        whole.messages.customer
    )
    assert sum(p.data_quality.orphan_closes for p in parts) == 1


def test_today_is_hourly(loaded):
    r = run(loaded, period="today", now=datetime(2026, 11, 10, 19, 0, tzinfo=UTC))  # 14:00
    assert len(r.buckets) == 15 and r.granularity == "hour"
    assert r.engagement.engaged[10] == 1 and r.engagement.non_engaged[11] == 1
    assert r.engagement.engaged[13] == 1 and sum(r.engagement.engaged) == 2
    assert r.traffic.engaged_conversations[10] == 1 and r.traffic.engaged_conversations[12] == 0
    # Previous: the 9th from 00:00 to 15:00, which holds F (10:00) and G (11:00).
    assert r.tiles.previous.total_conversations == 2


def test_empty_period_gives_zeros_and_nulls(store):
    r = run(store, date_from="2026-11-10", date_to="2026-11-12")
    assert r.engagement.engaged == [0, 0, 0] and r.closed_by_department == []
    assert r.tiles.average_conversation_duration_seconds.all is None


def test_pinned_json_keys(loaded):
    data = run(loaded, date_from="2026-11-10", date_to="2026-11-11").model_dump()
    assert data["period"] == {
        "from": "2026-11-10",
        "to": "2026-11-11",
        "timezone": "America/Toronto",
    }
    assert {
        "workspace",
        "period",
        "granularity",
        "channels",
        "buckets",
        "tiles",
        "engagement",
        "messages",
        "traffic",
        "closed_by_department",
        "support_type",
        "data_quality",
    } <= set(data)
    assert set(data["tiles"]["previous"]) == {
        "average_conversation_duration_seconds",
        "total_conversations",
        "engaged_conversations",
        "unique_customers",
    }


def test_orphan_surveys_are_counted_by_their_time_and_channel(store):
    from helpers import Script, at, load

    web = Script().customer_msg(at(0)).close(at(1)).csat(at(1 + 8 * 24 * 60), 5)  # 8 days on
    mail = Script(channel="email").csat(at(0), 2)  # before any conversation
    load(store, web.events + mail.events)
    q = lambda **kw: Query.build("w", timezone="America/Toronto", **kw)  # noqa: E731
    first_day = overview.run(store, q(date_from="2026-11-10", date_to="2026-11-10"))
    assert first_day.data_quality.orphan_surveys == 1  # the email one
    eighth = overview.run(store, q(date_from="2026-11-18", date_to="2026-11-18"))
    assert eighth.data_quality.orphan_surveys == 1
    web_only = overview.run(
        store, q(date_from="2026-11-10", date_to="2026-11-18", channels="web_chat")
    )
    assert web_only.data_quality.orphan_surveys == 1
    assert web_only.tiles.total_conversations == 1  # surveys are no conversations
    assert sum(web_only.messages.customer) == 1  # nor messages


def test_department_filter_reaches_every_element(loaded):
    # Returns: A1 (10th) and E1 (11th), both engaged and handled by teammates.
    r = run(loaded, date_from="2026-11-10", date_to="2026-11-11", departments="Returns")
    t = r.tiles
    assert (t.total_conversations, t.engaged_conversations, t.unique_customers) == (2, 2, 2)
    assert t.average_conversation_duration_seconds.model_dump() == {
        "all": 1080.0,  # (600 + 1560) / 2
        "teammate": 1080.0,
        "chatbot": None,
    }
    # Events of those conversations only: A1's on the 10th, E1's on the 11th.
    assert (r.messages.teammate, r.messages.chatbot, r.messages.customer) == (
        [1, 1],
        [2, 0],
        [2, 1],
    )
    assert r.traffic.transfer_requests == [1, 1]
    assert [(x.department, x.conversations) for x in r.closed_by_department] == [("Returns", 2)]
    assert r.data_quality.orphan_closes == 1  # orphans match on channel only
    assert r.departments == ["Returns"] and r.teammates is None


def test_no_department_matches_open_conversations_and_closes_without_one(loaded):
    # B1, B2 (never closed) and C1 (closed without a department), all started on the 10th.
    r = run(loaded, date_from="2026-11-10", date_to="2026-11-11", departments="(none)")
    assert (r.engagement.engaged, r.engagement.non_engaged) == ([2, 0], [1, 0])
    assert (r.messages.teammate, r.messages.chatbot, r.messages.customer) == (
        [0, 1],  # t2's answer in C1 after midnight
        [3, 0],
        [3, 0],
    )
    assert r.traffic.transfer_requests == [1, 0]
    assert r.traffic.engaged_conversations == [2, 1]  # B2 and C1; C1 again on the 11th
    assert [(x.department, x.conversations) for x in r.closed_by_department] == [(None, 1)]


def test_departments_partition_the_totals(loaded):
    kw = {"date_from": "2026-11-10", "date_to": "2026-11-11"}
    whole = run(loaded, **kw)
    parts = [run(loaded, departments=d, **kw) for d in ("Returns", "Sales", "(none)")]
    assert sum(p.tiles.total_conversations for p in parts) == whole.tiles.total_conversations
    for series in ("teammate", "chatbot", "customer"):
        summed = [sum(x) for x in zip(*(getattr(p.messages, series) for p in parts), strict=True)]
        assert summed == getattr(whole.messages, series)
    both = run(loaded, departments="Sales,(none)", **kw)
    assert both.tiles.total_conversations == 4 and both.departments == ["(none)", "Sales"]


def test_teammate_filter_matches_who_wrote_or_closed(loaded):
    kw = {"date_from": "2026-11-10", "date_to": "2026-11-11"}
    t1 = run(loaded, teammates="t1", **kw)  # wrote in A1 and E1
    assert t1.tiles.total_conversations == 2 and t1.messages.customer == [2, 1]
    t3 = run(loaded, teammates="t3", **kw)  # closed D1 without writing in it
    assert (t3.tiles.total_conversations, t3.messages.customer, t3.messages.chatbot) == (
        1,
        [0, 2],
        [0, 1],
    )
    assert t3.traffic.transfer_requests == [0, 1]
    both = run(loaded, teammates="t2,t3", **kw)  # C1 and D1
    assert both.tiles.total_conversations == 2 and both.teammates == ["t2", "t3"]
    assert run(loaded, teammates="zed", **kw).tiles.total_conversations == 0


def test_filters_in_file_names_and_escaped_commas():
    q = Query.build(
        "w",
        timezone="America/Toronto",
        date_from="2026-11-10",
        date_to="2026-11-11",
        departments="Returns\\, exchanges,(none)",
        teammates="amy",
    )
    assert q.departments == ("(none)", "Returns, exchanges")
    assert exports.filename("teammates", q) == (
        "teammates_w_2026-11-10_2026-11-11_departments-(none)+Returns, exchanges_teammates-amy.csv"
    )
