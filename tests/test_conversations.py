"""SPEC section 2, rule by rule, on hand-written threads with the expected cut written out."""

from __future__ import annotations

from helpers import Script, at, convs, load, naive

from convoscope import conversations
from convoscope.store import DERIVED_TABLES
from convoscope.store import database as store_database


def starts(store) -> list[str]:
    return [c["conversation_id"] for c in convs(store)]


def waits(store) -> list[tuple]:
    return store.con.execute(
        "SELECT waited_from, answered_at, teammate_id, response_us FROM response_waits "
        "ORDER BY conversation_id, waited_from"
    ).fetchall()


def orphans(store) -> list[str]:
    return [
        r[0] for r in store.con.execute("SELECT event_id FROM orphan_closes ORDER BY ts").fetchall()
    ]


def test_gap_of_exactly_ten_minutes_keeps_the_conversation(store):
    s = Script().welcome(at(0)).customer_msg(at(1)).customer_msg(at(11))
    load(store, s.events)
    assert starts(store) == ["web_chat-c1-1"]


def test_gap_of_ten_minutes_and_one_second_opens_a_new_one(store):
    s = Script().welcome(at(0)).customer_msg(at(1)).customer_msg(at(11, seconds=1))
    load(store, s.events)
    assert starts(store) == ["web_chat-c1-1", "web_chat-c1-3"]
    first, second = convs(store)
    assert first["ended_at"] == naive(at(1)) and first["duration_us"] == 60_000_000
    assert second["started_at"] == naive(at(11, seconds=1)) and second["duration_us"] == 0


def test_close_then_reopen(store):
    s = (
        Script()
        .welcome(at(0))
        .customer_msg(at(1))
        .transfer(at(2))
        .teammate(at(3))
        .close(at(4), "Returns", "t1")
        .customer_msg(at(5))
    )
    load(store, s.events)
    first, second = convs(store)
    assert first["closed_at"] == naive(at(4)) and first["ended_at"] == naive(at(4))
    assert first["department"] == "Returns" and first["closed_by"] == "t1"
    assert second["conversation_id"] == "web_chat-c1-6" and second["closed_at"] is None
    assert second["engaged"]  # no welcome in it: any customer message engages


def test_escalated_conversation_survives_a_three_hour_wait(store):
    s = (
        Script()
        .welcome(at(0))
        .customer_msg(at(1))
        .transfer(at(2))
        .customer_msg(at(30))
        .teammate(at(182))
        .close(at(190), "Orders", "t1")
    )
    load(store, s.events)
    (c,) = convs(store)
    assert c["escalated_at"] == naive(at(2))
    assert c["first_response_at"] == naive(at(182))
    assert c["duration_us"] == 190 * 60_000_000
    assert c["resolution_us"] == 188 * 60_000_000  # closed_at - escalated_at


def test_escalated_timeout_after_24_hours(store):
    day = 24 * 60
    s = (
        Script()
        .customer_msg(at(0))
        .transfer(at(1))
        .customer_msg(at(1 + day))  # exactly 24 h: same conversation
        .customer_msg(at(1 + 2 * day, seconds=1))
    )  # 24 h 1 s: a new one, first one unclosed
    load(store, s.events)
    first, second = convs(store)
    assert first["ended_at"] == naive(at(1 + day)) and first["closed_at"] is None
    assert first["resolution_us"] is None
    assert second["conversation_id"] == "web_chat-c1-4" and second["escalated_at"] is None


def test_a_teammate_message_escalates_without_a_transfer_request(store):
    s = Script().customer_msg(at(0)).teammate(at(1), "t9").customer_msg(at(120))
    load(store, s.events)
    (c,) = convs(store)
    assert c["escalated_at"] == naive(at(1)) and c["transfer_requests"] == 0
    assert c["support_type"] == "teammate"


def test_soft_split_before_escalation_then_escalated_conversation_lasts(store):
    # 20-minute gap while with the chatbot: new conversation; it then escalates and survives
    # a 5-hour wait. A second transfer request counts in the same conversation.
    s = (
        Script()
        .welcome(at(0))
        .customer_msg(at(1))
        .customer_msg(at(21))
        .transfer(at(22))
        .transfer(at(60))
        .teammate(at(22 + 300))
    )
    load(store, s.events)
    first, second = convs(store)
    assert first["conversation_id"] == "web_chat-c1-1" and first["support_type"] == "chatbot"
    assert second["conversation_id"] == "web_chat-c1-3"
    assert second["transfer_requests"] == 2 and second["teammate_messages"] == 1


