"""Business time of an interval (SPEC section 5, "RESOLUTION TIME (business hours)").

A workspace's business hours are, per weekday, local `[start, end)` spans (`HH:MM`, `24:00`
allowed as an end) in its time zone; none set (no span on any day) means 24/7. The business
time of an interval is the elapsed (real) time inside it during which the local wall-clock time
lies inside a span.
So across a DST change a skipped hour counts nothing and a repeated hour counts twice when it
lies inside a span. How: the interval is cut where the zone's UTC offset changes; inside a piece
the offset is constant, local time is UTC plus that offset, and each local day's spans are
intersected with the piece's local image. Calendars stay in Python (see `query`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, field_validator

MAX_SPANS_A_DAY = 12
Spans = Annotated[list[tuple[str, str]], Field(max_length=MAX_SPANS_A_DAY)]


class BusinessHours(BaseModel):
    """Opening hours per weekday, e.g. {"monday": [["09:00", "17:30"]]}; absent days are
    closed. At most 12 spans a day, not overlapping."""

    monday: Spans = []
    tuesday: Spans = []
    wednesday: Spans = []
    thursday: Spans = []
    friday: Spans = []
    saturday: Spans = []
    sunday: Spans = []

    model_config = {"extra": "forbid"}

    @field_validator("*")
    @classmethod
    def _spans(cls, spans: list[tuple[str, str]]) -> list[tuple[str, str]]:
        for start, end in spans:
            for value in (start, end):
                if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d|24:00", value):
                    raise ValueError(f"{value[:10]!r} is not a time HH:MM")
            if start >= end:
                raise ValueError(f"{start}-{end}: the start must be before the end")
        ordered = sorted(spans)
        for (_, end), (start, _) in pairwise(ordered):
            if start < end:  # overlapping spans would count their common time twice
                raise ValueError(f"spans overlap at {start}")
        return spans


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Hours = Mapping[str, Sequence[Sequence[str]]]
_STEP = timedelta(hours=6)  # no zone changes its offset twice within six hours


def _offset(moment: datetime, zone: ZoneInfo) -> timedelta:
    return moment.replace(tzinfo=UTC).astimezone(zone).utcoffset() or timedelta(0)


def _change(low: datetime, high: datetime, zone: ZoneInfo) -> datetime:
    """The first instant of `high`'s offset, given that `low` has another one."""
    target = _offset(high, zone)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if _offset(middle, zone) == target:
            high = middle
        else:
            low = middle
    return high


def _pieces(start: datetime, end: datetime, zone: ZoneInfo) -> Iterator[tuple[datetime, datetime]]:
    """[start, end) (naive UTC) cut where the zone's offset changes."""
    piece_start, probe = start, start
    while probe < end:
        step_end = min(probe + _STEP, end)
        if _offset(step_end, zone) != _offset(probe, zone):
            change = _change(probe, step_end, zone)
            yield piece_start, change
            piece_start = change
        probe = step_end
    yield piece_start, end


def _clock(text: str) -> timedelta:
    hours, minutes = text.split(":")
    return timedelta(hours=int(hours), minutes=int(minutes))


def intervals(
    start: datetime, end: datetime, hours: Hours, timezone: str
) -> Iterator[tuple[datetime, datetime]]:
    """The parts of [start, end) (naive UTC) inside business hours, as naive UTC intervals.
    They never overlap (spans of a day do not; a repeated local hour is two UTC hours)."""
    zone = ZoneInfo(timezone)
    for piece_start, piece_end in _pieces(start, end, zone):
        offset = _offset(piece_start, zone)
        local_start, local_end = piece_start + offset, piece_end + offset
        day = local_start.date()
        while datetime.combine(day, time()) < local_end:
            midnight = datetime.combine(day, time())
            for span_start, span_end in hours.get(WEEKDAYS[day.weekday()], ()):
                low = max(local_start, midnight + _clock(span_start))
                high = min(local_end, midnight + _clock(span_end))
                if high > low:
                    yield low - offset, high - offset
            day += timedelta(days=1)


def any_set(hours: Hours | None) -> bool:
    """Whether any span is set; hours without a single span mean 24/7, like none at all."""
    return hours is not None and any(hours.values())


def business_seconds(start: datetime, end: datetime, hours: Hours | None, timezone: str) -> float:
    """Seconds of [start, end) (naive UTC) inside business hours; all of it when none are set."""
    if end <= start:
        return 0.0
    if hours is None or not any_set(hours):
        return (end - start).total_seconds()
    inside = sum((high - low for low, high in intervals(start, end, hours, timezone)), timedelta(0))
    return inside.total_seconds()
