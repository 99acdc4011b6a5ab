"""SPEC section 1: validation errors name the event and the field; batches are all or nothing;
duplicates are counted and conflicts refused."""

from __future__ import annotations

from decimal import Decimal
from itertools import product
from typing import get_args

import duckdb
import pyarrow as pa
import pytest
from helpers import Script, at, convs, load
from hypothesis import given
from hypothesis import strategies as st

from convoscope.event_fields import LIMITS, ConflictError, EventError, EventType, Sender, value_rule
from convoscope.events import RULES, Event, validate_batch

GOOD = {
    "event_id": "m-1",
    "ts": "2026-11-10T10:00:00-05:00",
    "channel": "web_chat",
    "customer_id": "c1",
    "type": "message",
    "sender": "customer",
}


def errors_of(record: dict) -> list[str]:
    with pytest.raises(EventError) as info:
        validate_batch([GOOD, record], "w")
    return [str(e) for e in info.value.errors]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"ts": "2026-11-10T10:00:00"}, 'event 1 (id "m-2"): ts: timestamp has no UTC offset'),
        ({"ts": "1731250800"}, 'event 1 (id "m-2"): ts: not an RFC 3339 timestamp'),
        ({"type": "note"}, 'event 1 (id "m-2"): type: Input should be'),
        ({"sender": None}, 'event 1 (id "m-2"): sender: is required for a message'),
        ({"type": "close"}, 'event 1 (id "m-2"): sender: is only allowed on a message'),
        (
            {"sender": "teammate"},
            'event 1 (id "m-2"): teammate_id: is required when sender is teammate',
        ),
        ({"welcome": True}, 'event 1 (id "m-2"): welcome: is only allowed on a chatbot message'),
        ({"department": "Sales"}, 'event 1 (id "m-2"): department: is only allowed on a close'),
        ({"channel": "Web Chat"}, 'event 1 (id "m-2"): channel: String should match pattern'),
        ({"customer_id": ""}, 'event 1 (id "m-2"): customer_id: String should have at least'),
        ({"colour": "blue"}, 'event 1 (id "m-2"): colour: unknown field'),
        ({"workspace": "other"}, "event 1 (id \"m-2\"): workspace: differs from the target 'w'"),
        ({"event_id": "x" * 129}, "event 1: event_id: String should have at most 128"),
    ],
)
def test_bad_event_names_index_id_and_field(change, expected):
    record = {**GOOD, "event_id": "m-2", **change}
    record = {k: v for k, v in record.items() if v is not None}
    assert any(e.startswith(expected) for e in errors_of(record)), errors_of(record)


def test_missing_fields_are_named():
    errs = errors_of({"event_id": "m-3"})
    assert 'event 1 (id "m-3"): ts: is required' in errs
    assert 'event 1 (id "m-3"): type: is required' in errs


def test_offsets_are_normalised_to_utc_microseconds(store):
    """The store keeps an instant as naive UTC to the microsecond, whatever its offset."""
    load(store, [{**GOOD, "ts": "2026-11-10T10:00:00.1234567+01:30"}])
    load(store, [{**GOOD, "event_id": "m-2", "ts": "2026-11-01T01:30:00-05:00"}])
    stored = store.con.execute("SELECT ts FROM events ORDER BY seq").fetchall()
    assert [ts.isoformat() for (ts,) in stored] == [
        "2026-11-10T08:30:00.123456",
        "2026-11-01T06:30:00",
    ]


def test_a_bad_batch_stores_nothing(store):
    with pytest.raises(EventError):
        load(store, [GOOD, {**GOOD, "event_id": "m-2", "type": "nope"}])
    assert store.con.execute("SELECT count(*) FROM events").fetchall() == [(0,)]


def test_duplicates_are_counted_and_ignored(store):
    events = Script().customer_msg(at(0)).customer_msg(at(1)).events
    assert load(store, events).accepted == 2
    again = load(store, [*events, {**events[0], "ts": at(0, seconds=0)}])
    assert (again.accepted, again.duplicates) == (0, 3)
    same_instant_other_offset = {**events[0], "ts": "2026-11-10T10:00:00-05:00"}
    assert load(store, [same_instant_other_offset]).duplicates == 1
    assert len(convs(store)) == 1


def test_conflicting_content_is_refused_and_nothing_stored(store):
    load(store, Script().customer_msg(at(0)).events)
    other = Script().customer_msg(at(5)).events  # same id web_chat-c1-1, other ts
    fresh = Script(customer="c9").customer_msg(at(1)).events
    with pytest.raises(ConflictError, match='"web_chat-c1-1"'):
        load(store, fresh + other)
    assert store.con.execute("SELECT count(*) FROM events").fetchall() == [(1,)]


