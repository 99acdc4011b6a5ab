"""Chatbot Performance (SPEC section 7), worked out by hand from small scripts: the issue's
example figure by figure, then each element's edges (what is a chatbot conversation, what is
its outcome, what a filter keeps, how the catalogue re-types history), asked through the page,
the CLI, the API and the CSV alike."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from helpers import Script, load

from convoscope import pages
from convoscope.pages import chatbot, runner
from convoscope.query import Query, QueryError

DAY = "2026-03-02"  # a Monday
AFTER = datetime(2026, 3, 3, tzinfo=UTC)  # every conversation of the day has ended by then


def t(clock: str, day: str = DAY) -> str:
    return f"{day}T{clock}Z"


def example() -> list[dict]:
    """The issue's example (web_chat, UTC, inactivity 10 minutes)."""
    a = Script("u1", prefix="a")  # automated: its one flow completed
    a.bot(t("10:00:00"), welcome=True).customer_msg(t("10:00:05"))
    a.bot(t("10:00:10"), flow="order_tracking", flow_type="support", step="ask_order")
    a.customer_msg(t("10:01:00"))
    a.bot(t("10:01:05"), flow="order_tracking", step="status", flow_end=True)
    b = Script("u2", prefix="b")  # transferred on request, after a fallback
    b.bot(t("11:00:00"), welcome=True).customer_msg(t("11:00:05"))
    b.bot(t("11:00:10"), flow="product_search", flow_type="sales", step="ask_category")
    b.customer_msg(t("11:00:30"))
    b.bot(t("11:00:35"), flow="product_search", step="ask_category", fallback=True)
    b.transfer(t("11:01:00")).teammate(t("11:03:00"), "t1").close(t("11:10:00"), "Sales", "t1")
    c = Script("u3", prefix="c").bot(t("12:00:00"), welcome=True)  # not engaged
    e = Script("u4", prefix="e")  # abandoned in a flow
    e.bot(t("13:00:00"), welcome=True).customer_msg(t("13:00:05"))
    e.bot(t("13:00:10"), flow="returns", flow_type="support", step="ask_reason")
    return a.events + b.events + c.events + e.events


def page(store, *, tz: str = "UTC", now: datetime = AFTER, **filters) -> chatbot.ChatbotResult:
    query = Query.build("w", timezone=tz, date_from=DAY, date_to=DAY, now=now, **filters)
    return chatbot.run(store, query)


def test_buckets_off_the_quarter_hours_place_each_conversation_by_its_start(store):
    # Monrovia kept UTC-00:44:30 until 1972: its hours start 44 min 30 s past a UTC hour, off
    # the 15-minute slots. A chatbot conversation started at 10:44:45 UTC (10:00:15 there)
    # belongs to the 10:00 bucket (its slot, 10:30 UTC, is 09:45:30 there); it is automated.
    a = Script("mo", prefix="mo").customer_msg("1971-06-10T10:44:45Z")
    a.bot("1971-06-10T10:45:00Z", flow="faq", flow_type="support", step="a", flow_end=True)
    load(store, a.events)
    q = Query.build(
        "w", timezone="Africa/Monrovia", date_from="1971-06-10", date_to="1971-06-10",
        granularity="hour", now=datetime(1971, 6, 11, tzinfo=UTC),
    )  # fmt: skip
    r = chatbot.run(store, q)
    assert r.buckets[10] == "1971-06-10T10:00:00-00:44:30"
    assert r.outcomes.automated == [0] * 10 + [1] + [0] * 13
    assert r.tiles.automated == 1


