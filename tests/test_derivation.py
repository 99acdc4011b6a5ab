"""Landing and deriving decoupled (`ingest`, `conversations.derive`): a batch is acknowledged
once stored; its threads are derived later, together with the batches of that moment, and
before any read that would otherwise miss it; nothing acknowledged is lost on the way."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from helpers import Script, at, convs, load

from convoscope import conversations, drilldown, ingest
from convoscope.cli.common import open_store
from convoscope.pages import overview
from convoscope.query import Query
from convoscope.store import ROLLUP_TABLES, Store

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def _query() -> Query:
    return Query.build(
        "w", timezone="America/Toronto", now=NOW, date_from="2026-11-10", date_to="2026-11-10"
    )


def _thread(customer: str, start: float = 0) -> list[dict]:
    return (
        Script(customer)
        .welcome(at(start))
        .customer_msg(at(start + 1))
        .transfer(at(start + 2))
        .teammate(at(start + 3), "amy")
        .events
    )


def _surveys(store: Store) -> list:
    return store.con.execute("SELECT event_id, conversation_id FROM surveys ORDER BY 1").fetchall()


def _rollups(store: Store) -> list:
    return [store.con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in ROLLUP_TABLES]


def _deferred(store: Store) -> list[int]:
    """Make `store` land without deriving (as a server's does, its deriver asleep); the list
    counts the wakes."""
    wakes: list[int] = []
    store.wake_deriver = lambda: wakes.append(1)
    return wakes


def test_a_read_derives_what_was_acknowledged_before_it(store):
    wakes = _deferred(store)
    load(store, _thread("ann"))
    load(store, _thread("bob", 30))
    assert wakes == [1, 1] and store.pending
    assert convs(store) == []  # landed, not derived: the deriver has not run
    result = overview.run(store, _query())
    assert result.tiles.total_conversations == 2  # type: ignore[attr-defined]
    assert not store.pending
    load(store, _thread("cat", 60))
    filt = drilldown.ConversationFilter(_query())
    total, rows = drilldown.conversations(store, filt, limit=None, offset=0)
    assert total == 3 and {r["customer_id"] for r in rows} == {"ann", "bob", "cat"}


def test_a_read_derives_only_what_was_acknowledged_when_it_began(store):
    """`settle` derives up to the read's arrival number: later batches stay pending, though
    the re-cut read their events in its threads; deriving them after gives a rebuild's rows."""
    _deferred(store)
    load(store, _thread("ann"))
    needed = store.landed_seq
    later = Script("ann", prefix="ann-later-").customer_msg(at(5)).teammate(at(6), "amy")
    load(store, later.events + _thread("bob", 30))  # ann's conversation goes on; bob's starts
    conversations.derive(store, needed=needed)
    assert store.derived_seq == needed and store.pending
    assert [c["customer_id"] for c in convs(store)] == ["ann"]
    conversations.derive(store, needed=needed)  # covered already: nothing to do
    assert store.derived_seq == needed
    conversations.derive(store)
    assert not store.pending
    derived, rolled = convs(store), _rollups(store)
    assert [(c["customer_id"], c["teammate_messages"]) for c in derived] == [("ann", 2), ("bob", 1)]
    conversations.rebuild(store)
    assert convs(store) == derived and _rollups(store) == rolled


def test_the_lag_is_the_age_of_the_oldest_waiting_event(store):
    _deferred(store)
    assert store.derivation_lag() == 0
    load(store, _thread("ann"))
    time.sleep(0.05)
    load(store, _thread("bob", 30))
    assert store.derivation_lag() >= 0.05  # from ann's landing, not bob's
    conversations.derive(store)
    assert store.derivation_lag() == 0


def test_batches_land_while_a_derivation_runs(store):
    _deferred(store)
    load(store, _thread("ann"))
    inside, release = threading.Event(), threading.Event()

    def slow_derivation() -> None:
        with store.deriving() as d:
            conversations.refresh(d.con, conversations.touched(d.con, "seq > $a", {"a": d.after}))
            inside.set()
            release.wait(10)

    deriver = threading.Thread(target=slow_derivation)
    deriver.start()
    assert inside.wait(10)
    started = time.perf_counter()
    load(store, _thread("bob", 30))  # not blocked by the derivation's transaction
    landed_in = time.perf_counter() - started
    release.set()
    deriver.join()
    assert landed_in < 5
    assert store.pending  # bob landed after the derivation's snapshot
    conversations.settle(store)
    derived, rolled = convs(store), _rollups(store)
    conversations.rebuild(store)
    assert convs(store) == derived and _rollups(store) == rolled
    assert {c["customer_id"] for c in derived} == {"ann", "bob"}


def test_pending_events_survive_a_crash_and_are_derived_on_open(tmp_path):
    db = tmp_path / "crash.duckdb"
    with Store(db) as store:
        store.ensure_workspace("w", "America/Toronto")
        load(store, _thread("ann"))
        _deferred(store)
        load(store, _thread("bob", 30))
        assert store.pending
    # closed without deriving (a SIGKILL would leave the same file: the events are committed)
    with Store(db) as store:
        assert store.pending and len(convs(store)) == 1
    with open_store(db) as store:  # every command opens it so
        assert not store.pending
        derived, rolled = convs(store), _rollups(store)
        conversations.rebuild(store)
        assert convs(store) == derived and _rollups(store) == rolled and len(derived) == 2


def test_arrival_numbers_are_never_reused_after_an_erasure(store):
    load(store, _thread("ann"))
    load(store, _thread("bob", 30))  # the last numbers
    (top,) = store.con.execute("SELECT max(seq) FROM events").fetchone()
    ingest.erase_customer(store, "w", "bob")
    load(store, _thread("bob", 40))  # bob writes again: numbered above the watermark
    (lowest,) = store.con.execute(
        "SELECT min(seq) FROM events WHERE customer_id = 'bob'"
    ).fetchone()
    assert lowest > top
    assert {c["customer_id"] for c in convs(store)} == {"ann", "bob"}


def test_an_erasure_derives_the_pending_threads_too(store):
    wakes = _deferred(store)
    load(store, _thread("ann"))
    load(store, _thread("bob", 30))
    ingest.erase_customer(store, "w", "ann")
    assert wakes == [1, 1] and not store.pending
    assert [c["customer_id"] for c in convs(store)] == ["bob"]


def test_the_background_deriver_catches_up_and_derives_the_rest_on_stop(store):
    deriver = ingest.Deriver(store, delay=0.01)
    deriver.start()
    try:
        for i in range(5):
            load(store, _thread(f"c{i}", 10 * i))
        deadline = time.monotonic() + 10
        while store.pending and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not store.pending  # caught up without any read
        assert len(convs(store)) == 5
    finally:
        deriver.stop()
    store.wake_deriver = lambda: None
    load(store, _thread("late", 100))
    assert store.pending
    deriver = ingest.Deriver(store, delay=10)  # asleep: only stop() derives
    deriver.start()
    deriver.stop()
    assert not store.pending and len(convs(store)) == 6


def _tail_start(store: Store) -> list[tuple]:
    """Where the re-cut of the pending events would start, per thread (from_ts, from_id)."""
    con = store.con
    con.begin()  # look, then roll back: nothing derived
    try:
        conversations.new_tails(con, store.derived_seq, store.landed_seq)
        return con.execute("SELECT customer_id, from_ts, from_id FROM tails").fetchall()
    finally:
        con.rollback()


def test_a_returning_customer_is_re_cut_from_the_new_event_only(store):
    load(store, escalated("ann").events)
    _deferred(store)
    later = at(60 * 48)  # two days on: beyond the escalated inactivity (24 h)
    load(store, Script("ann", prefix="back-").customer_msg(later).events)
    ((customer, from_ts, from_id),) = _tail_start(store)
    assert (customer, from_id) == ("ann", "back-1")
    assert from_ts.isoformat() == later.removesuffix("+00:00")


# An escalated conversation, then new events that can change it: the re-cut of each starts at
# the conversation's first event (the lake's incremental runs replay them: test_lake_tails).
def escalated(customer: str) -> Script:
    return Script(customer).customer_msg(at(0)).transfer(at(1)).teammate(at(2), "amy")


TAIL_CASES = [
    (lambda s: s.customer_msg(at(60 * 20)), "within 24 h of an escalated conversation"),
    (lambda s: s.csat(at(60 * 48), 5), "a survey rates the conversation before it"),
    (lambda s: s.customer_msg(at(1, seconds=30)), "a late event inside the conversation"),
    # found by test_incremental_refresh_equals_full_recompute: a close two days on is an
    # orphan, so the survey after it still rates the conversation before
    (
        lambda s: s.close(at(60 * 48)).csat(at(60 * 48), 5),
        "an orphan close opens nothing: the survey after it rates the conversation before",
    ),
    (lambda s: s.identify(at(60 * 48), "c42"), "a commerce event opens nothing"),
]


@pytest.mark.parametrize(("new_event", "why"), TAIL_CASES)
def test_the_re_cut_starts_at_the_last_conversation_when_it_may_change(store, new_event, why):
    load(store, escalated("ann").events)
    _deferred(store)
    load(store, new_event(Script("ann", prefix="new-")).events)
    ((_, _, from_id),) = _tail_start(store)
    assert from_id == "web_chat-ann-1", why  # the conversation's first event
    conversations.settle(store)
    derived, rolled, surveys = convs(store), _rollups(store), _surveys(store)
    conversations.rebuild(store)
    assert convs(store) == derived and _rollups(store) == rolled, why
    assert surveys == _surveys(store), why


def test_a_bulk_file_is_checkpointed_then_re_cut_whole(store, monkeypatch):
    """Above `conversations.BULK` new events a landing writes its index entries out before
    the re-cut, which takes whole threads; the result is a rebuild's."""
    checkpoints: list[int] = []
    checkpoint = store.checkpoint
    monkeypatch.setattr(store, "checkpoint", lambda: (checkpoints.append(1), checkpoint()))
    monkeypatch.setattr(conversations, "BULK", 3)
    load(store, _thread("ann") + _thread("bob", 30))
    assert checkpoints == [1] and not store.pending
    load(store, _thread("cat", 60)[:2])  # two events: not a bulk
    assert checkpoints == [1]
    derived, rolled = convs(store), _rollups(store)
    conversations.rebuild(store)
    assert convs(store) == derived and _rollups(store) == rolled and len(derived) == 3


def test_the_api_reads_what_it_acknowledged_with_the_deriver_asleep(tmp_path):
    from fastapi.testclient import TestClient

    from convoscope import accounts
    from convoscope.web import create_app

    with Store(tmp_path / "api.duckdb") as store:
        store.ensure_workspace("w", "America/Toronto")
        key = accounts.create_key(store, "w", "test")
        with TestClient(create_app(store)) as c:
            store.wake_deriver = lambda: None  # the deriver sleeps: only reads derive
            c.headers["Authorization"] = f"Bearer {key}"
            events = Script("ann").customer_msg(at(0)).close(at(5), "Returns").events
            assert c.post("/v1/events", json=events).status_code == 200
            assert store.pending
            assert c.get("/v1/departments").json() == ["Returns"]
            assert not store.pending
            events = Script("bob", prefix="b-").customer_msg(at(1)).events
            assert c.post("/v1/events", json=events).status_code == 200
            period = {"from": "2026-11-10", "to": "2026-11-10"}
            tiles = c.get("/v1/overview", params=period).json()["tiles"]
            assert tiles["total_conversations"] == 2
            assert c.get("/healthz").json()["derivation_lag_seconds"] == 0
