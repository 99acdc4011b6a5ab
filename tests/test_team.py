"""SPEC section 5 on hand-worked scripts: every tile, the previous period, the efficiency chart,
the CSAT breakdown, the teammates table, every filter and business hours.

The workspace is in America/Toronto (UTC-5 in these November days). The period is the 10th
and 11th (day buckets); the previous period the 8th and 9th. Expected values are worked out
in the comments from the events, not from the code.
"""

from __future__ import annotations

import pytest
from helpers import Script, load

from convoscope.pages import team
from convoscope.query import Query


def loc(day: int, hh: int, mm: int, ss: int = 0, month: int = 11, off: str = "-05:00") -> str:
    return f"2026-{month:02d}-{day:02d}T{hh:02d}:{mm:02d}:{ss:02d}{off}"


def scenario() -> list[dict]:
    # A (web_chat, ann), 10th: transfer 10:01 (a successful transfer), amy answers 10:04
    # (initial response 180 s from the transfer request), the customer waits from 10:05 (the
    # chatbot at 10:06 does not answer), bo answers 10:07 (response 120 s), amy closes in
    # Returns at 10:10 (resolution 10:10 - 10:01 = 540 s); survey 5 at 10:20 -> amy (closer).
    a = (
        Script("ann", "web_chat")
        .customer_msg(loc(10, 10, 0))
        .transfer(loc(10, 10, 1))
        .teammate(loc(10, 10, 4), "amy")
        .customer_msg(loc(10, 10, 5))
        .bot(loc(10, 10, 6))
        .teammate(loc(10, 10, 7), "bo")
        .close(loc(10, 10, 10), "Returns", "amy")
        .csat(loc(10, 10, 20), 5)
    )
    # B (whatsapp, bob), 10th: bo writes first after the customer (escalated by a teammate
    # message: not a successful transfer), initial 12:00 -> 12:02 = 120 s; wait 12:03 -> 12:13
    # = 600 s (bo); never closed; survey 2 at 12:30 -> bo (no closer; last teammate message).
    b = (
        Script("bob", "whatsapp")
        .customer_msg(loc(10, 12, 0))
        .teammate(loc(10, 12, 2), "bo")
        .customer_msg(loc(10, 12, 3))
        .teammate(loc(10, 12, 13), "bo")
        .csat(loc(10, 12, 30), 2)
    )
    # C (web_chat, cy), 11th: transfer 09:00:30, amy answers 09:10:30 (initial 600 s), closed
    # at 09:20 by nobody known, without department (resolution 1170 s, the unknown row);
    # survey 3 at 09:30 -> amy (no closer; last teammate message).
    c = (
        Script("cy", "web_chat")
        .customer_msg(loc(11, 9, 0))
        .transfer(loc(11, 9, 0, 30))
        .teammate(loc(11, 9, 10, 30), "amy")
        .close(loc(11, 9, 20))
        .csat(loc(11, 9, 30), 3)
    )
    # D (web_chat, dee), 11th: the chatbot alone, closed by bo in Sales (never escalated: no
    # resolution, not a closed conversation of this page); survey 4 says it rates the
    # teammate -> bo (closer). (Without `about` it would rate the chatbot: SPEC section 7.)
    d = (
        Script("dee", "web_chat")
        .customer_msg(loc(11, 14, 0))
        .bot(loc(11, 14, 1))
        .close(loc(11, 14, 2), "Sales", "bo")
        .csat(loc(11, 14, 5), 4, about="teammate")
    )
    # E (web_chat, eve): a survey with no conversation before it: an orphan survey.
    e = Script("eve", "web_chat").csat(loc(11, 15, 0), 1)
    # F (web_chat, fay), 9th (previous period): transfer, amy answers in 120 s, closes 60 s
    # later in Returns (resolution 180 s).
    f = (
        Script("fay", "web_chat")
        .transfer(loc(9, 10, 0))
        .teammate(loc(9, 10, 2), "amy")
        .close(loc(9, 10, 3), "Returns", "amy")
    )
    return a.events + b.events + c.events + d.events + e.events + f.events


def run(store, **filters) -> team.TeamResult:
    q = Query.build(
        "w", timezone="America/Toronto", date_from="2026-11-10", date_to="2026-11-11", **filters
    )
    return team.run(store, q)


