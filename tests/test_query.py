"""SPEC section 3: presets, buckets and the previous period in the workspace's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from convoscope.query import Query, QueryError

TZ = "America/Toronto"


def q(now: str | None = None, **kw) -> Query:
    moment = datetime.fromisoformat(now) if now else datetime(2026, 11, 24, 15, tzinfo=UTC)
    return Query.build("w", timezone=kw.pop("tz", TZ), now=moment, **kw)


def span(query: Query) -> tuple[date, date]:
    return query.period.first, query.period.last


def test_today_just_before_midnight_is_still_yesterdays_date_in_utc_terms():
    query = q("2026-11-24T04:30:00+00:00", period="today")  # 23:30 on the 23rd in Toronto
    assert span(query) == (date(2026, 11, 23), date(2026, 11, 23))
    assert len(query.buckets) == 24 and query.granularity == "hour"
    assert query.buckets[0].label == "2026-11-23T00:00:00-05:00"
    assert query.buckets[-1].label == "2026-11-23T23:00:00-05:00"
    assert query.previous.start == datetime(2026, 11, 22, 5)
    assert query.previous.end == datetime(2026, 11, 23, 4, 30)  # yesterday up to 23:30 too


def test_today_at_midnight_has_its_first_hour():
    query = q("2026-11-24T05:00:00+00:00", period="today")
    assert span(query) == (date(2026, 11, 24), date(2026, 11, 24))
    assert [b.label for b in query.buckets] == ["2026-11-24T00:00:00-05:00"]
    assert query.period.end == datetime(2026, 11, 24, 6)
    assert (query.previous.start, query.previous.end) == (  # up to now (00:00), not 01:00
        datetime(2026, 11, 23, 5),
        datetime(2026, 11, 23, 5),
    )
    assert query.in_progress_bucket == 0


def test_today_mid_afternoon_runs_to_the_end_of_the_current_hour():
    query = q("2026-11-24T19:20:00+00:00", period="today")  # 14:20 local
    assert len(query.buckets) == 15 and query.period.end == datetime(2026, 11, 24, 20)


@pytest.mark.parametrize(
    ("period", "first", "last"),
    [
        ("yesterday", date(2026, 2, 27), date(2026, 2, 27)),
        ("last_7_days", date(2026, 2, 22), date(2026, 2, 28)),
        ("last_30_days", date(2026, 1, 30), date(2026, 2, 28)),
        ("this_month", date(2026, 2, 1), date(2026, 2, 28)),
        ("last_month", date(2026, 1, 1), date(2026, 1, 31)),
    ],
)
def test_presets_at_a_month_end_late_evening(period, first, last):
    query = q("2026-03-01T03:00:00+00:00", period=period)  # 22:00 on Feb 28 in Toronto
    assert span(query) == (first, last)


def test_last_month_across_a_year_end():
    query = q("2026-01-01T04:59:00+00:00", period="last_month")  # 23:59 on Dec 31
    assert span(query) == (date(2025, 11, 1), date(2025, 11, 30))
    assert query.previous.first == date(2025, 10, 2)  # 30 days before


def test_spring_forward_day_has_23_hourly_buckets():
    query = q(date_from="2026-03-08", date_to="2026-03-08")
    labels = [b.label for b in query.buckets]
    assert len(labels) == 23
    assert labels[1:3] == ["2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00"]


def test_fall_back_day_has_25_hourly_buckets():
    query = q(date_from="2026-11-01", date_to="2026-11-01")
    labels = [b.label for b in query.buckets]
    assert len(labels) == 25
    assert labels[1:4] == [
        "2026-11-01T01:00:00-04:00",
        "2026-11-01T01:00:00-05:00",
        "2026-11-01T02:00:00-05:00",
    ]
    assert query.period.end - query.period.start == datetime(2026, 1, 2, 1) - datetime(2026, 1, 1)


def test_day_buckets_follow_local_midnights_across_dst():
    query = q(date_from="2026-10-31", date_to="2026-11-02")
    assert [b.start for b in query.buckets] == [
        datetime(2026, 10, 31, 4),
        datetime(2026, 11, 1, 4),
        datetime(2026, 11, 2, 5),
    ]
    assert query.buckets[-1].end == datetime(2026, 11, 3, 5)


def test_week_buckets_start_monday_and_are_clipped_to_the_period():
    query = q(date_from="2026-11-04", date_to="2026-11-24", granularity="week")
    assert [b.label[:10] for b in query.buckets] == [
        "2026-11-04",
        "2026-11-09",
        "2026-11-16",
        "2026-11-23",
    ]
    assert query.buckets[-1].end == query.period.end


@pytest.mark.parametrize(
    ("last", "granularity"),
    [
        ("2026-01-01", "hour"),
        ("2026-04-02", "day"),
        ("2026-04-03", "week"),
        ("2028-01-01", "week"),
        ("2028-01-02", "month"),
    ],
)
def test_automatic_granularity(last, granularity):
    assert q(date_from="2026-01-01", date_to=last).granularity == granularity


def test_month_buckets():
    query = q(date_from="2024-01-15", date_to="2026-11-24")
    assert query.granularity == "month" and len(query.buckets) == 35
    assert query.buckets[0].label == "2024-01-15T00:00:00-05:00"
    assert query.buckets[1].label == "2024-02-01T00:00:00-05:00"


def test_previous_period_has_the_same_number_of_days():
    query = q(date_from="2026-11-01", date_to="2026-11-07")
    assert (query.previous.first, query.previous.last) == (date(2026, 10, 25), date(2026, 10, 31))
    assert query.previous.end == query.period.start


def test_other_time_zone():
    query = q("2026-11-24T15:00:00+00:00", period="today", tz="Asia/Kolkata")  # 20:30 there
    assert query.buckets[0].label == "2026-11-24T00:00:00+05:30"
    assert len(query.buckets) == 21


def test_channels_are_normalised():
    assert q(period="today", channels="whatsapp, web_chat,whatsapp").channels == (
        "web_chat",
        "whatsapp",
    )
    assert q(period="today", channels="").channels is None


@pytest.mark.parametrize(
    ("kw", "param"),
    [
        ({"period": "last_week"}, "period"),
        ({"period": "today", "date_from": "2026-01-01"}, "period"),
        ({"date_from": "2026-01-01"}, "to"),
        ({"date_from": "2026-13-01", "date_to": "2026-12-01"}, "from"),
        ({"date_from": "2026-02-01", "date_to": "2026-01-01"}, "to"),
        ({"period": "today", "tz": "Mars/Olympus"}, "tz"),
        ({"period": "today", "granularity": "minute"}, "granularity"),
        (
            {"date_from": "2020-01-01", "date_to": "2026-01-01", "granularity": "hour"},
            "granularity",
        ),
        ({"period": "today", "channels": "Web Chat"}, "channels"),
    ],
)
def test_bad_parameters_name_the_parameter(kw, param):
    with pytest.raises(QueryError) as info:
        q(**kw)
    assert info.value.param == param


def test_a_day_whose_midnight_does_not_exist_starts_at_one():
    # America/Santiago moves from 00:00 to 01:00 on 2026-09-06: that day has 23 hours,
    # starting at 01:00 local, and the buckets still partition the period.
    query = q(date_from="2026-09-05", date_to="2026-09-07", tz="America/Santiago")
    assert [b.label for b in query.buckets] == [
        "2026-09-05T00:00:00-04:00",
        "2026-09-06T01:00:00-03:00",
        "2026-09-07T00:00:00-03:00",
    ]
    assert all(a.end == b.start for a, b in zip(query.buckets, query.buckets[1:], strict=False))
    hourly = q(date_from="2026-09-06", date_to="2026-09-06", tz="America/Santiago")
    assert len(hourly.buckets) == 23 and hourly.buckets[0].label == "2026-09-06T01:00:00-03:00"
