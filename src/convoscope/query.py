"""Query: what one analytics request asks for, parsed and validated once (SPEC section 3).

`QueryParams` is the one parameter model of every analytics request: FastAPI reads it from
the query string and the CLI from its options, so presets, the default period, the channel
rule and the limits exist once. `QueryParams.resolve` turns it into a `Query`: the period (a
preset or a custom date range), the time zone, the bucket granularity and the channel filter,
resolved in Python with `zoneinfo` into UTC instants. The engines downstream only compare
timestamps, so DST days (23 or 25 hourly buckets) need no engine support and every engine
agrees. Choices the spec leaves open, written down here:

- Without a period, the last 7 days.
- A period covers whole local days, except `today`, which ends at the end of the hour in
  progress (so its last hourly bar is the current hour). `this_month` runs from the 1st to
  today, included.
- Buckets are calendar spans (local hours, days, weeks starting Monday, months) clipped to
  the period, so the buckets always partition the period; a clipped bucket is labelled by
  its clipped start. The bucket holding now is `in_progress_bucket` (the page marks it).
- Dates are between 1900-01-01 and 2999-12-31.
- The previous period: see `comparisons`.
- List parameters (channels, departments, teammates, flow types, flows) are comma-separated;
  a comma or a backslash inside a name is written `\\,` or `\\\\`. The pseudo-department of
  conversations with no department is `(none)` (a name events may not use); `(none)` among
  flow types or flows is "no flow" (conversations whose chatbot entered none).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, get_args
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from convoscope.comparisons import previous_period
from convoscope.event_fields import CHANNEL_PATTERN, CURRENCIES, LIMITS, FlowType
from convoscope.periods import Period, add_months, midnight, whole_days
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


NO_DEPARTMENT = "(none)"
NO_FLOW = "(none)"
FILTERS = ("channels", "departments", "teammates", "flow_types", "flows", "currency")
MAX_LIST_ITEMS = 200
MAX_BUCKETS = 5000
MAX_DAYS = 3660
FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(2999, 12, 31)
DEFAULT_PERIOD = Preset.last_7_days


@dataclass(frozen=True)
class Bucket:
    label: str  # ISO 8601 local time with offset of the (clipped) start
    start: datetime  # naive UTC, included
    end: datetime  # naive UTC, excluded


@dataclass(frozen=True)
class Query:
    """One analytics request, resolved. Build it with `Query.build` (or `QueryParams.resolve`),
    which validates every parameter."""

    workspace: str
    timezone: str
    period: Period
    previous: Period
    granularity: Granularity
    channels: tuple[str, ...] | None
    departments: tuple[str, ...] | None = None  # NO_DEPARTMENT: the pseudo-department
    teammates: tuple[str, ...] | None = None
    flow_types: tuple[str, ...] | None = None  # NO_FLOW: conversations that entered no flow
    flows: tuple[str, ...] | None = None  # NO_FLOW: the same
    currency: str | None = None  # the currency Sales Attribution shows (ISO 4217)
    preset: Preset | None = None
    buckets: tuple[Bucket, ...] = field(default=(), compare=False)
    in_progress_bucket: int | None = None
    # the time of the request (naive UTC): what may still go on is decided against it
    now: datetime = field(default=datetime(1970, 1, 1), compare=False)

    def filters(self) -> list[str]:
        """The filters this query sets, by parameter name."""
        return [name for name in FILTERS if getattr(self, name) is not None]

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
        departments: str | list[str] | tuple[str, ...] | None = None,
        teammates: str | list[str] | tuple[str, ...] | None = None,
        flow_types: str | list[str] | tuple[str, ...] | None = None,
        flows: str | list[str] | tuple[str, ...] | None = None,
        currency: str | None = None,
        now: datetime | None = None,
    ) -> Query:
        try:
            zone = ZoneInfo(check_timezone(timezone))
        except ValueError as exc:
            raise QueryError("tz", str(exc)) from None
        now_utc = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
        today = now_utc.replace(tzinfo=UTC).astimezone(zone).date()
        preset, first, last = _resolve_dates(period, date_from, date_to, today)

        current = whole_days(first, last, zone)
        if preset is Preset.today:  # to the end of the hour in progress
            hours = (now_utc - current.start) // timedelta(hours=1) + 1
            end = min(current.end, current.start + timedelta(hours=hours))
            current = Period(current.first, current.last, current.start, end)

        gran = _granularity(granularity, current)
        buckets = tuple(_buckets(current, gran, zone))
        live = [i for i, b in enumerate(buckets) if b.start <= now_utc < b.end]
        return cls(
            workspace=workspace,
            timezone=timezone,
            period=current,
            previous=previous_period(current, zone, now_utc),
            granularity=gran,
            channels=_channels(channels),
            departments=_names("departments", departments),
            teammates=_names("teammates", teammates),
            flow_types=_flow_types(flow_types),
            flows=_flows(flows),
            currency=_currency(currency),
            preset=preset,
            buckets=buckets,
            in_progress_bucket=live[0] if live else None,
            now=now_utc,
        )


class QueryParams(BaseModel):
    """The parameters of every analytics request (HTTP query string and CLI options alike).
    The text limits together keep the longest valid query string, percent-encoded, within
    the request line the server reads (`cli.server.MAX_REQUEST_HEAD`)."""

    model_config = ConfigDict(populate_by_name=True)

    period: Annotated[Preset | None, Field(description="A preset; or give from and to.")] = None
    date_from: Annotated[date | None, Field(alias="from", description="First day.")] = None
    date_to: Annotated[date | None, Field(alias="to", description="Last day, included.")] = None
    tz: Annotated[
        str | None, Field(max_length=64, description="IANA zone; default the workspace's.")
    ] = None
    channels: Annotated[
        str | None, Field(max_length=2000, description="Comma-separated channels.")
    ] = None
    departments: Annotated[
        str | None,
        Field(max_length=6000, description="Comma-separated departments; (none) for none."),
    ] = None
    teammates: Annotated[
        str | None, Field(max_length=6000, description="Comma-separated teammate ids.")
    ] = None
    flow_types: Annotated[
        str | None,
        Field(
            max_length=200,
            description="Comma-separated flow types (campaign, transfer, sales, support, "
            "other); (none) for no flow. Chatbot Performance only.",
        ),
    ] = None
    flows: Annotated[
        str | None,
        Field(
            max_length=6000,
            description="Comma-separated flows; (none) for no flow. Chatbot Performance only.",
        ),
    ] = None
    currency: Annotated[
        str | None,
        Field(
            max_length=3,
            description="ISO 4217 code of the currency shown (e.g. CAD). Sales Attribution only.",
        ),
    ] = None
    granularity: Granularity | None = None

    @field_validator("date_from", "date_to", mode="before")
    @classmethod
    def _day(cls, value: object) -> object:
        """A day as YYYY-MM-DD, said plainly when it is not one (`2026-11-31`, `04/12/2026`)."""
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{value[:40]!r} is not a date (use YYYY-MM-DD)") from None
        return value

    def resolve(self, workspace: str, default_tz: str, now: datetime | None = None) -> Query:
        """The Query, in the workspace's zone unless `tz` is given; QueryError names the
        parameter at fault."""
        period = self.period
        if period is None and self.date_from is None and self.date_to is None:
            period = DEFAULT_PERIOD
        return Query.build(
            workspace,
            timezone=self.tz or default_tz,
            period=period,
            date_from=self.date_from,
            date_to=self.date_to,
            granularity=self.granularity,
            channels=self.channels,
            departments=self.departments,
            teammates=self.teammates,
            flow_types=self.flow_types,
            flows=self.flows,
            currency=self.currency,
            now=now,
        )

    @classmethod
    def parse(cls, **values: object) -> QueryParams:
        """From plain strings (the CLI), with pydantic's errors turned into a QueryError."""
        try:
            return cls.model_validate({k: v for k, v in values.items() if v is not None})
        except ValidationError as exc:
            first = exc.errors()[0]
            param = str(first["loc"][0]) if first["loc"] else "query"
            raise QueryError(param, first["msg"].removeprefix("Value error, ")) from None