def with_hours(store, hours) -> None:
    store.update_workspace("w", timezone="America/Toronto", business_hours=hours)


def d(mean, median, p90, count) -> dict:
    return {"mean": mean, "median": median, "p90": p90, "count": count}


NONE = d(None, None, None, 0)


@pytest.fixture
def loaded(store):
    load(store, scenario())
    return store


def test_tiles_and_previous_period(loaded):
    r = run(loaded)
    t = r.tiles.model_dump()
    previous = t.pop("previous")
    assert t == {
        # [120, 180, 600]: p90 at rank 1.8 = 180 + 0.8 * 420
        "initial_response_seconds": d(300.0, 180.0, 516.0, 3),
        # [120, 600]: p90 at rank 0.9 = 120 + 0.9 * 480
        "response_seconds": d(360.0, 360.0, 552.0, 2),
        "resolution_seconds": d(855.0, 855.0, 1107.0, 2),  # [540, 1170]
        "resolution_business_seconds": d(855.0, 855.0, 1107.0, 2),  # no hours set: 24/7
        "csat": {"mean": 3.5, "count": 4},  # 5, 2, 3, 4; the orphan survey excluded
        "successful_transfers": 2,  # A and C
        "addressed_conversations": 3,  # A, B, C
        "closed_conversations": 2,  # A and C (D was never escalated)
    }
    assert previous == {  # F alone: one value is its own mean, median and p90
        "initial_response_seconds": d(120.0, 120.0, 120.0, 1),
        "response_seconds": NONE,
        "resolution_seconds": d(180.0, 180.0, 180.0, 1),
        "resolution_business_seconds": d(180.0, 180.0, 180.0, 1),
        "csat": {"mean": None, "count": 0},
        "successful_transfers": 1,
        "addressed_conversations": 1,
        "closed_conversations": 1,
    }
    assert r.data_quality.model_dump() == {"orphan_closes": 0, "orphan_surveys": 1}


def test_efficiency_series_and_csat_breakdown(loaded):
    r = run(loaded)
    assert r.buckets == ["2026-11-10T00:00:00-05:00", "2026-11-11T00:00:00-05:00"]
    assert r.efficiency.model_dump() == {
        "initial_response_seconds": [150.0, 600.0],
        "response_seconds": [360.0, None],
        "resolution_seconds": [540.0, 1170.0],
        "csat": [3.5, 3.5],
    }
    assert r.csat_breakdown == {"1": 0, "2": 1, "3": 1, "4": 1, "5": 1}


def test_teammates_table(loaded):
    rows = [row.model_dump() for row in run(loaded).by_teammate]
    assert rows == [
        {
            "teammate_id": "amy",
            "initial_response_seconds": d(390.0, 390.0, 558.0, 2),  # [180, 600]
            "response_seconds": NONE,
            "resolution_seconds": d(540.0, 540.0, 540.0, 1),
            "resolution_business_seconds": d(540.0, 540.0, 540.0, 1),
            "csat": {"mean": 4.0, "count": 2},  # A (closer) and C (last teammate message)
            "addressed_conversations": 2,  # A, C
            "closed_conversations": 1,
        },
        {
            "teammate_id": "bo",
            "initial_response_seconds": d(120.0, 120.0, 120.0, 1),
            "response_seconds": d(360.0, 360.0, 552.0, 2),
            "resolution_seconds": NONE,
            "resolution_business_seconds": NONE,
            "csat": {"mean": 3.0, "count": 2},  # B (last teammate message) and D (closer)
            "addressed_conversations": 2,  # A, B
            "closed_conversations": 0,
        },
        {  # C, closed by an unknown teammate: last
            "teammate_id": None,
            "initial_response_seconds": NONE,
            "response_seconds": NONE,
            "resolution_seconds": d(1170.0, 1170.0, 1170.0, 1),
            "resolution_business_seconds": d(1170.0, 1170.0, 1170.0, 1),
            "csat": {"mean": None, "count": 0},
            "addressed_conversations": 0,
            "closed_conversations": 1,
        },
    ]