def test_escalation_does_not_carry_over_a_close(store):
    s = (
        Script()
        .customer_msg(at(0))
        .transfer(at(1))
        .close(at(2))
        .customer_msg(at(3))
        .customer_msg(at(20))
    )  # 17-minute gap, chatbot again
    load(store, s.events)
    assert starts(store) == ["web_chat-c1-1", "web_chat-c1-4", "web_chat-c1-5"]


def test_orphan_closes_are_kept_and_counted(store):
    s = (
        Script()
        .close(at(0), "Sales")  # nothing in progress
        .customer_msg(at(1))
        .close(at(2))
        .close(at(3))  # a second close: nothing in progress
        .customer_msg(at(10))
        .close(at(30))
    )  # after the 10-minute timeout: orphan
    load(store, s.events)
    assert orphans(store) == ["web_chat-c1-1", "web_chat-c1-4", "web_chat-c1-6"]
    assert starts(store) == ["web_chat-c1-2", "web_chat-c1-5"]
    assert [c["closed_at"] is not None for c in convs(store)] == [True, False]


def test_welcome_without_reply_is_not_engaged(store):
    load(store, Script().welcome(at(0)).bot(at(1)).events)
    (c,) = convs(store)
    assert not c["engaged"] and c["chatbot_messages"] == 2 and c["support_type"] == "chatbot"


def test_customer_message_before_the_welcome_does_not_engage(store):
    load(store, Script().customer_msg(at(0)).welcome(at(0, seconds=2)).events)
    assert [c["engaged"] for c in convs(store)] == [False]


def test_customer_message_after_the_welcome_engages(store):
    s = Script().customer_msg(at(0)).welcome(at(0, seconds=2)).customer_msg(at(1))
    load(store, s.events)
    assert [c["engaged"] for c in convs(store)] == [True]


def test_chatbot_only_without_welcome_is_not_engaged(store):
    load(store, Script().bot(at(0)).events)
    assert [c["engaged"] for c in convs(store)] == [False]


def test_ties_on_the_same_timestamp_follow_arrival_order(store):
    # close and customer message at the same instant: the close arrived first, so it ends
    # the conversation and the message opens a new one.
    a = Script(customer="a").customer_msg(at(0)).close(at(1)).customer_msg(at(1))
    # same instant, message arrived first: it belongs to the conversation the close ends.
    b = Script(customer="b").customer_msg(at(0))
    b.customer_msg(at(1)).close(at(1))
    load(store, a.events + b.events)
    by_customer = {}
    for c in convs(store):
        by_customer.setdefault(c["customer_id"], []).append(c["customer_messages"])
    assert by_customer == {"a": [1, 1], "b": [2]}


def test_every_fact_of_one_conversation(store):
    s = (
        Script()
        .welcome(at(0))
        .customer_msg(at(1))
        .bot(at(1, seconds=5))
        .transfer(at(2))
        .teammate(at(6), "ana")
        .customer_msg(at(7))
        .teammate(at(8), "bo")
        .close(at(9, seconds=30), "Technical support", "cy")
    )
    load(store, s.events)
    (c,) = convs(store)
    assert c == {
        "workspace": "w",
        "channel": "web_chat",
        "customer_id": "c1",
        "conversation_id": "web_chat-c1-1",
        "started_at": naive(at(0)),
        "ended_at": naive(at(9, seconds=30)),
        "duration_us": 570_000_000,
        "engaged": True,
        "escalated_at": naive(at(2)),
        "transfer_requests": 1,
        "support_type": "teammate",
        "closed_at": naive(at(9, seconds=30)),
        "department": "Technical support",
        "closed_by": "cy",
        "first_response_at": naive(at(6)),
        "resolution_us": 450_000_000,
        "customer_messages": 2,
        "chatbot_messages": 2,
        "teammate_messages": 2,
        "first_responder": "ana",
        "initial_response_from": naive(at(2)),  # the transfer request, before ana's answer
        "initial_response_us": 240_000_000,
        "last_responder": "bo",  # the last teammate message (cy only closed it)
        "transferred": True,  # the transfer request came before any teammate message
        "teammates": ["ana", "bo", "cy"],  # who wrote or closed, sorted
        # the chatbot's phase: the welcome, the customer's reply and the bot's answer
        "bot_involved": True,
        "bot_messages": 2,
        "bot_fallbacks": 0,
        "bot_duration_us": 120_000_000,  # to the transfer request
        "flows_entered": 0,
        "first_flow": None,
        "first_flow_sent_type": None,
        "last_flow": None,
        "bot_outcome": "transferred",
    }
    # The customer's 10:07 message waits for bo's answer at 10:08.
    assert waits(store) == [(naive(at(7)), naive(at(8)), "bo", 60_000_000)]
    teammates = store.con.execute(
        "SELECT teammate_id FROM conversation_teammates ORDER BY 1"
    ).fetchall()
    assert [t[0] for t in teammates] == ["ana", "bo", "cy"]


