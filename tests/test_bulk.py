"""The set-based check of files (`bulk`) against the per-record model (`events.validate_batch`).

The contract: when `bulk` stages a file, the per-record path accepts it too and stages the very
same rows (values, order, keys); when the per-record path rejects a file, `bulk` stages
nothing (and the import then reports the per-record path's errors). Random records mix valid
values with every kind of near-miss the model has a rule for.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import examples
from hypothesis import assume, given
from hypothesis import strategies as st

from convoscope import bulk, demo, ingest
from convoscope.adapters.files import read_events
from convoscope.event_fields import EventError
from convoscope.events import Event, validate_batch
from convoscope.store import Staging, Store

WS = "w"
BASE = {
    "message": {"sender": "customer"},
    "transfer_request": {},
    "close": {"teammate_id": "amelie", "department": "Orders"},
    "csat": {"score": 4},
}
# The commerce events (SPEC section 8), drawn by `records` but left out of `canonical`.
COMMERCE = {
    "identify": {"customer_ref": "shopper-1"},
    "order": {"order_id": "O1", "amount": "12.50", "currency": "CAD"},
    "refund": {"order_id": "O1", "amount": "1", "currency": "CAD", "channel": None,
               "customer_id": None},
}  # fmt: skip
VARIANTS: dict[str, list[Any]] = {
    "event_id": ["", "x" * 128, "x" * 129, "é" * 128, "é" * 129, 5, b"e", None],
    "ts": [
        "2026-11-01T09:30:00Z",
        "2026-11-01T09:30:00.5+05:45",
        "2026-03-08T02:30:00.123456-05:00",
        "2026-11-01T09:30:00-00:00",
        "2026-11-01T23:30:00+23:59",
        "2026-11-01T00:10:00-23:59",
        "2026-11-01T09:30:00.1234567Z",
        "2026-11-01t09:30:00z",
        "2026-11-01 09:30:00Z",
        "2026-11-01T09:30:00",
        "2026-11-01T24:00:00Z",
        "2026-11-01T23:59:60Z",
        "2026-02-30T10:00:00Z",
        "2026-02-29T10:00:00Z",
        "2028-02-29T10:00:00Z",
        "1900-01-01T00:30:00+01:00",
        "1900-01-01T00:30:00-01:00",
        "2999-12-31T23:30:00-01:00",
        "2999-12-31T23:30:00+01:00",
        "1899-12-31T23:30:00Z",
        "3000-01-01T00:00:00Z",
        "2026-11-01",
        1762000000,
        None,
    ],
    "channel": ["web_chat", "Web", "web-chat", "a" * 40, "a" * 41, "", 3, None],
    "customer_id": ["", "c" * 256, "c" * 257, "😀" * 256, "c\u2028d", None],
    "type": ["message", "transfer_request", "close", "csat", "chat", None],
    "sender": ["customer", "chatbot", "teammate", "bot", None],
    "teammate_id": ["", "t", "t" * 257, None],
    "welcome": [True, False, None, "true", "false", "yes", "True", 1, 0, "1"],
    "department": [
        "Sales",
        "Ventes é",
        "",
        "  ",
        "\u2003",
        "None",
        "no department",
        " (none) ",
        "Departments",
        "x" * 256,
        "x" * 257,
        " Orders ",
        None,
    ],
    "score": [1, 5, 0, 6, "5", " 5 ", 5.0, 5.5, True, 2**70, None],
    "workspace": [WS, "other", None, 3],
    "amount": ["0", "10", "10.1234", "10.12345", "1e3", "-1", " 5", 5, 5.5, "", None],
    "currency": ["CAD", "EUR", "cad", "XYZ", 124, None],
    "customer_ref": ["r", "r" * 256, "r" * 257, "", None],
    "order_id": ["O2", "o" * 128, "o" * 129, "", None],
    "source": ["chat", "website", "store", "other", "web", None],
    "test": [True, False, "true", None, 1],
    "colour": ["blue", None],
}


@st.composite
def records(draw: st.DrawFn, index: int) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(BASE | COMMERCE)))
    record: dict[str, Any] = {
        "event_id": f"e-{index}",
        "ts": "2026-11-01T09:30:00-04:00",
        "channel": "web_chat",
        "customer_id": f"c{draw(st.integers(0, 3))}",
        "type": kind,
        **(BASE | COMMERCE)[kind],
    }
    for name in draw(st.lists(st.sampled_from(sorted(VARIANTS)), max_size=3, unique=True)):
        record[name] = draw(st.sampled_from(VARIANTS[name]))
    if draw(st.booleans()):
        record = {k: v for k, v in record.items() if v is not None}
    return record


def scripts() -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.integers(1, 6).flatmap(lambda n: st.tuples(*(records(i) for i in range(n)))).map(list)


def fast_stage(staging: Staging, path: Path, fmt: str) -> bool:
    """Whether the set-based check alone stages the file."""
    with bulk.file_source(staging.con, path, fmt) as source:
        return source is not None and bulk.stage(staging, source, WS)


def staged(store: Store, fill: Callable[[Staging], object]) -> list[tuple]:
    with store.staging() as staging:
        fill(staging)
        return staging.con.execute("SELECT * FROM staged ORDER BY idx").fetchall()


def per_record(store: Store, batches: Iterable[Sequence[Event]]) -> list[tuple]:
    def fill(staging: Staging) -> None:
        for batch in batches:
            staging.add(WS, batch)

    return staged(store, fill)


def agree(store: Store, path: Path, fmt: str) -> bool:
    """Set-based staging implies per-record staging of the same rows; a per-record rejection
    implies no set-based staging. Whether the set-based check accepted the file."""
    fast: list[bool] = []
    fast_rows = staged(store, lambda s: fast.append(fast_stage(s, path, fmt)))
    try:
        with path.open("rb") as stream:
            slow_rows = per_record(store, read_events(stream, fmt, WS))  # type: ignore[arg-type]
    except EventError:
        assert not fast[0], "set-based check accepted what the model refuses"
        return False
    if fast[0]:
        assert fast_rows == slow_rows
    return fast[0]


# Cheap properties, where the near-misses are many: twice the profile's examples.
SETTINGS = examples(2)


def test_json_lines_agree_with_the_model(tmp_path_factory):
    accepted: list[bool] = []

    @SETTINGS
    @given(scripts(), st.booleans())
    def check(script, ascii_only):
        assume(not any(isinstance(v, bytes) for r in script for v in r.values()))  # not JSON
        path = tmp_path_factory.mktemp("jsonl") / "events.jsonl"
        path.write_text(
            "".join(json.dumps(r, ensure_ascii=ascii_only) + "\n" for r in script),
            encoding="utf-8",
        )
        with Store(":memory:") as store:
            accepted.append(agree(store, path, "jsonl"))

    check()
    assert any(accepted), "the set-based check never accepted a file: the property proved nothing"


def test_parquet_agrees_with_the_model(tmp_path_factory):
    accepted: list[bool] = []

    @SETTINGS
    @given(scripts())
    def check(script):
        try:
            arrow = table(script)
        except (pa.ArrowException, OverflowError, ValueError):
            assume(False)  # mixed types in a column: not a Parquet file anyone can write
        path = tmp_path_factory.mktemp("parquet") / "events.parquet"
        pq.write_table(arrow, path)
        with Store(":memory:") as store:
            accepted.append(agree(store, path, "parquet"))

    check()
    assert any(accepted), "the set-based check never accepted a file: the property proved nothing"


def table(script: list[dict[str, Any]]) -> pa.Table:
    """Records as an Arrow table; every key of any record is a column (null where absent)."""
    names = list(dict.fromkeys(k for r in script for k in r))
    return pa.Table.from_pylist([{k: r.get(k) for k in names} for r in script])


def canonical(n: int) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        kind = sorted(BASE)[i % 4]
        out.append(
            {
                "event_id": f"e-{i}",
                "ts": f"2026-11-01T{i % 24:02d}:{i % 60:02d}:00.25+01:00",
                "channel": "web_chat",
                "customer_id": f"c{i % 7}",
                "type": kind,
                **BASE[kind],
            }
        )
    return out


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_valid_files_take_the_set_based_path_in_file_order(tmp_path, fmt):
    script = canonical(30_000)
    path = tmp_path / f"events.{fmt}"
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n\n" for r in script), encoding="utf-8")
    else:
        pq.write_table(table(script), path, row_group_size=4096)
    with Store(":memory:") as store:
        fast: list[bool] = []
        rows = staged(store, lambda s: fast.append(fast_stage(s, path, fmt)))
        assert fast == [True]
        assert [r[2] for r in rows] == [f"e-{i}" for i in range(30_000)]
        with path.open("rb") as stream:
            assert rows == per_record(store, read_events(stream, fmt, WS))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("utc", "zone"),
    [("1900-01-01T02:00:00", "America/Toronto"), ("2999-12-31T22:00:00", "Asia/Kathmandu")],
)
def test_parquet_instants_whose_local_year_is_out_of_range_are_refused(tmp_path, utc, zone):
    arrow = pa.table(
        {
            "event_id": ["a"],
            "ts": pa.array([datetime.fromisoformat(utc)], pa.timestamp("us")).cast(
                pa.timestamp("us", zone)
            ),
            "channel": ["web_chat"],
            "customer_id": ["c"],
            "type": ["transfer_request"],
        }
    )
    path = tmp_path / "events.parquet"
    pq.write_table(arrow, path)
    with Store(":memory:") as store:
        fast: list[bool] = []
        staged(store, lambda s: fast.append(fast_stage(s, path, "parquet")))
        assert fast == [False]
        with path.open("rb") as stream, pytest.raises(EventError, match="year"):
            per_record(store, read_events(stream, "parquet", WS))


def test_parquet_timestamps_with_a_zone_are_instants(tmp_path):
    arrow = pa.table(
        {
            "event_id": ["a", "b"],
            "ts": pa.array(
                [1_762_000_000_000_001, 1_762_000_000_500_000], pa.timestamp("us", "Asia/Kathmandu")
            ),
            "channel": ["web_chat"] * 2,
            "customer_id": ["c"] * 2,
            "type": ["transfer_request"] * 2,
        }
    )
    path = tmp_path / "events.parquet"
    pq.write_table(arrow, path)
    with Store(":memory:") as store:
        fast: list[bool] = []
        rows = staged(store, lambda s: fast.append(fast_stage(s, path, "parquet")))
        assert fast == [True]
        with path.open("rb") as stream:
            assert rows == per_record(store, read_events(stream, "parquet", WS))


@pytest.mark.parametrize(
    "text",
    [
        '{"event_id": "a", "event_id": "b", "ts": "2026-11-01T09:30:00Z", "channel": "web_chat",'
        ' "customer_id": "c", "type": "transfer_request"}',  # a repeated key: Python keeps the last
        '\ufeff{"event_id": "a", "ts": "2026-11-01T09:30:00Z", "channel": "web_chat",'
        ' "customer_id": "c", "type": "transfer_request"}',  # a byte-order mark
        '{"event_id": "\\ud800", "ts": "2026-11-01T09:30:00Z", "channel": "web_chat",'
        ' "customer_id": "c", "type": "transfer_request"}',  # an escaped lone high surrogate
        '{"event_id": "\\udc00", "ts": "2026-11-01T09:30:00Z", "channel": "web_chat",'
        ' "customer_id": "c", "type": "transfer_request"}',  # an escaped lone low surrogate
        '{"event_id": "a", "ts": "2026-11-01T09:30:00Z", "channel": "web_chat",'
        ' "customer_id": "c", "type": "transfer_request"} {"event_id": "b"}',  # two on a line
        '{"event_id": "a", "ts": "2026-11-01T09:30:00Z", "channel": "web_chat",\n'
        ' "customer_id": "c", "type": "transfer_request"}',  # one object over two lines
        '{"event_id": "a", "ts": "2026-11-01T09:30:00Z", "channel": "web_chat",'
        ' "customer_id": "c", "type": "csat", "score": NaN}',
        '[{"event_id": "a"}]',
    ],
)
def test_json_the_set_based_reader_might_read_otherwise_is_left_to_the_model(tmp_path, text):
    path = tmp_path / "events.jsonl"
    path.write_text(text + "\n", encoding="utf-8")
    with Store(":memory:") as store:
        fast: list[bool] = []
        staged(store, lambda s: fast.append(fast_stage(s, path, "jsonl")))
        assert fast == [False]


def test_import_of_a_bad_file_names_the_record_and_field_as_before(tmp_path):
    script = canonical(10)
    script[7] = {**script[7], "channel": "Web Chat"}
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in script), encoding="utf-8")

    def via_model() -> Iterable[Sequence[Event]]:
        with path.open("rb") as stream:
            yield from read_events(stream, "jsonl", WS)

    def stage(staging: Staging) -> None:
        bulk.stage_file(staging, path, "jsonl", WS, via_model)

    with Store(":memory:") as store:
        with pytest.raises(EventError) as info:
            ingest.store_staged(store, [WS], stage, create_timezone="UTC")
        assert store.workspace(WS) is None
        (events,) = store.con.execute("SELECT count(*) FROM events").fetchone() or (None,)
        assert events == 0
    assert str(info.value.errors[0]).startswith('event 7 (id "e-7"): channel: String should match')


@pytest.mark.parametrize(
    "change",
    [
        {"ts": "2026-11-01T09:30:00.5+05:45"},
        {"ts": "2026-03-08T02:30:00.123456-05:00"},
        {"ts": "2026-11-01T09:30:00-00:00"},
        {"ts": "2026-11-01T00:10:00-23:59"},
        {"ts": "2028-02-29T10:00:00Z"},
        {"ts": "1900-01-01T00:30:00-01:00"},
        {"ts": "2999-12-31T23:30:00+01:00"},
        {"customer_id": "😀" * 256},
        {"customer_id": "c\u2028d"},
        {"event_id": "é" * 128},
        {"workspace": WS},
        {"sender": "chatbot", "welcome": "true"},
        {"sender": "chatbot", "welcome": True},
        {"type": "close", "sender": None, "teammate_id": "t", "department": "Ventes é"},
        {"type": "close", "sender": None, "department": " Orders "},
        {"type": "csat", "sender": None, "score": "5"},
        {"type": "csat", "sender": None, "score": 1},
    ],
)
@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_what_is_proven_valid_takes_the_set_based_path(tmp_path, fmt, change):
    record = {k: v for k, v in {**canonical(3)[2], **change}.items() if v is not None}
    path = tmp_path / f"events.{fmt}"
    if fmt == "jsonl":
        path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    else:
        pq.write_table(table([record]), path)
    with Store(":memory:") as store:
        fast: list[bool] = []
        rows = staged(store, lambda s: fast.append(fast_stage(s, path, fmt)))
        assert fast == [True]
        with path.open("rb") as stream:
            assert rows == per_record(store, read_events(stream, fmt, WS))  # type: ignore[arg-type]


@SETTINGS
@given(scripts())
def test_records_in_python_agree_with_the_model(script):
    """The demo's way in: the same rows as the model, or the model's EventError."""
    with Store(":memory:") as store:
        try:
            slow_rows: list[tuple] | None = per_record(store, [validate_batch(script, WS)])
        except EventError:
            slow_rows = None
        try:
            fast_rows = staged(store, lambda s: bulk.stage_records(s, WS, script, 0))
        except EventError:
            assert slow_rows is None
            return
        assert fast_rows == slow_rows


def test_the_demo_takes_the_set_based_path(monkeypatch):
    records = list(demo.generate(days=3, per_day=60, end=date(2026, 11, 20)))
    with Store(":memory:") as store:
        expected = per_record(store, [validate_batch(records, WS)])

        def refuse(*args: object) -> None:
            raise AssertionError("validated per record")

        monkeypatch.setattr(bulk, "validate_batch", refuse)
        assert staged(store, lambda s: bulk.stage_records(s, WS, records, 0)) == expected