def test_teammates_filter_keeps_what_is_attributed_to_them(loaded):
    r = run(loaded, teammates="amy")
    t = r.tiles
    assert t.initial_response_seconds.count == 2 and t.response_seconds.count == 0
    assert t.resolution_seconds.model_dump() == d(540.0, 540.0, 540.0, 1)
    assert t.csat.model_dump() == {"mean": 4.0, "count": 2}
    assert (t.addressed_conversations, t.closed_conversations) == (2, 1)
    assert t.successful_transfers == 2  # A and C: amy wrote in both
    assert [row.teammate_id for row in r.by_teammate] == ["amy"]
    assert r.teammates == ["amy"]
    nobody = run(loaded, teammates="zed")
    assert nobody.tiles.successful_transfers == 0 and nobody.tiles.csat.count == 0
    assert [(row.teammate_id, row.closed_conversations) for row in nobody.by_teammate] == [
        ("zed", 0)
    ]


def test_department_and_channel_filters(loaded):
    none = run(loaded, departments="(none)")  # B (not closed) and C (closed without one)
    t = none.tiles
    assert t.initial_response_seconds.model_dump() == d(360.0, 360.0, 552.0, 2)  # [120, 600]
    assert t.response_seconds.count == 1 and t.resolution_seconds.count == 1
    assert t.csat.model_dump() == {"mean": 2.5, "count": 2}
    assert (t.successful_transfers, t.addressed_conversations, t.closed_conversations) == (1, 2, 1)
    assert none.data_quality.orphan_surveys == 1  # orphans match on channel only
    assert none.departments == ["(none)"]
    returns = run(loaded, departments="Returns").tiles  # A alone
    assert (returns.initial_response_seconds.count, returns.csat.count) == (1, 1)
    assert returns.previous.closed_conversations == 1  # F
    whatsapp = run(loaded, channels="whatsapp")  # B alone
    t = whatsapp.tiles
    assert (t.initial_response_seconds.mean, t.response_seconds.mean, t.csat.mean) == (
        120.0,
        600.0,
        2.0,
    )
    assert (t.successful_transfers, t.closed_conversations) == (0, 0)
    assert whatsapp.data_quality.orphan_surveys == 0
    assert [row.teammate_id for row in whatsapp.by_teammate] == ["bo"]


