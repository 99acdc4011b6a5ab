"""The previous period: whole days for finished periods; for a period in progress, the same
elapsed local wall-clock time, across DST changes too."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from helpers import load

from convoscope.pages import overview
from convoscope.query import Query

TZ = "America/Toronto"


def q(now: str, **kw) -> Query:
    return Query.build("w", timezone=TZ, now=datetime.fromisoformat(now), **kw)


def test_a_finished_period_compares_with_whole_days():
    query = q("2026-11-24T15:00:00+00:00", date_from="2026-11-01", date_to="2026-11-07")
    assert (query.previous.first, query.previous.last) == (date(2026, 10, 25), date(2026, 10, 31))
    assert query.previous.start == datetime(2026, 10, 25, 4)  # EDT
    assert query.previous.end == datetime(2026, 11, 1, 4)
    assert query.in_progress_bucket is None


def test_last_7_days_just_after_ten_compares_up_to_ten_o_one():
    query = q("2026-11-24T15:01:00+00:00", period="last_7_days")  # 10:01 in Toronto
    assert (query.period.first, query.period.last) == (date(2026, 11, 18), date(2026, 11, 24))
    assert query.previous.start == datetime(2026, 11, 11, 5)
    assert query.previous.end == datetime(2026, 11, 17, 15, 1)  # the 17th at 10:01
    assert query.in_progress_bucket == 6


def test_today_compares_with_yesterday_up_to_now_not_the_end_of_the_hour():
    query = q("2026-11-24T15:01:00+00:00", period="today")
    assert query.period.end == datetime(2026, 11, 24, 16)  # the current hour's bar is whole
    assert query.previous.end == datetime(2026, 11, 23, 15, 1)


def test_today_after_spring_forward_compares_the_same_wall_clock_span():
    # 2026-03-08 at 10:00 EDT: 9 real hours since midnight; the day before, 00:00 to 10:00 EST.
    query = q("2026-03-08T14:00:00+00:00", period="today")
    assert query.period.start == datetime(2026, 3, 8, 5)
    assert (query.previous.start, query.previous.end) == (
        datetime(2026, 3, 7, 5),
        datetime(2026, 3, 7, 15),
    )


def test_the_day_after_fall_back_compares_with_the_25_hour_day_to_the_same_time():
    query = q("2026-11-02T15:30:00+00:00", period="today")  # 10:30 EST, Nov 2
    assert (query.previous.start, query.previous.end) == (
        datetime(2026, 11, 1, 4),  # midnight EDT
        datetime(2026, 11, 1, 15, 30),  # 10:30 EST: 11.5 real hours later
    )


def test_a_steady_stream_shows_no_change_just_after_the_hour(store):
    # One conversation every 20 minutes from midnight on the 23rd to now, 10:00 on the 24th.
    start = datetime(2026, 11, 23, 5, tzinfo=UTC)
    events = [
        {
            "event_id": f"s{i}",
            "ts": (start + timedelta(minutes=20 * i)).isoformat(),
            "channel": "web_chat",
            "customer_id": f"c{i}",
            "type": "message",
            "sender": "customer",
        }
        for i in range(24 * 3 + 31)
    ]
    load(store, events)
    query = q("2026-11-24T15:01:00+00:00", period="today")  # 10:01
    tiles = overview.run(store, query).tiles
    assert tiles.total_conversations == tiles.previous.total_conversations == 31  # 00:00..10:00
