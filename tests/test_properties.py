"""Property tests: random event scripts against an independent walk of the rules, and the
invariants of SPEC section 5 (arrival order, batch size, retries, sums, channel partition)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from helpers import examples
from hypothesis import given
from hypothesis import strategies as st
from reference import about, chatbot_tiles, flows, surveys, team_tiles, waits, walk

from convoscope import conversations
from convoscope import ingest as write
from convoscope.events import validate_batch
from convoscope.pages import chatbot, overview, sources, team
from convoscope.query import Query
from convoscope.store import ROLLUP_TABLES, Store
from convoscope.store import append as store_append

START = datetime(2026, 11, 10, 14, 0, tzinfo=UTC)
GAPS = [
    timedelta(0),
    timedelta(seconds=1),
    timedelta(minutes=3),
    timedelta(minutes=10),
    timedelta(minutes=10, seconds=1),
    timedelta(hours=3),
    timedelta(hours=9),
    timedelta(hours=24),
    timedelta(hours=24, seconds=1),
    timedelta(days=7),
]
KINDS = [
    {"type": "message", "sender": "customer"},
    {"type": "message", "sender": "chatbot"},
    {"type": "message", "sender": "chatbot", "welcome": True},
    {"type": "message", "sender": "teammate", "teammate_id": "t1"},
    {"type": "message", "sender": "teammate", "teammate_id": "t2"},
    {"type": "transfer_request"},
    {"type": "close", "teammate_id": "t3", "department": "Returns"},
    {"type": "close"},
    {"type": "csat", "score": 5},
    {"type": "csat", "score": 2},
    # the chatbot's flows (SPEC section 7)
    {
        "type": "message",
        "sender": "chatbot",
        "flow": "orders",
        "flow_type": "support",
        "step": "ask",
    },
    {"type": "message", "sender": "chatbot", "flow": "orders", "step": "status", "flow_end": True},
    {
        "type": "message",
        "sender": "chatbot",
        "flow": "search",
        "flow_type": "sales",
        "fallback": True,
    },
    {"type": "message", "sender": "chatbot", "fallback": True},
    {"type": "csat", "score": 4, "about": "chatbot"},
    {"type": "csat", "score": 3, "about": "teammate"},
]
THREADS = [("web_chat", "c1"), ("web_chat", "c2"), ("whatsapp", "c1")]

step = st.tuples(
    st.sampled_from(range(len(THREADS))), st.sampled_from(GAPS), st.sampled_from(range(len(KINDS)))
)


@st.composite
def scripts(draw, distinct_times: bool = False) -> list[dict]:
    """Events of up to three threads; with `distinct_times`, no two share a thread timestamp."""
    clocks = [START] * len(THREADS)
    events = []
    for n, (thread, gap, kind) in enumerate(draw(st.lists(step, min_size=1, max_size=30))):
        if distinct_times and gap == timedelta(0):
            gap = timedelta(seconds=1)
        clocks[thread] += gap
        channel, customer = THREADS[thread]
        events.append(
            {
                "event_id": f"e{n}",
                "ts": clocks[thread].isoformat(),
                "channel": channel,
                "customer_id": customer,
                **KINDS[kind],
            }
        )
    return events


def fresh_store() -> Store:
    store = Store(":memory:")
    store.ensure_workspace("w", "America/Toronto")
    return store


def ingest(store: Store, batches: list[list[dict]]) -> None:
    for batch in batches:
        write.store_events(store, "w", validate_batch(batch, "w"))


def stored(store: Store) -> list[dict]:
    cur = store.con.execute(  # a total order: two conversations may start at one instant
        "SELECT * EXCLUDE (thread_key) FROM conversations "
        "ORDER BY channel, customer_id, started_at, ended_at, conversation_id"
    )
    names = [d[0] for d in cur.description]
    fetched = cur.fetchall()
    teammates: dict[str, list[str]] = {}
    for cid, tid in store.con.execute(
        "SELECT conversation_id, teammate_id FROM conversation_teammates ORDER BY 2"
    ).fetchall():
        teammates.setdefault(cid, []).append(tid)
    rows = []
    for row in fetched:
        d = dict(zip(names, row, strict=True))
        d.pop("workspace")
        d["teammates"] = teammates.get(d["conversation_id"], [])
        rows.append(d)
    return rows


def orphans(store: Store) -> list[str]:
    return sorted(r[0] for r in store.con.execute("SELECT event_id FROM orphan_closes").fetchall())


def stored_flows(store: Store) -> list[tuple]:
    return store.con.execute(
        "SELECT conversation_id, flow, sent_type, completed, first_at, last_at, last_step, "
        "fallbacks FROM conversation_flows ORDER BY ALL"
    ).fetchall()


def stored_abouts(store: Store) -> dict[str, str | None]:
    return dict(
        store.con.execute(
            "SELECT event_id, about FROM surveys WHERE conversation_id IS NOT NULL"
        ).fetchall()
    )


def expected_abouts(events: list[dict]) -> dict[str, str]:
    facts = {c["conversation_id"]: c for c in walk(events)[0]}
    first = {}
    for e in events:
        first.setdefault(e["event_id"], e)
    return {
        sid: about(first[sid], facts[cid])
        for sid, cid in surveys(events).items()
        if cid is not None
    }


def stored_waits(store: Store) -> list[tuple]:
    return store.con.execute(
        "SELECT conversation_id, waited_from, answered_at, teammate_id, response_us "
        "FROM response_waits ORDER BY ALL"
    ).fetchall()


def stored_surveys(store: Store) -> dict[str, str | None]:
    return dict(store.con.execute("SELECT event_id, conversation_id FROM surveys").fetchall())


def rollup_rows(store: Store) -> list[list[tuple]]:
    """Every rollup row, in a total order (rows at zero are never kept)."""
    return [
        store.con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
        for table in ROLLUP_TABLES
    ]


def key(c: dict) -> tuple:
    return (c["channel"], c["customer_id"], c["started_at"], c["conversation_id"])


SETTINGS = examples()

FILTERS = [
    {},
    {"channels": "web_chat"},
    {"teammates": "t1"},
    {"teammates": "t2,t3"},
    {"departments": "Returns"},
    {"departments": "(none)"},
    {"channels": "whatsapp", "departments": "(none)"},
]


@SETTINGS
@given(scripts())
def test_sql_rules_match_an_independent_walk(events):
    store = fresh_store()
    ingest(store, [events])
    expected, expected_orphans = walk(events)
    assert stored(store) == sorted(expected, key=key)
    assert orphans(store) == sorted(expected_orphans)
    assert stored_surveys(store) == surveys(events)
    assert stored_waits(store) == waits(events)
    assert stored_flows(store) == flows(events)
    assert stored_abouts(store) == expected_abouts(events)


@SETTINGS
@given(
    scripts(distinct_times=True),
    st.randoms(use_true_random=False),
    st.integers(min_value=1, max_value=7),
    st.integers(min_value=0, max_value=2),
)
def test_arrival_order_batches_and_retries_do_not_change_results(events, rnd, size, retries):
    reference = fresh_store()
    ingest(reference, [events])
    shuffled = events[:]
    rnd.shuffle(shuffled)
    batches = [shuffled[i : i + size] for i in range(0, len(shuffled), size)]
    for _ in range(retries):  # re-send some batches, as a client retrying after a timeout
        batches.insert(rnd.randrange(len(batches) + 1), rnd.choice(batches))
    store = fresh_store()
    ingest(store, batches)
    assert stored(store) == stored(reference)
    assert orphans(store) == orphans(reference)
    assert stored_surveys(store) == stored_surveys(reference)
    assert stored_waits(store) == stored_waits(reference)
    assert stored_flows(store) == stored_flows(reference)
    assert rollup_rows(store) == rollup_rows(reference)
    q = Query.build("w", timezone="America/Toronto", date_from="2026-11-09", date_to="2026-11-14")
    assert overview.run(store, q) == overview.run(reference, q)
    assert team.run(store, q) == team.run(reference, q)
    assert chatbot.run(store, q) == chatbot.run(reference, q)


@SETTINGS
@given(scripts(), st.integers(min_value=1, max_value=5))
def test_incremental_refresh_equals_full_recompute(events, size):
    store = fresh_store()
    ingest(store, [events[i : i + size] for i in range(0, len(events), size)])

    def derived() -> tuple:
        rows = stored(store), orphans(store), stored_surveys(store), stored_waits(store)
        return (*rows, stored_flows(store), stored_abouts(store), rollup_rows(store))

    incremental = derived()
    conversations.rebuild(store)
    assert derived() == incremental


@SETTINGS
@given(
    scripts(),
    st.integers(min_value=1, max_value=5),
    st.lists(st.booleans(), min_size=12),
    st.sampled_from([0, conversations.BULK]),
)
def test_deferred_derivation_equals_deriving_each_batch(events, size, derive_after, bulk):
    """A server's deriver derives the batches of a moment together (`ingest.Deriver`): with
    any grouping of the batches, the derived tables are those of deriving each one at once,
    whether each thread is re-cut from its tail or whole (`conversations.BULK`)."""
    each = fresh_store()
    batches = [events[i : i + size] for i in range(0, len(events), size)]
    ingest(each, batches)
    grouped = fresh_store()
    grouped.wake_deriver = lambda: None  # landing only; derived where the test says
    kept, conversations.BULK = conversations.BULK, bulk
    try:
        for batch, derive in zip(batches, derive_after * len(batches), strict=False):
            ingest(grouped, [batch])
            if derive:
                conversations.derive(grouped)
        conversations.settle(grouped)
    finally:
        conversations.BULK = kept
    assert not grouped.pending
    assert stored(grouped) == stored(each)
    assert rollup_rows(grouped) == rollup_rows(each)
    assert stored_flows(grouped) == stored_flows(each)


@SETTINGS
@given(scripts(), st.randoms(use_true_random=False), st.integers(min_value=1, max_value=5))
def test_erasure_moves_rollups_as_if_the_customer_never_wrote(events, rnd, size):
    shuffled = events[:]
    rnd.shuffle(shuffled)  # late events merge and split conversations along the way
    store = fresh_store()
    ingest(store, [shuffled[i : i + size] for i in range(0, len(shuffled), size)])
    write.erase_customer(store, "w", "c1")
    reference = fresh_store()  # in the same arrival order: it breaks ties at one instant
    ingest(reference, [[e for e in shuffled if e["customer_id"] != "c1"]])
    assert stored(store) == stored(reference)
    assert rollup_rows(store) == rollup_rows(reference)


# Zones whose offsets are whole hours, and +05:45 (a quarter-hour: still on the 15-minute slots).
ZONES = ["America/Toronto", "Asia/Kathmandu", "UTC"]


@SETTINGS
@given(
    scripts(),
    st.randoms(use_true_random=False),
    st.sampled_from(["day", "hour", "week"]),
    st.sampled_from(ZONES),
    st.sampled_from([f for f in FILTERS if "teammates" not in f]),
)
def test_rollups_answer_like_the_rows(events, rnd, granularity, zone, filters):
    shuffled = events[:]
    rnd.shuffle(shuffled)
    store = fresh_store()
    ingest(store, [shuffled[i : i + 3] for i in range(0, len(shuffled), 3)])
    q = Query.build(
        "w",
        timezone=zone,
        date_from="2026-11-10",
        date_to="2026-11-17",
        granularity=granularity,
        **filters,
    )
    assert sources.series_from_rollups(q)
    assert overview.run(store, q) == overview.run(store, q, rollups=False)
    # In progress: the previous period is compared up to the same minute, off the slots (its
    # tiles add the conversations of the partial last slot to the sums of the whole ones).
    minute = START + timedelta(days=7, minutes=rnd.randrange(10 * 60), seconds=rnd.randrange(60))
    q = Query.build("w", timezone=zone, period="last_7_days", now=minute, **filters)
    assert overview.run(store, q) == overview.run(store, q, rollups=False)


@SETTINGS
@given(scripts(), st.integers(min_value=1, max_value=5))
def test_threads_sharing_a_key_are_cut_as_if_alone(events, size):
    # Thread keys are digests: two threads may share one. Give every thread of the script the
    # same key: each write then re-derives them all, and nothing may change.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store_append, "thread_key", lambda alias="": "CAST(7 AS UBIGINT)")
        store = fresh_store()
        ingest(store, [events[i : i + size] for i in range(0, len(events), size)])
    assert store.con.execute("SELECT DISTINCT thread_key FROM events").fetchall() == [(7,)]
    expected, expected_orphans = walk(events)
    assert stored(store) == sorted(expected, key=key)
    assert orphans(store) == sorted(expected_orphans)
    assert stored_surveys(store) == surveys(events)
    assert stored_waits(store) == waits(events)


@SETTINGS
@given(
    scripts(),
    st.sampled_from(["day", "hour", "week"]),
    st.sampled_from(
        [("2026-11-10", "2026-11-10"), ("2026-11-09", "2026-11-12"), ("2026-11-11", "2026-11-30")]
    ),
)
def test_invariants_of_section_5(events, granularity, days):
    store = fresh_store()
    ingest(store, [events])
    q = Query.build(
        "w", timezone="America/Toronto", date_from=days[0], date_to=days[1], granularity=granularity
    )
    r = overview.run(store, q)
    t = r.tiles
    assert sum(r.engagement.engaged) + sum(r.engagement.non_engaged) == t.total_conversations
    assert sum(r.engagement.engaged) == t.engaged_conversations
    assert r.support_type.all.teammate + r.support_type.all.chatbot == t.total_conversations
    assert (
        r.support_type.engaged.teammate + r.support_type.engaged.chatbot == t.engaged_conversations
    )
    closed = store.con.execute(
        "SELECT count(*) FROM conversations WHERE closed_at >= ? AND closed_at < ?",
        [q.period.start, q.period.end],
    ).fetchall()[0][0]
    assert sum(d.conversations for d in r.closed_by_department) == closed
    parts = [
        overview.run(
            store,
            Query.build(
                "w",
                timezone="America/Toronto",
                date_from=days[0],
                date_to=days[1],
                granularity=granularity,
                channels=ch,
            ),
        )
        for ch in ("web_chat", "whatsapp")
    ]
    for field in ("total_conversations", "engaged_conversations"):
        assert sum(getattr(p.tiles, field) for p in parts) == getattr(t, field)
    for series in ("engaged", "non_engaged"):
        summed = [sum(x) for x in zip(*(getattr(p.engagement, series) for p in parts), strict=True)]
        assert summed == getattr(r.engagement, series)
    assert sum(p.data_quality.orphan_closes for p in parts) == r.data_quality.orphan_closes
    assert sum(p.data_quality.orphan_surveys for p in parts) == r.data_quality.orphan_surveys
    assert date.fromisoformat(r.period["from"]) == q.period.first


# Business hours for the team walk: none, weekdays, a span that starts mid-morning on one day
# only (a resolution on another day counts nothing), and every day.
HOURS = [
    None,
    {d: [["09:00", "17:00"]] for d in ("monday", "tuesday", "wednesday", "thursday", "friday")},
    {"wednesday": [["10:15", "12:00"], ["13:00", "24:00"]]},
    {d: [["00:00", "24:00"]] for d in ("monday", "tuesday", "wednesday", "thursday", "friday")}
    | {"saturday": [["00:00", "24:00"]], "sunday": [["00:00", "24:00"]]},
]


@SETTINGS
@given(
    scripts(),
    st.sampled_from(FILTERS),
    st.sampled_from(["2026-11-10", "2026-11-11"]),
    st.sampled_from(HOURS),
)
def test_team_tiles_match_an_independent_walk(events, filters, first_day, hours):
    store = fresh_store()
    store.update_workspace("w", timezone="America/Toronto", business_hours=hours)
    ingest(store, [events])
    q = Query.build(
        "w", timezone="America/Toronto", date_from=first_day, date_to="2026-11-13", **filters
    )
    selected = [e for e in events if filters.get("channels") in (None, e["channel"])]
    departments = filters.get("departments")

    def walked(start: datetime, end: datetime) -> dict:
        return team_tiles(
            selected,
            start,
            end,
            departments=None
            if departments is None
            else {None if departments == "(none)" else departments},
            teammates=set(filters["teammates"].split(",")) if "teammates" in filters else None,
            hours=hours,
        )

    tiles = team.run(store, q).tiles.model_dump()
    previous = tiles.pop("previous")
    assert tiles == walked(q.period.start, q.period.end)
    # the previous period's tiles come from the same statement, told apart by their time
    assert previous == walked(q.previous.start, q.previous.end)


CHATBOT_FILTERS = [
    {},
    {"channels": "whatsapp"},
    {"departments": "(none)"},
    {"departments": "Returns"},
    {"flows": "orders"},
    {"flows": "(none)"},
    {"flows": "search,(none)"},
    {"flow_types": "sales"},
    {"flow_types": "support,(none)"},
    {"flow_types": "campaign"},
]
CATALOGUES = [{}, {"orders": "campaign"}, {"search": "support", "orders": "other"}]


@SETTINGS
@given(
    scripts(),
    st.sampled_from(CHATBOT_FILTERS),
    st.sampled_from(CATALOGUES),
    st.sampled_from([START + timedelta(hours=h) for h in (0, 3, 30, 24 * 30)]),
)
def test_chatbot_tiles_match_an_independent_walk(events, filters, catalogue, now):
    """SPEC section 7 walked in Python against the page, at several request times (what may
    still go on changes), under every filter and with the catalogue re-typing flows; and the
    section's invariants on the page itself."""
    store = fresh_store()
    store.update_workspace("w", flow_types=catalogue)
    ingest(store, [events])
    q = Query.build(
        "w", timezone="America/Toronto", date_from="2026-11-09", date_to="2026-11-20",
        now=now, **filters,
    )  # fmt: skip
    selected = [e for e in events if filters.get("channels") in (None, e["channel"])]

    def names(key: str) -> set | None:
        return set(filters[key].split(",")) if key in filters else None

    departments = names("departments")

    def walked(start: datetime, end: datetime) -> dict:
        return chatbot_tiles(
            selected,
            start,
            end,
            now.replace(tzinfo=None),
            catalogue=catalogue,
            departments=None
            if departments is None
            else {None if d == "(none)" else d for d in departments},
            flows_chosen=names("flows"),
            types_chosen=names("flow_types"),
        )

    result = chatbot.run(store, q)
    tiles = result.tiles.model_dump()
    tiles.pop("previous")
    first = {k: v for k, v in result.first_flow_type.model_dump().items() if v}
    assert {**tiles, "first_flow_type": first} == walked(q.period.start, q.period.end)
    # the previous period's tiles come from the same statements, told apart by their time
    later = Query.build(
        "w", timezone="America/Toronto", date_from="2026-11-11", date_to="2026-11-12",
        now=now, **filters,
    )  # fmt: skip
    expected = walked(later.previous.start, later.previous.end)
    expected.pop("first_flow_type")
    assert chatbot.run(store, later).tiles.previous.model_dump() == expected
    # section 7's invariants
    t = result.tiles
    assert t.automated + t.abandoned_in_flow + t.transferred == t.handled
    outcomes = result.outcomes.model_dump()
    assert sum(map(sum, outcomes.values())) == t.bot_conversations
    assert sum(result.first_flow_type.model_dump().values()) == t.handled
    last = result.transfers_by_last_flow
    assert sum(r.conversations for r in last.top) + last.other_flows + last.no_flow == t.transferred
    assert sum(r.abandoned for r in result.dialog_performance) == t.abandoned_in_flow
    team_count = team.run(store, Query.build(
        "w", timezone="America/Toronto", date_from="2026-11-09", date_to="2026-11-20",
        channels=filters.get("channels"), departments=filters.get("departments"),
    )).tiles.csat.count  # fmt: skip
    if "flows" not in filters and "flow_types" not in filters:  # every survey is one or other
        facts = {c["conversation_id"]: c for c in walk(selected)[0]}
        ts = {e["event_id"]: datetime.fromisoformat(e["ts"]) for e in selected}
        placed = [
            sid
            for sid, cid in surveys(selected).items()
            if cid is not None
            and q.period.start <= ts[sid].astimezone(UTC).replace(tzinfo=None) < q.period.end
            and (departments is None or facts[cid]["department"] in _departments(departments))
        ]
        assert t.csat.count + team_count == len(placed)