def test_percentiles_of_ten_values(store):
    s = Script("ten", "web_chat").customer_msg(loc(10, 8, 0)).teammate(loc(10, 8, 1), "amy")
    clock = 2
    for minutes in range(1, 11):  # ten waits answered in 1..10 minutes
        s.customer_msg(loc(10, 8 + clock // 60, clock % 60))
        clock += minutes
        s.teammate(loc(10, 8 + clock // 60, clock % 60), "amy")
        clock += 1
    load(store, s.events)
    # [60, 120, ..., 600]: mean 330; median at rank 4.5 = 300 + 0.5 * 60; p90 at rank 8.1
    assert run(store).tiles.response_seconds.model_dump() == d(330.0, 330.0, 546.0, 10)


MON_FRI_9_17 = {day: [["09:00", "17:00"]] for day in ("monday", "tuesday", "wednesday")} | {
    day: [["09:00", "17:00"]] for day in ("thursday", "friday")
}


def test_resolution_in_business_hours_across_a_weekend(store):
    # Escalated Friday 13th 16:00, closed Monday 16th 10:00: 66 h elapsed, of which Friday
    # 16:00-17:00 and Monday 09:00-10:00 are inside the hours: 7200 s. (The customer writes
    # every day, so the escalated conversation never goes 24 hours without an event.)
    s = Script("wkd", "web_chat").transfer(loc(13, 16, 0)).teammate(loc(13, 16, 30), "amy")
    s.customer_msg(loc(14, 15, 0)).customer_msg(loc(15, 14, 0)).customer_msg(loc(16, 9, 30))
    s.close(loc(16, 10, 0), who="amy")
    load(store, s.events)
    q = Query.build("w", timezone="America/Toronto", date_from="2026-11-16", date_to="2026-11-16")
    with_hours(store, MON_FRI_9_17)
    r = team.run(store, q)
    assert r.tiles.resolution_seconds.mean == 237_600.0
    assert r.tiles.resolution_business_seconds.model_dump() == d(7200.0, 7200.0, 7200.0, 1)
    with_hours(store, {"monday": []})
    no_span = team.run(store, q).tiles  # no span at all: "none set", 24/7
    assert no_span.resolution_business_seconds.mean == 237_600.0


def test_buckets_off_the_quarter_hours_place_each_instant(store):
    # Monrovia kept UTC-00:44:30 until 1972: its hours start at 44 min 30 s past a UTC hour,
    # off the 15-minute slots. Transfer at 10:44:00 UTC (09:59:30 there), amy answers at
    # 10:44:45 UTC (10:00:15 there): an initial response of 45 s in the 10:00 bucket (its
    # slot, 10:30 UTC, is 09:45:30 there: counted per slot, it would land at 09:00).
    s = Script("mo", "web_chat").customer_msg("1971-06-10T10:43:30Z")
    s.transfer("1971-06-10T10:44:00Z").teammate("1971-06-10T10:44:45Z", "amy")
    load(store, s.events)
    q = Query.build(
        "w", timezone="Africa/Monrovia", date_from="1971-06-10", date_to="1971-06-10",
        granularity="hour",
    )  # fmt: skip
    r = team.run(store, q)
    assert r.buckets[10] == "1971-06-10T10:00:00-00:44:30"
    assert r.efficiency.initial_response_seconds == [None] * 10 + [45.0] + [None] * 13
    assert r.tiles.initial_response_seconds.model_dump() == d(45.0, 45.0, 45.0, 1)


@pytest.mark.parametrize("viewer", ["UTC", "Europe/Paris", "Asia/Kathmandu"])
def test_business_hours_are_the_workspace_s_whatever_zone_the_report_is_asked_in(store, viewer):
    # The weekend case of the test above, asked from three other zones. The opening hours are
    # the Toronto workspace's 09:00-17:00 EST, wherever the viewer sits: 7200 s. (Read in UTC,
    # Friday 16:00 EST would be 21:00, closed, and Monday's 09:00-15:00 UTC would give 21600 s.)
    # The period, Monday 16th in the viewer's zone, holds the close (15:00 UTC) in all three.
    s = Script("wkd", "web_chat").transfer(loc(13, 16, 0)).teammate(loc(13, 16, 30), "amy")
    s.customer_msg(loc(14, 15, 0)).customer_msg(loc(15, 14, 0)).customer_msg(loc(16, 9, 30))
    s.close(loc(16, 10, 0), who="amy")
    load(store, s.events)
    with_hours(store, MON_FRI_9_17)
    q = Query.build("w", timezone=viewer, date_from="2026-11-16", date_to="2026-11-16")
    tiles = team.run(store, q).tiles
    assert tiles.resolution_seconds.mean == 237_600.0
    assert tiles.resolution_business_seconds.model_dump() == d(7200.0, 7200.0, 7200.0, 1)


def test_a_resolution_outside_every_span_counts_nothing(loaded):
    # Hours on Tuesdays from 10:05 only. A (Tuesday 10th, 10:01-10:10): 10:05-10:10 = 300 s;
    # C (Wednesday 11th, no span that day) counts 0 s, not its whole 1170 s.
    with_hours(loaded, {"tuesday": [["10:05", "17:00"]]})
    r = run(loaded)
    assert r.tiles.resolution_business_seconds.model_dump() == d(150.0, 150.0, 270.0, 2)
    assert r.tiles.resolution_seconds.mean == 855.0
    unknown = r.by_teammate[-1]
    assert unknown.teammate_id is None
    assert unknown.resolution_business_seconds.model_dump() == d(0.0, 0.0, 0.0, 1)


def test_resolution_in_business_hours_across_spring_forward(store):
    # Sunday 8 March 2026, Toronto skips 02:00-03:00. Hours: Sunday all day (24:00 end).
    # Escalated Saturday 23:00 EST, closed Sunday 05:00 EDT: 5 h elapsed; inside Sunday's
    # hours 00:00-05:00 local minus the skipped hour: 4 h.
    s = Script("dst", "web_chat").transfer(loc(7, 23, 0, month=3))
    s.teammate(loc(8, 1, 0, month=3), "amy").close(loc(8, 5, 0, month=3, off="-04:00"))
    load(store, s.events)
    q = Query.build("w", timezone="America/Toronto", date_from="2026-03-08", date_to="2026-03-08")
    with_hours(store, {"sunday": [["00:00", "24:00"]]})
    r = team.run(store, q)
    assert r.tiles.resolution_seconds.mean == 18_000.0
    assert r.tiles.resolution_business_seconds.mean == 14_400.0


def test_a_survey_attributed_to_nobody_counts_in_the_tile_and_in_no_row(store):
    # The chatbot alone, closed by an unknown teammate: the survey has no teammate; an
    # escalated conversation closed by an unknown teammate makes the unknown row, without it.
    alone = Script("al", "web_chat").customer_msg(loc(10, 9, 0)).close(loc(10, 9, 1))
    alone.csat(loc(10, 9, 5), 5, about="teammate")
    unknown = Script("un", "web_chat").transfer(loc(10, 11, 0)).close(loc(10, 11, 30))
    load(store, alone.events + unknown.events)
    r = run(store)
    assert r.tiles.csat.model_dump() == {"mean": 5.0, "count": 1}
    assert r.tiles.successful_transfers == 1
    assert [
        (row.teammate_id, row.csat.count, row.closed_conversations) for row in r.by_teammate
    ] == [(None, 0, 1)]


def test_team_csat_counts_the_surveys_about_teammates_only(store):
    # SPEC section 7: a survey rates what its `about` says, else a teammate when one wrote in
    # its conversation, else the chatbot. Bot-only, no about: the chatbot's (not here).
    # Escalated, no about: amy's. Escalated but about the chatbot: not here. Bot-only but
    # about the teammate who closed: bo's.
    bot_only = Script("a", "web_chat").customer_msg(loc(10, 9, 0)).bot(loc(10, 9, 1))
    bot_only.csat(loc(10, 9, 5), 1)
    helped = Script("b", "web_chat").customer_msg(loc(10, 10, 0)).teammate(loc(10, 10, 1), "amy")
    helped.csat(loc(10, 10, 5), 4)
    rated_bot = Script("c", "web_chat").transfer(loc(10, 11, 0)).teammate(loc(10, 11, 1), "amy")
    rated_bot.csat(loc(10, 11, 5), 2, about="chatbot")
    closed = Script("d", "web_chat").customer_msg(loc(10, 12, 0)).close(loc(10, 12, 1), None, "bo")
    closed.csat(loc(10, 12, 5), 5, about="teammate")
    load(store, bot_only.events + helped.events + rated_bot.events + closed.events)
    r = run(store)
    assert r.tiles.csat.model_dump() == {"mean": 4.5, "count": 2}
    assert r.csat_breakdown == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1}
    assert {row.teammate_id: row.csat.count for row in r.by_teammate} == {"amy": 1, "bo": 1}


def test_a_survey_days_after_its_conversation_counts_in_the_period_it_came(store):
    # Surveys belong to a conversation up to the CSAT window (7 days) after its end: one 6
    # days after amy's conversation counts on the day it came, with amy; one 8 days after is
    # an orphan, in no tile. (The page reads only the conversations that ended within the
    # window before the period: this is the edge of that bound.)
    late = Script("l", "web_chat").customer_msg(loc(3, 9, 0)).teammate(loc(3, 9, 1), "amy")
    late.close(loc(3, 9, 2), None, "amy").csat(loc(9, 9, 1), 4, about="teammate")
    too_late = Script("t", "web_chat").customer_msg(loc(1, 9, 0)).teammate(loc(1, 9, 1), "bo")
    too_late.close(loc(1, 9, 2), None, "bo").csat(loc(9, 9, 3), 1, about="teammate")
    load(store, late.events + too_late.events)
    q = Query.build("w", timezone="America/Toronto", date_from="2026-11-09", date_to="2026-11-09")
    r = team.run(store, q)
    assert r.tiles.csat.model_dump() == {"mean": 4.0, "count": 1}
    assert {row.teammate_id: row.csat.count for row in r.by_teammate} == {"amy": 1}
    assert r.data_quality.orphan_surveys == 1