def _currency(code: str | None) -> str | None:
    if code is not None and code not in CURRENCIES:
        raise QueryError("currency", f"{code[:8]!r} is not an ISO 4217 currency code (e.g. CAD)")
    return code


def _parse_date(param: str, value: date | str) -> date:
    try:
        day = value if isinstance(value, date) else date.fromisoformat(value)
    except ValueError:
        raise QueryError(param, f"{value!r} is not a date (YYYY-MM-DD)") from None
    if not FIRST_DATE <= day <= LAST_DATE:
        raise QueryError(param, f"{day} is not between {FIRST_DATE} and {LAST_DATE}")
    return day


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
            first = add_months(today.replace(day=1), -1)
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


def split_list(text: str) -> list[str]:
    """A comma-separated list where `\\,` is a comma and `\\\\` a backslash inside an item."""
    items, current, chars = [], [], iter(text)
    for char in chars:
        if char == "\\":
            current.append(next(chars, "\\"))
        elif char == ",":
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return items


def _items(param: str, values: str | list[str] | tuple[str, ...] | None) -> list[str] | None:
    if values is None:
        return None
    items = split_list(values) if isinstance(values, str) else list(values)
    cleaned = sorted({i.strip() for i in items if i.strip()})
    if len(cleaned) > MAX_LIST_ITEMS:
        raise QueryError(param, f"at most {MAX_LIST_ITEMS} items")
    return cleaned or None


def _names(param: str, values: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...] | None:
    cleaned = _items(param, values)
    return None if cleaned is None else tuple(cleaned)


def _channels(channels: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...] | None:
    cleaned = _items("channels", channels)
    if not cleaned:
        return None
    for c in cleaned:
        if not re.fullmatch(CHANNEL_PATTERN, c):
            raise QueryError("channels", f"{c[:50]!r} is not a channel slug ([a-z0-9_]{{1,40}})")
    return tuple(cleaned)


def _flow_types(values: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...] | None:
    cleaned = _items("flow_types", values)
    if not cleaned:
        return None
    allowed = (*get_args(FlowType), NO_FLOW)
    for t in cleaned:
        if t not in allowed:
            raise QueryError("flow_types", f"{t[:50]!r} is not one of {', '.join(allowed)}")
    return tuple(cleaned)


def _flows(values: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...] | None:
    cleaned = _items("flows", values)
    if not cleaned:
        return None
    longest = LIMITS["flow"].max_length or 0
    for f in cleaned:
        if len(f) > longest:
            raise QueryError("flows", f"{f[:50]!r}... is longer than a flow name ({longest})")
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
        start = midnight(day, zone)
        if start >= period.end:
            break
        points.append(max(start, period.start))
        if gran is Granularity.day:
            day += timedelta(days=1)
        elif gran is Granularity.week:
            day += timedelta(days=7)
        else:
            day = add_months(day, 1)
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