def test_the_issues_example_figure_by_figure(store):
    load(store, example())
    r = page(store)
    t = r.tiles
    assert (t.bot_conversations, t.handled) == (4, 3)
    assert (t.automated, t.transferred, t.abandoned_in_flow, t.not_engaged) == (1, 1, 1, 1)
    assert (t.transferred_requested, t.transferred_teammate_joined, t.in_progress) == (1, 0, 0)
    assert t.automation_rate == t.transfer_rate == t.abandoned_rate == 1 / 3
    assert t.containment == 2 / 3
    assert (t.chatbot_messages, t.fallback_messages, t.fallback_rate) == (9, 1, 1 / 9)
    # 65 s (A, to its end), 60 s (B, to its transfer request), 10 s (E)
    assert t.time_with_chatbot_seconds.model_dump() == {
        "mean": 45.0,
        "median": 60.0,
        "p90": 64.0,
        "count": 3,
    }
    assert t.csat.model_dump() == {"mean": None, "count": 0}
    assert r.first_flow_type.model_dump() == {
        "campaign": 0,
        "transfer": 0,
        "sales": 1,
        "support": 2,
        "other": 0,
        "none": 0,
    }
    assert r.transfers_by_last_flow.model_dump() == {
        "top": [{"flow": "product_search", "conversations": 1}],
        "other_flows": 0,
        "no_flow": 0,
    }
    flows = {row.flow: row.model_dump() for row in r.dialog_performance}
    assert [row.flow for row in r.dialog_performance] == [
        "order_tracking",
        "product_search",
        "returns",
    ]  # all entered once: by name
    assert flows["order_tracking"] == {
        "flow": "order_tracking",
        "type": "support",
        "entered": 1,
        "completed": 1,
        "completion_rate": 1.0,
        "automated_last": 1,
        "transferred_after": 0,
        "abandoned": 0,
        "drop_off_rate": 0.0,
        "fallbacks": 0,
        "median_seconds_in_flow": 55.0,
        "drop_off_steps": [],
    }
    assert flows["product_search"] | {"median_seconds_in_flow": None} == {
        "flow": "product_search",
        "type": "sales",
        "entered": 1,
        "completed": 0,
        "completion_rate": 0.0,
        "automated_last": 0,
        "transferred_after": 1,
        "abandoned": 0,
        "drop_off_rate": 0.0,
        "fallbacks": 1,
        "median_seconds_in_flow": None,
        "drop_off_steps": [],
    }
    assert flows["product_search"]["median_seconds_in_flow"] == 25.0
    assert flows["returns"]["abandoned"] == 1 and flows["returns"]["drop_off_rate"] == 1.0
    assert flows["returns"]["drop_off_steps"] == [{"step": "ask_reason", "conversations": 1}]
    # hourly buckets for one day: A at 10:00, B at 11:00, C at 12:00, E at 13:00
    assert r.outcomes.automated[10] == 1 and r.outcomes.transferred[11] == 1
    assert r.outcomes.not_engaged[12] == 1 and r.outcomes.abandoned_in_flow[13] == 1
    assert r.automation_rate[10] == 1.0 and r.automation_rate[11] == 0.0
    assert r.automation_rate[12] is None  # C is not handled: no denominator
    assert r.data_quality.model_dump() == {"orphan_closes": 0, "orphan_surveys": 0}


def test_the_invariants_of_section_7_hold_on_the_example(store):
    load(store, example())
    r = page(store)
    t = r.tiles
    assert t.automated + t.abandoned_in_flow + t.transferred == t.handled
    series = r.outcomes.model_dump()
    assert sum(sum(v) for v in series.values()) == t.bot_conversations
    assert sum(r.first_flow_type.model_dump().values()) == t.handled
    transfers = r.transfers_by_last_flow
    assert (
        sum(x.conversations for x in transfers.top) + transfers.other_flows + transfers.no_flow
        == t.transferred
    )
    assert sum(row.abandoned for row in r.dialog_performance) == t.abandoned_in_flow


def test_the_same_day_asked_from_another_zone_counts_the_same_conversations(store):
    load(store, example())
    # Toronto (UTC-5 in March before the 8th): the four conversations fall on March 2 too
    r = page(store, tz="America/Toronto")
    assert (r.tiles.bot_conversations, r.tiles.handled, r.tiles.automated) == (4, 3, 1)
    assert r.outcomes.automated[5] == 1  # 10:00 UTC is 05:00 in Toronto


def test_welcome_only_and_proactive_outreach(store):
    # a welcome nobody answers: a chatbot conversation, not engaged, outside D; a teammate
    # writing first: the chatbot phase is empty, not a chatbot conversation at all
    welcome = Script("w1").bot(t("09:00:00"), welcome=True)
    outreach = Script("w2").teammate(t("09:00:00"), "t1").customer_msg(t("09:01:00"))
    load(store, welcome.events + outreach.events)
    r = page(store)
    assert (r.tiles.bot_conversations, r.tiles.not_engaged, r.tiles.handled) == (1, 1, 0)
    assert r.tiles.automation_rate is None and r.tiles.containment is None


def test_a_transfer_pressed_before_any_customer_message_is_handled_and_transferred(store):
    s = Script("x").bot(t("09:00:00"), welcome=True).transfer(t("09:00:20"))
    load(store, s.events)
    r = page(store)
    assert (r.tiles.handled, r.tiles.transferred, r.tiles.transferred_requested) == (1, 1, 1)
    assert r.tiles.time_with_chatbot_seconds.mean == 20.0
    assert r.transfers_by_last_flow.no_flow == 1 and r.first_flow_type.none == 1