def test_closed_chatbot_conversation_resolution_counts_from_start(store):
    load(store, Script().welcome(at(0)).customer_msg(at(1)).close(at(4), who="t2").events)
    (c,) = convs(store)
    assert c["support_type"] == "chatbot" and c["resolution_us"] == 240_000_000


def test_threads_are_per_channel_and_customer(store):
    a = Script(customer="c1", channel="web_chat").customer_msg(at(0))
    b = Script(customer="c1", channel="whatsapp").customer_msg(at(1))
    c = Script(customer="c2", channel="web_chat").customer_msg(at(2))
    load(store, a.events + b.events + c.events)
    assert len(convs(store)) == 3


def test_late_event_recuts_the_thread(store):
    s = Script().customer_msg(at(0)).customer_msg(at(15)).customer_msg(at(7))
    load(store, s.events[:2])
    assert len(convs(store)) == 2
    load(store, s.events[2:])  # arrives late, bridges the 15-minute gap
    assert starts(store) == ["web_chat-c1-1"]
    assert convs(store)[0]["customer_messages"] == 3


def test_workspace_inactivity_settings_are_used(store):
    store.con.execute("UPDATE workspaces SET inactivity_seconds = 60 WHERE name = 'w'")
    load(store, Script().customer_msg(at(0)).customer_msg(at(2)).events)
    assert len(convs(store)) == 2


def test_incremental_refresh_equals_full_rebuild(store):
    s1 = Script("a").welcome(at(0)).customer_msg(at(1)).transfer(at(3)).teammate(at(50))
    s2 = Script("b", "email").customer_msg(at(0)).teammate(at(5)).close(at(31), "Orders")
    load(store, s1.events[:2] + s2.events[:1])
    load(store, s1.events[2:])
    load(store, s2.events[1:])
    before = convs(store)
    conversations.rebuild(store)
    assert convs(store) == before and len(before) == 2


def test_many_threads_take_the_bulk_path_to_the_same_rows(store, monkeypatch):
    # Above store.database.INDEX_LOOKUP_KEYS keys a write reads its events through a semi-join view
    # instead of index probes (bulk files, rebuilds); force it for every write here.
    from test_team import scenario

    def derived() -> list:  # arrival numbers are never reused, hence events without them
        return [
            store.con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in ("(SELECT * EXCLUDE (seq) FROM events)", *DERIVED_TABLES)
        ]

    load(store, scenario()[:9])
    load(store, scenario()[9:])
    expected = derived()
    store.con.execute("DELETE FROM events")
    conversations.rebuild(store)
    monkeypatch.setattr(store_database, "INDEX_LOOKUP_KEYS", 0)
    load(store, scenario()[:9])
    load(store, scenario()[9:])
    assert derived() == expected


# Rule 5: satisfaction surveys ---------------------------------------------------------------


def survey_links(store) -> dict[str, str | None]:
    return dict(store.con.execute("SELECT event_id, conversation_id FROM surveys").fetchall())


def test_a_survey_seven_days_after_the_end_belongs_and_one_microsecond_later_is_an_orphan(store):
    s = Script()
    s.customer_msg(at(0)).teammate(at(1)).close(at(2), who="t1")
    s.csat(at(2 + 7 * 24 * 60), 5)  # exactly csat_window after ended_at
    late = Script(customer="c2")
    late.customer_msg(at(0)).close(at(2))
    late.csat(at(2 + 7 * 24 * 60, seconds=0.000001), 4)
    load(store, s.events + late.events)
    assert survey_links(store) == {"web_chat-c1-4": "web_chat-c1-1", "web_chat-c2-3": None}
    assert [c["ended_at"] for c in convs(store)] == [naive(at(2)), naive(at(2))]  # not extended


def test_a_survey_inside_a_conversation_belongs_to_it_and_extends_nothing(store):
    s = Script().customer_msg(at(0)).csat(at(3), 2).bot(at(5))
    load(store, s.events)
    (conversation,) = convs(store)
    assert survey_links(store) == {"web_chat-c1-2": "web_chat-c1-1"}
    assert (conversation["started_at"], conversation["ended_at"]) == (naive(at(0)), naive(at(5)))