def test_conflict_inside_one_batch(store):
    with pytest.raises(ConflictError, match='"m-1"'):
        load(store, [GOOD, {**GOOD, "customer_id": "c2"}])
    assert store.con.execute("SELECT count(*) FROM events").fetchall() == [(0,)]


def test_copies_inside_one_batch_compare_absent_fields_as_values(store):
    """Copies in one batch are one event when every field is equal, absent ones included
    (absent equals absent), and a conflict when a field is set in one copy only."""
    done = load(store, [GOOD, dict(GOOD), {**GOOD, "event_id": "m-2"}])
    assert (done.accepted, done.duplicates) == (2, 1)
    close = {**GOOD, "event_id": "m-3", "type": "close", "sender": None}
    with pytest.raises(ConflictError, match='"m-3"'):
        load(store, [close, {**close, "department": "sales"}])
    assert store.con.execute("SELECT count(*) FROM events").fetchall() == [(2,)]


def test_conflict_across_batches_of_one_file_stores_nothing(store):
    from convoscope import ingest

    batches = [validate_batch([GOOD], "w"), validate_batch([{**GOOD, "sender": "chatbot"}], "w")]
    with pytest.raises(ConflictError):
        ingest.store_batches(store, {"w": batches})
    assert store.con.execute("SELECT count(*) FROM events").fetchall() == [(0,)]


def test_same_id_in_two_workspaces_is_two_events(store):
    store.ensure_workspace("other")
    events = Script().customer_msg(at(0)).events
    assert load(store, events).accepted == 1
    assert load(store, events, workspace="other").accepted == 1


def test_csat_needs_a_whole_score_from_1_to_5_and_only_there():
    survey = {**GOOD, "event_id": "s-1", "type": "csat", "score": 4}
    survey.pop("sender")
    assert validate_batch([survey, {**survey, "event_id": "s-2", "score": "5"}], "w")[1].score == 5
    for change, expected in (
        ({"score": None}, "score: is required on a csat"),
        ({"score": 0}, "score: Input should be greater than or equal to 1"),
        ({"score": 6}, "score: Input should be less than or equal to 5"),
        ({"score": True}, "score: must be a whole number from 1 to 5"),
        ({"score": 4.5}, "score: Input should be a valid integer"),
        ({"sender": "customer"}, "sender: is only allowed on a message, not on csat"),
    ):
        record = {k: v for k, v in {**survey, **change}.items() if v is not None}
        with pytest.raises(EventError) as info:
            validate_batch([record], "w")
        assert any(expected in str(e) for e in info.value.errors), info.value
    with pytest.raises(EventError, match="score: is only allowed on a csat, not on message"):
        validate_batch([{**GOOD, "score": 5}], "w")
    assert validate_batch([{**GOOD, "score": None}], "w")[0].score is None  # null is absent
    with pytest.raises(EventError, match="type: is required"):  # found by schemathesis: was a 500
        validate_batch([{k: v for k, v in {**GOOD, "score": None}.items() if k != "type"}], "w")


_COMMERCE = (
    "type",
    "channel",
    "customer_id",
    "customer_ref",
    "order_id",
    "amount",
    "currency",
    "source",
    "test",
)
_NO_COMMERCE = (
    {"channel": "web_chat", "customer_id": "c"} | dict.fromkeys(_COMMERCE[3:-1]) | {"test": False}
)
_NO_CHAT = {"sender": None, "teammate_id": None, "welcome": False, "department": None}
_NO_CHAT |= {"score": None, "flow": None, "flow_type": None, "step": None, "flow_end": False}
_NO_CHAT |= {"fallback": False, "about": None}