def test_chatbot_messages_after_escalation_are_not_the_chatbots_phase(store):
    # the teammate joins (no request), then the chatbot writes again, in a flow, with a
    # fallback: counted in the overview's messages, never in flows, fallbacks or the phase
    s = Script("x").bot(t("09:00:00"), welcome=True).customer_msg(t("09:00:05"))
    s.teammate(t("09:01:00"), "t1")
    s.bot(t("09:02:00"), flow="survey", flow_type="other", step="ask", fallback=True)
    load(store, s.events)
    r = page(store)
    assert (r.tiles.transferred, r.tiles.transferred_teammate_joined) == (1, 1)
    assert (r.tiles.chatbot_messages, r.tiles.fallback_messages) == (1, 0)
    assert r.dialog_performance == [] and r.transfers_by_last_flow.no_flow == 1
    assert r.tiles.time_with_chatbot_seconds.mean == 60.0
    overview = runner.run(
        pages.PAGES["overview"], store, Query.build("w", timezone="UTC", date_from=DAY, date_to=DAY)
    )
    assert overview.model_dump()["messages"]["chatbot"][9] == 2


def test_a_flow_entered_twice_is_entered_once_and_completed_if_any_message_ends_it(store):
    s = Script("x").bot(t("09:00:00"), welcome=True).customer_msg(t("09:00:05"))
    s.bot(t("09:00:10"), flow="faq", flow_type="support", step="q1", flow_end=True)
    s.customer_msg(t("09:00:20"))
    s.bot(t("09:00:30"), flow="search", flow_type="sales", step="ask")
    s.customer_msg(t("09:00:40"))
    s.bot(t("09:00:50"), flow="faq", step="q2")  # back in faq, its last message: not an end
    load(store, s.events)
    r = page(store)
    (faq,) = [row for row in r.dialog_performance if row.flow == "faq"]
    assert (faq.entered, faq.completed, faq.automated_last) == (1, 1, 1)
    assert faq.median_seconds_in_flow == 40.0  # its first to its last message
    assert r.tiles.automated == 1  # the last flow (faq) was completed in the conversation
    assert r.first_flow_type.support == 1


def test_an_unfinished_last_flow_is_abandoned_and_its_step_is_the_drop_off(store):
    threads = []
    for i, step in enumerate(["ask_size", "ask_size", "ask_color", None]):
        s = Script(f"x{i}").bot(t(f"0{i}:00:00"), welcome=True).customer_msg(t(f"0{i}:00:05"))
        s.bot(
            t(f"0{i}:00:10"), flow="search", flow_type="sales", **({"step": step} if step else {})
        )
        threads += s.events
    load(store, threads)
    (row,) = page(store).dialog_performance
    assert (row.entered, row.abandoned, row.drop_off_rate) == (4, 4, 1.0)
    assert [s.model_dump() for s in row.drop_off_steps] == [
        {"step": "ask_size", "conversations": 2},
        {"step": "ask_color", "conversations": 1},
        {"step": None, "conversations": 1},
    ]


def test_a_conversation_that_may_still_go_on_is_in_progress(store):
    s = Script("x").bot(t("09:00:00"), welcome=True).customer_msg(t("09:00:05"))
    s.bot(t("09:00:10"), flow="faq", flow_type="support", step="q1", flow_end=True)
    load(store, s.events)
    at_nine = datetime(2026, 3, 2, 9, 10, 10, tzinfo=UTC)  # exactly 10 minutes later: not over
    r = page(store, now=at_nine)
    assert (r.tiles.in_progress, r.tiles.handled, r.tiles.automated) == (1, 0, 0)
    assert r.outcomes.in_progress[9] == 1 and r.dialog_performance == []
    later = datetime(2026, 3, 2, 9, 10, 11, tzinfo=UTC)
    assert page(store, now=later).tiles.automated == 1


def test_the_flow_catalogue_retypes_history_without_new_events(store):
    load(store, example())
    store.update_workspace("w", flow_types={"order_tracking": "campaign", "returns": "other"})
    r = page(store)
    assert (r.first_flow_type.campaign, r.first_flow_type.other) == (1, 1)
    assert (r.first_flow_type.support, r.first_flow_type.sales) == (0, 1)
    types = {row.flow: row.type for row in r.dialog_performance}
    assert types == {"order_tracking": "campaign", "product_search": "sales", "returns": "other"}
    assert page(store, flow_types="campaign").tiles.handled == 1
    store.update_workspace("w", flow_types={})
    assert page(store).first_flow_type.support == 2


def test_a_flow_without_any_type_is_other(store):
    s = Script("x").bot(t("09:00:00"), welcome=True).customer_msg(t("09:00:05"))
    s.bot(t("09:00:10"), flow="smalltalk", step="hi", flow_end=True)
    load(store, s.events)
    r = page(store)
    assert r.first_flow_type.other == 1 and r.dialog_performance[0].type == "other"