def _departments(chosen: set[str]) -> set[str | None]:
    return {None if d == "(none)" else d for d in chosen}


@st.composite
def resolutions(draw) -> list[dict]:
    """Escalated conversations closed within 23 hours, starting over five days (a weekend
    included), at any second: the business time of their resolutions is the point."""
    events = []
    for n in range(draw(st.integers(1, 6))):
        start = START + timedelta(seconds=draw(st.integers(0, 5 * 86_400)))
        length = timedelta(seconds=draw(st.integers(1, 23 * 3600)))
        base = {"channel": "web_chat", "customer_id": f"r{n}"}
        events += [
            {**base, "event_id": f"r{n}-t", "ts": start.isoformat(), "type": "transfer_request"},
            {**base, "event_id": f"r{n}-c", "ts": (start + length).isoformat(), "type": "close"},
        ]
    return events


@SETTINGS
@given(resolutions(), st.sampled_from(HOURS[1:]))
def test_business_time_of_resolutions_matches_a_quarter_hour_walk(events, hours):
    store = fresh_store()
    store.update_workspace("w", timezone="America/Toronto", business_hours=hours)
    ingest(store, [events])
    q = Query.build("w", timezone="America/Toronto", date_from="2026-11-10", date_to="2026-11-16")
    expected = team_tiles(events, q.period.start, q.period.end, hours=hours)
    tiles = team.run(store, q).tiles
    assert tiles.resolution_business_seconds.model_dump() == expected["resolution_business_seconds"]


