"""Query: what one overview request asks for, parsed and validated once (SPEC section 3).

A Query fixes the workspace, the period (a preset or a custom date range), the time zone,
the bucket granularity and the channel filter. Everything calendar-related is resolved here,
in Python with `zoneinfo`, into UTC instants: the period, its buckets and the previous period.
The engines downstream only compare timestamps, so DST days (23 or 25 hourly buckets) need no
engine support and every engine agrees. Choices the spec leaves open, written down here:

- A period covers whole local days, except `today`, which ends at the end of the hour in
  progress (so its last hourly bar is the current hour). `this_month` runs from the 1st to
  today, included.
- Buckets are calendar spans (local hours, days, weeks starting Monday, months) clipped to
  the period, so the buckets always partition the period; a clipped bucket is labelled by
  its clipped start.
- The previous period is the same number of days immediately before; for `today` it is
  yesterday over the same number of hours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from convoscope.store import check_timezone


class QueryError(ValueError):
    """A bad query parameter; `param` names it (the HTTP API turns this into a 422)."""

    def __init__(self, param: str, message: str):
        self.param = param
        self.message = message
        super().__init__(f"{param}: {message}")


class Preset(StrEnum):
    today = "today"
    yesterday = "yesterday"
    last_7_days = "last_7_days"
    last_30_days = "last_30_days"
    this_month = "this_month"
    last_month = "last_month"


class Granularity(StrEnum):
    hour = "hour"
    day = "day"
    week = "week"
    month = "month"


MAX_BUCKETS = 5000
MAX_DAYS = 3660


@dataclass(frozen=True)
class Bucket:
    label: str  # ISO 8601 local time with offset of the (clipped) start
    start: datetime  # naive UTC, included
    end: datetime  # naive UTC, excluded


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


def _utc(local: datetime, zone: ZoneInfo) -> datetime:
    """Naive local wall time in `zone` -> naive UTC (zoneinfo resolves gaps and folds)."""
    return local.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return _utc(datetime.combine(day, time()), zone)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Query:
    """One overview request. Build it with `Query.build`, which validates every parameter."""

    workspace: str
    timezone: str
    period: Period
    previous: Period
    granularity: Granularity
    channels: tuple[str, ...] | None
    preset: Preset | None = None
    buckets: tuple[Bucket, ...] = field(default=(), compare=False)

    @classmethod
    def build(
        cls,
        workspace: str,
        *,
        timezone: str,
        period: str | None = None,
        date_from: date | str | None = None,
        date_to: date | str | None = None,
        granularity: str | None = None,
        channels: str | list[str] | tuple[str, ...] | None = None,
        now: datetime | None = None,
    ) -> Query:
        try:
            zone = ZoneInfo(check_timezone(timezone))
        except ValueError as exc:
            raise QueryError("tz", str(exc)) from None
        now_utc = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
        today = now_utc.replace(tzinfo=UTC).astimezone(zone).date()
        preset, first, last = _resolve_dates(period, date_from, date_to, today)

        shift = timedelta(days=(last - first).days + 1)
        current = _period(first, last, zone)
        previous = _period(first - shift, last - shift, zone)
        if preset is Preset.today:
            hours = (now_utc - current.start) // timedelta(hours=1) + 1
            current = _truncate(current, hours)
            previous = _truncate(previous, hours)

        gran = _granularity(granularity, current)
        return cls(
            workspace=workspace,
            timezone=timezone,
            period=current,
            previous=previous,
            granularity=gran,
            channels=_channels(channels),
            preset=preset,
            buckets=tuple(_buckets(current, gran, zone)),
        )


def _period(first: date, last: date, zone: ZoneInfo) -> Period:
    return Period(first, last, _midnight(first, zone), _midnight(last + timedelta(days=1), zone))


def _truncate(period: Period, hours: int) -> Period:
    """The first `hours` hours of a one-day period (no further than its end)."""
    end = min(period.end, period.start + timedelta(hours=hours))
    return Period(period.first, period.last, period.start, end)


def _parse_date(param: str, value: date | str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise QueryError(param, f"{value!r} is not a date (YYYY-MM-DD)") from None


def _resolve_dates(
    period: str | None, date_from: date | str | None, date_to: date | str | None, today: date
) -> tuple[Preset | None, date, date]:
    if period is not None and (date_from is not None or date_to is not None):
        raise QueryError("period", "give either a period preset or from/to, not both")
    if period is None:
        if date_from is None or date_to is None:
            missing = "from" if date_from is None else "to"
            raise QueryError(missing, "is required when no period preset is given")
        first, last = _parse_date("from", date_from), _parse_date("to", date_to)
        if last < first:
            raise QueryError("to", "is before from")
        if (last - first).days >= MAX_DAYS:
            raise QueryError("to", f"a period is at most {MAX_DAYS} days")
        return None, first, last
    try:
        preset = Preset(period)
    except ValueError:
        choices = ", ".join(p.value for p in Preset)
        raise QueryError("period", f"{period!r} is not one of {choices}") from None
    match preset:
        case Preset.today:
            return preset, today, today
        case Preset.yesterday:
            return preset, today - timedelta(days=1), today - timedelta(days=1)
        case Preset.last_7_days:
            return preset, today - timedelta(days=6), today
        case Preset.last_30_days:
            return preset, today - timedelta(days=29), today
        case Preset.this_month:
            return preset, today.replace(day=1), today
        case Preset.last_month:
            first = _add_months(today.replace(day=1), -1)
            return preset, first, today.replace(day=1) - timedelta(days=1)


def _granularity(requested: str | None, period: Period) -> Granularity:
    if requested is None:
        if period.days == 1:
            return Granularity.hour
        if period.days <= 92:
            return Granularity.day
        if period.days <= 731:
            return Granularity.week
        return Granularity.month
    try:
        gran = Granularity(requested)
    except ValueError:
        choices = ", ".join(g.value for g in Granularity)
        raise QueryError("granularity", f"{requested!r} is not one of {choices}") from None
    if gran is Granularity.hour and period.days * 25 > MAX_BUCKETS:
        raise QueryError("granularity", f"hour buckets would exceed {MAX_BUCKETS} buckets")
    return gran


def _channels(channels: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...] | None:
    if channels is None:
        return None
    items = channels.split(",") if isinstance(channels, str) else list(channels)
    cleaned = sorted({c.strip() for c in items if c.strip()})
    if not cleaned:
        return None
    for c in cleaned:
        if not (
            1 <= len(c) <= 40
            and all(ch.isascii() and (ch.isalnum() or ch == "_") for ch in c)
            and c == c.lower()
        ):
            raise QueryError("channels", f"{c!r} is not a channel slug ([a-z0-9_]{{1,40}})")
    return tuple(cleaned)


def _boundaries(period: Period, gran: Granularity, zone: ZoneInfo) -> list[datetime]:
    """UTC instants where buckets start, clipped to the period (first one = period start)."""
    if gran is Granularity.hour:
        points, t = [], period.start
        while t < period.end:
            points.append(t)
            t += timedelta(hours=1)
        return points
    day = period.first
    if gran is Granularity.week:
        day -= timedelta(days=day.weekday())
    elif gran is Granularity.month:
        day = day.replace(day=1)
    points = []
    while True:
        start = _midnight(day, zone)
        if start >= period.end:
            break
        points.append(max(start, period.start))
        if gran is Granularity.day:
            day += timedelta(days=1)
        elif gran is Granularity.week:
            day += timedelta(days=7)
        else:
            day = _add_months(day, 1)
    return points


def _buckets(period: Period, gran: Granularity, zone: ZoneInfo) -> list[Bucket]:
    starts = _boundaries(period, gran, zone)
    if len(starts) > MAX_BUCKETS:
        raise QueryError("granularity", f"more than {MAX_BUCKETS} buckets; choose a larger one")
    ends = [*starts[1:], period.end]
    return [
        Bucket(s.replace(tzinfo=UTC).astimezone(zone).isoformat(), s, e)
        for s, e in zip(starts, ends, strict=True)
    ]
