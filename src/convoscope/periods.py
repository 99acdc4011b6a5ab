"""Calendar spans in a workspace's time zone, as UTC instants.

Local dates and wall-clock times become naive UTC datetimes here, with `zoneinfo` resolving
DST gaps and folds, so that everything downstream compares instants only. Shared by `query`
(the period and its buckets) and `comparisons` (the previous period).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Period:
    """Local calendar dates `first`..`last` (both included), as UTC instants [start, end)."""

    first: date
    last: date
    start: datetime
    end: datetime

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """Naive local wall time in `zone` -> naive UTC (zoneinfo resolves gaps and folds)."""
    return local.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def to_local(utc: datetime, zone: ZoneInfo) -> datetime:
    """Naive UTC -> aware local time in `zone`."""
    return utc.replace(tzinfo=UTC).astimezone(zone)


def midnight(day: date, zone: ZoneInfo) -> datetime:
    return to_utc(datetime.combine(day, time()), zone)


def whole_days(first: date, last: date, zone: ZoneInfo) -> Period:
    return Period(first, last, midnight(first, zone), midnight(last + timedelta(days=1), zone))


def add_months(day: date, months: int) -> date:
    """The first day of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