@SETTINGS
@given(scripts(), st.sampled_from(["day", "hour"]), st.sampled_from(FILTERS))
def test_team_invariants(events, granularity, filters):
    store = fresh_store()
    ingest(store, [events])
    kw = {"timezone": "America/Toronto", "date_from": "2026-11-10", "date_to": "2026-11-11"}
    r = team.run(store, Query.build("w", granularity=granularity, **kw, **filters))
    t = r.tiles
    assert sum(r.csat_breakdown.values()) == t.csat.count
    assert sum(row.closed_conversations for row in r.by_teammate) == t.closed_conversations
    assert t.closed_conversations == t.resolution_seconds.count
    buckets_with_data = [v for v in r.efficiency.resolution_seconds if v is not None]
    assert bool(buckets_with_data) == (t.resolution_seconds.count > 0)
    if "departments" in filters or "channels" in filters:
        return
    whole = overview.run(store, Query.build("w", **kw, **filters))
    parts = [
        team.run(store, Query.build("w", departments=d, **kw, **filters))
        for d in ("Returns", "(none)")
    ]
    views = [
        overview.run(store, Query.build("w", departments=d, **kw, **filters))
        for d in ("Returns", "(none)")
    ]
    for field in ("closed_conversations", "successful_transfers", "addressed_conversations"):
        assert sum(getattr(p.tiles, field) for p in parts) == getattr(t, field)
    assert sum(p.tiles.csat.count for p in parts) == t.csat.count
    assert sum(v.tiles.total_conversations for v in views) == whole.tiles.total_conversations
    for series in ("teammate", "chatbot", "customer"):
        summed = [sum(x) for x in zip(*(getattr(v.messages, series) for v in views), strict=True)]
        assert summed == getattr(whole.messages, series)


