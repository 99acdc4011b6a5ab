"""Business time of an interval (SPEC section 5), hand-worked in America/Toronto (EST = UTC-5,
EDT = UTC-4; 2026-03-08 springs forward at 02:00, 2026-11-01 falls back at 02:00)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from convoscope.business_hours import business_seconds

TZ = "America/Toronto"
WEEKDAYS_9_TO_5 = {
    d: [["09:00", "17:00"]] for d in ("monday", "tuesday", "wednesday", "thursday", "friday")
}


def utc(local: str) -> datetime:
    """A Toronto wall-clock time as the store's naive UTC."""
    moment = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(TZ))
    return moment.astimezone(UTC).replace(tzinfo=None)


def test_no_business_hours_is_every_second():
    assert business_seconds(utc("2026-11-13T16:00"), utc("2026-11-16T10:00"), None, TZ) == 66 * 3600


def test_across_a_weekend():
    # Friday 16:00 -> Monday 10:00: one hour on Friday, one on Monday.
    assert (
        business_seconds(utc("2026-11-13T16:00"), utc("2026-11-16T10:00"), WEEKDAYS_9_TO_5, TZ)
        == 7200
    )


def test_inside_one_span_and_outside_every_span():
    hours = WEEKDAYS_9_TO_5
    assert business_seconds(utc("2026-11-16T09:30"), utc("2026-11-16T09:45"), hours, TZ) == 900
    assert business_seconds(utc("2026-11-14T09:00"), utc("2026-11-15T17:00"), hours, TZ) == 0


def test_a_span_ending_at_24_00():
    hours = {"saturday": [["20:00", "24:00"]], "sunday": [["00:00", "00:30"]]}
    # Saturday 23:00 -> Sunday 01:00: 23:00-24:00 and 00:00-00:30.
    assert business_seconds(utc("2026-11-14T23:00"), utc("2026-11-15T01:00"), hours, TZ) == 5400


def test_the_skipped_hour_counts_nothing():
    # 2026-03-08: wall clock 01:00-04:00 lasts two real hours (02:00-03:00 does not exist).
    hours = {"sunday": [["01:00", "04:00"]]}
    assert business_seconds(utc("2026-03-07T12:00"), utc("2026-03-09T12:00"), hours, TZ) == 7200


def test_the_repeated_hour_counts_twice():
    # 2026-11-01: 01:00-02:00 happens twice (EDT, then EST).
    hours = {"sunday": [["01:00", "02:00"]]}
    assert business_seconds(utc("2026-10-31T12:00"), utc("2026-11-02T12:00"), hours, TZ) == 7200
    # From the second 01:30 (EST, 06:30 UTC) on: half an hour.
    second = datetime(2026, 11, 1, 6, 30)
    assert business_seconds(second, utc("2026-11-02T00:00"), hours, TZ) == 1800


def test_a_zone_with_a_45_minute_offset():
    hours = {"monday": [["09:00", "10:00"]]}
    start, end = datetime(2026, 11, 16, 3, 0), datetime(2026, 11, 16, 4, 0)  # 08:45-09:45 NPT
    assert business_seconds(start, end, hours, "Asia/Kathmandu") == 2700


def test_hours_covering_every_day_count_every_real_second():
    from datetime import timedelta

    from helpers import examples
    from hypothesis import given
    from hypothesis import strategies as st

    always = {
        d: [["00:00", "24:00"]]
        for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    }

    @examples(3)  # pure Python and cheap: three times the profile's examples
    @given(
        st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31)),
        st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)),
        st.sampled_from([TZ, "Europe/Paris", "Australia/Lord_Howe", "Asia/Kathmandu"]),
    )
    def check(start, length, zone):
        assert business_seconds(start, start + length, always, zone) == length.total_seconds()

    check()