def test_surveys_about_the_chatbot_and_about_teammates(store):
    bot_only = Script("a").bot(t("09:00:00"), welcome=True).customer_msg(t("09:00:05"))
    bot_only.csat(t("09:01:00"), 5)  # no about, no teammate: the chatbot's
    helped = Script("b").bot(t("10:00:00")).customer_msg(t("10:00:05"))
    helped.transfer(t("10:00:10")).teammate(t("10:00:20"), "t1")
    helped.csat(t("10:05:00"), 2)  # no about, a teammate wrote: the teammate's
    rated = Script("c").bot(t("11:00:00")).customer_msg(t("11:00:05"))
    rated.transfer(t("11:00:10")).teammate(t("11:00:20"), "t1")
    rated.csat(t("11:05:00"), 3, about="chatbot")  # escalated, but about the chatbot
    bot_rated_teammate = Script("d").bot(t("12:00:00")).customer_msg(t("12:00:05"))
    bot_rated_teammate.csat(t("12:05:00"), 1, about="teammate")
    orphan = Script("e").csat(t("13:00:00"), 4, about="chatbot")
    load(
        store,
        bot_only.events + helped.events + rated.events + bot_rated_teammate.events + orphan.events,
    )
    r = page(store)
    assert r.tiles.csat.model_dump() == {"mean": 4.0, "count": 2}
    assert r.csat_breakdown == {"1": 0, "2": 0, "3": 1, "4": 0, "5": 1}
    assert r.data_quality.orphan_surveys == 1
    team = runner.run(
        pages.PAGES["team"], store, Query.build("w", timezone="UTC", date_from=DAY, date_to=DAY)
    )
    assert team.model_dump()["tiles"]["csat"] == {"mean": 1.5, "count": 2}
    # about the chatbot + about teammates = every survey of a conversation
    assert r.tiles.csat.count + team.model_dump()["tiles"]["csat"]["count"] == 4


def test_every_filter_including_no_flow(store):
    load(store, example())
    extra = Script("u5", "whatsapp").bot(t("14:00:00"), welcome=True)
    extra.customer_msg(t("14:00:05")).bot(t("14:00:10"))  # automated, no flow
    load(store, extra.events)
    assert page(store).tiles.handled == 4
    assert page(store, channels="whatsapp").tiles.handled == 1
    assert page(store, flows="(none)").tiles.model_dump()["bot_conversations"] == 2  # C, u5
    assert page(store, flows="returns,order_tracking").tiles.handled == 2
    assert page(store, flow_types="sales").tiles.transferred == 1
    assert page(store, flow_types="support,(none)").tiles.handled == 3
    both = page(store, flow_types="support", flows="returns")
    assert (both.tiles.handled, both.tiles.abandoned_in_flow) == (1, 1)
    assert page(store, departments="Sales").tiles.handled == 1  # B, closed in Sales
    assert page(store, departments="(none)").tiles.handled == 3
    # the filters reach the fallback rate (by message) and the surveys
    assert page(store, flows="product_search").tiles.fallback_messages == 1
    assert page(store, flows="returns").tiles.chatbot_messages == 2
    # the partition invariant: single channels and "no department" plus each department
    whole = page(store).tiles
    by_channel = [page(store, channels=c).tiles for c in ("web_chat", "whatsapp")]
    assert sum(x.handled for x in by_channel) == whole.handled
    assert sum(x.chatbot_messages for x in by_channel) == whole.chatbot_messages


def test_the_teammates_filter_is_refused_by_name(store):
    load(store, example())
    with pytest.raises(QueryError) as refused:
        page(store, teammates="t1")
    assert refused.value.param == "teammates"
    with pytest.raises(QueryError) as refused:
        runner.run(
            pages.PAGES["team"],
            store,
            Query.build("w", timezone="UTC", date_from=DAY, date_to=DAY, flows="faq"),
        )
    assert refused.value.param == "flows"
    with pytest.raises(QueryError, match="flow_types"):
        Query.build("w", timezone="UTC", period="today", flow_types="billing")


def test_the_previous_period_is_the_day_before(store):
    yesterday = Script("y").bot(t("09:00:00", "2026-03-01"), welcome=True)
    yesterday.customer_msg(t("09:00:05", "2026-03-01")).bot(t("09:00:10", "2026-03-01"))
    load(store, example() + yesterday.events)
    previous = page(store).tiles.previous
    assert (previous.handled, previous.automated, previous.automation_rate) == (1, 1, 1.0)
    assert previous.time_with_chatbot_seconds.mean == 10.0


def test_the_flows_csv(store):
    load(store, example())
    query = Query.build("w", timezone="UTC", date_from=DAY, date_to=DAY, now=AFTER)
    export = pages.EXPORTS["flows"]
    rows = runner.export(export, store, query)
    assert export.columns[:3] == ("flow", "type", "entered")
    assert [r[0] for r in rows] == ["order_tracking", "product_search", "returns"]
    assert rows[2][-1] == "ask_reason (1)"