def test_workspaces_never_see_each_other():
    store = fresh_store()
    store.ensure_workspace("other")
    event = {
        "event_id": "x",
        "ts": START.isoformat(),
        "channel": "web_chat",
        "customer_id": "c",
        "type": "message",
        "sender": "customer",
    }
    write.store_events(store, "other", validate_batch([event], "other"))
    q = Query.build("w", timezone="America/Toronto", date_from="2026-11-10", date_to="2026-11-10")
    assert overview.run(store, q).tiles.total_conversations == 0
    q2 = Query.build(
        "other", timezone="America/Toronto", date_from="2026-11-10", date_to="2026-11-10"
    )
    assert overview.run(store, q2).tiles.total_conversations == 1


@SETTINGS
@given(
    scripts(),
    st.randoms(use_true_random=False),
    st.sampled_from(["day", "hour", "week"]),
    st.sampled_from(ZONES),
    st.sampled_from([(team, f) for f in FILTERS] + [(chatbot, f) for f in CHATBOT_FILTERS[:5]]),
)
def test_pages_place_per_slot_as_per_instant(events, rnd, granularity, zone, page_filters):
    # Team Performance and Chatbot Performance count a bucket's rows per 15-minute slot when
    # every bucket starts on one; per instant they must find the same, whole days or up to a
    # minute off the slots.
    page, filters = page_filters
    store = fresh_store()
    ingest(store, [events])
    minute = START + timedelta(days=1, minutes=rnd.randrange(24 * 60), seconds=rnd.randrange(60))
    for q in (
        Query.build("w", timezone=zone, date_from="2026-11-09", date_to="2026-11-12",
                    granularity=granularity, now=minute + timedelta(days=30), **filters),
        Query.build("w", timezone=zone, period="today", now=minute, granularity="hour", **filters),
    ):  # fmt: skip
        assert sources.starts_on_slots(q)
        per_slot = page.run(store, q)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(sources, "starts_on_slots", lambda query: False)
            assert page.run(store, q) == per_slot