def test_a_survey_does_not_bridge_a_ten_minute_gap(store):
    # 10:00 bot, 10:06 survey, 10:12 customer: 12 minutes without activity, two conversations.
    s = Script().bot(at(0)).csat(at(6), 5).customer_msg(at(12))
    load(store, s.events)
    assert starts(store) == ["web_chat-c1-1", "web_chat-c1-3"]
    assert survey_links(store) == {"web_chat-c1-2": "web_chat-c1-1"}


def test_a_survey_never_opens_a_conversation(store):
    s = Script().csat(at(0), 3)
    load(store, s.events)
    assert convs(store) == [] and survey_links(store) == {"web_chat-c1-1": None}


def test_a_survey_at_a_conversation_start_follows_arrival_order(store):
    before = Script(customer="c1").csat(at(0), 5).customer_msg(at(0))  # survey arrives first
    after = Script(customer="c2").customer_msg(at(0)).csat(at(0), 5)
    load(store, before.events + after.events)
    assert survey_links(store) == {"web_chat-c1-1": None, "web_chat-c2-2": "web_chat-c2-1"}


def test_a_late_conversation_takes_the_survey_from_an_older_one(store):
    s = Script().customer_msg(at(0)).close(at(1)).csat(at(60), 4)
    load(store, s.events)
    assert survey_links(store) == {"web_chat-c1-3": "web_chat-c1-1"}
    later = Script(prefix="late-").customer_msg(at(30))  # arrives late, starts before the survey
    load(store, later.events)
    assert survey_links(store) == {"web_chat-c1-3": "late-1"}


# Section 2's response facts ----------------------------------------------------------------


def test_initial_response_from_a_customer_message_when_no_transfer_came_first(store):
    s = Script().welcome(at(0)).customer_msg(at(1)).customer_msg(at(2)).teammate(at(5), "ana")
    s.transfer(at(6))  # after the first answer: not the start of the initial wait
    load(store, s.events)
    (c,) = convs(store)
    assert c["initial_response_from"] == naive(at(1)) and c["initial_response_us"] == 240_000_000
    assert c["first_responder"] == "ana"


def test_outreach_has_no_initial_response_time(store):
    s = Script().teammate(at(0), "ana").customer_msg(at(1)).teammate(at(3), "bo")
    load(store, s.events)
    (c,) = convs(store)
    assert c["initial_response_from"] is None and c["initial_response_us"] is None
    assert c["first_responder"] == "ana"
    assert waits(store) == [(naive(at(1)), naive(at(3)), "bo", 120_000_000)]


def test_response_waits_skip_chatbot_messages_and_drop_unanswered_ones(store):
    s = (
        Script()
        .customer_msg(at(0))
        .teammate(at(1), "ana")
        .customer_msg(at(2))  # starts a wait
        .bot(at(3))  # chatbot messages do not answer
        .customer_msg(at(4))  # not a new wait: no teammate message since 10:02
        .teammate(at(6), "bo")  # answers the 10:02 wait: 4 minutes
        .teammate(at(7), "bo")
        .customer_msg(at(8))  # a wait never answered: not counted
    )
    load(store, s.events)
    assert waits(store) == [(naive(at(2)), naive(at(6)), "bo", 240_000_000)]


def test_no_teammate_message_means_no_first_responder(store):
    load(store, Script().customer_msg(at(0)).transfer(at(1)).close(at(5)).events)
    (c,) = convs(store)
    assert c["first_responder"] is None and c["initial_response_us"] is None
    assert c["initial_response_from"] == naive(at(1))  # the transfer request is waiting


def test_a_teammate_writing_first_is_not_a_successful_transfer(store):
    outreach = Script(customer="a").teammate(at(0), "ana").transfer(at(1)).teammate(at(2), "bo")
    same_instant = Script(customer="b").customer_msg(at(0)).transfer(at(1)).teammate(at(1), "cy")
    load(store, outreach.events + same_instant.events)
    facts = {c["customer_id"]: (c["transferred"], c["last_responder"]) for c in convs(store)}
    assert facts == {"a": (False, "bo"), "b": (True, "cy")}  # ties: arrival order


def test_each_message_and_transfer_request_knows_its_conversation(store):
    s = Script().customer_msg(at(0)).transfer(at(1)).close(at(2), "Sales", "ana")
    s.customer_msg(at(30)).csat(at(31), 4)
    load(store, s.events)
    rows = store.con.execute(
        "SELECT conversation_id, type, ts FROM conversation_events ORDER BY ts"
    ).fetchall()
    assert rows == [
        ("web_chat-c1-1", "message", naive(at(0))),
        ("web_chat-c1-1", "transfer_request", naive(at(1))),
        ("web_chat-c1-4", "message", naive(at(30))),
    ]  # closes and surveys are not counted by event-anchored metrics