def test_each_rule_means_the_same_in_python_and_in_sql():
    """The rule table (`events.RULES`, `LIMITS`) is written twice, for records and for
    columns: on every combination of the fields the rules read, both agree (the SQL as DuckDB
    runs it in the bulk check; Spark runs its transpiled text on a lake)."""
    combos = [
        {"type": kind, "sender": sender, "teammate_id": mate, "welcome": welcome}
        | {"department": department, "score": score}
        | dict(
            zip(("flow", "flow_type", "step", "flow_end", "fallback", "about"), flows, strict=True)
        )
        for kind, sender, mate, welcome, department, score, *flows in product(
            ("message", "transfer_request", "close", "csat"),
            (None, "customer", "chatbot", "teammate"),
            (None, "t1"),
            (False, True),
            (None, "Sales"),
            (None, 0, 3, 9),
            (None, "orders"),
            (None, "support"),
            (None, "ask"),
            (False, True),
            (False, True),
            (None, "chatbot"),
        )
    ]
    base = {"event_id": "e", "ts": "2026-11-10T15:00:00Z", "channel": "web_chat"}
    events = [Event.model_construct(**base, customer_id="c", **c) for c in combos]
    con = duckdb.connect()
    con.register("combos", pa.Table.from_pylist([{**c, **_NO_COMMERCE} for c in combos]))
    # and the commerce fields (SPEC section 8) on every type, the others absent
    purchases = [
        dict(zip(_COMMERCE, values, strict=True))
        for values in product(
            get_args(EventType),
            (None, "web_chat"),
            (None, "c"),
            (None, "r"),
            (None, "O1"),
            (None, "0", "5.00"),
            (None, "CAD"),
            (None, "chat"),
            (False, True),
        )
    ]
    commerce = [
        Event.model_construct(
            event_id="e", ts=base["ts"], **{**p, "amount": p["amount"] and Decimal(p["amount"])}
        )
        for p in purchases
    ]
    con.register("purchases", pa.Table.from_pylist([{**p, **_NO_CHAT} for p in purchases]))
    for rule in RULES:
        for table, records in (("combos", events), ("purchases", commerce)):
            sql = f"SELECT coalesce({rule.sql}, false) FROM {table}"
            in_sql = [r[0] for r in con.execute(sql).fetchall()]
            assert in_sql == [rule.holds(e) for e in records], (table, rule.message)
            # a rule is checked only on the types it can fail on (`Rule.types`)
            others = [e for e in records if rule.types and e.type not in rule.types]
            assert all(rule.holds(e) for e in others), (table, rule.message)
    sql = f"SELECT {value_rule('score', 'score')} FROM combos"
    in_sql = [r[0] for r in con.execute(sql).fetchall()]
    assert in_sql == [None if c["score"] is None else 1 <= c["score"] <= 5 for c in combos]
    for field, values in (("type", get_args(EventType)), ("sender", get_args(Sender))):
        rule = value_rule(field, "v")
        allowed = con.execute(
            f"SELECT v FROM unnest(['{field}', 'fax', ?]) AS t(v) WHERE {rule}", [values[0]]
        )
        assert [r[0] for r in allowed.fetchall()] == [values[0]]


_AN_ORDER = {"type": "order", "sender": None, "order_id": "O1", "amount": "1.00", "currency": "CAD"}
# A record in which each field's value is allowed by the cross-field rules, whatever it is.
_CONTEXT = {
    "teammate_id": {"sender": "teammate"},
    "department": {"type": "close", "sender": None},
    "score": {"type": "csat", "sender": None},
    "type": {"sender": None, "score": 3},
    "flow": {"sender": "chatbot"},
    "flow_type": {"sender": "chatbot", "flow": "orders"},
    "step": {"sender": "chatbot", "flow": "orders"},
    "about": {"type": "csat", "sender": None, "score": 3},
    "customer_ref": {"type": "identify", "sender": None},
    **{key: _AN_ORDER for key in ("order_id", "amount", "currency", "source")},
}


@given(
    field=st.sampled_from(sorted(LIMITS)),
    value=st.one_of(
        st.sampled_from(["", "a", "a" * 40, "a" * 41, "a" * 128, "a" * 129, "é" * 256, "é" * 257]),
        st.sampled_from(["web_chat", "Web", "web-chat", "web_chat\n", "fax", "close", "chatbot"]),
        st.text(max_size=300).filter(lambda t: t.strip()),
        st.integers(-1, 7),
    ),
)
def test_each_fields_limits_mean_the_same_to_the_model_and_in_sql(field, value):
    """`event_fields.LIMITS` makes both the model's bounds and the column checks' SQL: on any
    value, the model names the field exactly when the SQL refuses the value."""
    if isinstance(value, int) != (field == "score") or (field == "department" and not value):
        return  # other types are the model's business; a blank department is no department
    record = {**GOOD, **_CONTEXT.get(field, {}), field: value}
    try:
        validate_batch([record], "w")
        named = False
    except EventError as exc:
        named = any(e.field == field for e in exc.errors)
    (in_sql,) = duckdb.execute(f"SELECT {value_rule(field, '$v')}", {"v": value}).fetchone()
    assert in_sql is not named, (field, value)
