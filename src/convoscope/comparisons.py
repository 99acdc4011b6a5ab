"""The previous period a tile is compared with (SPEC section 4: "the previous period of equal
length").

The previous period is the same number of local days just before the current one. When the
current period is still in progress (it contains now: `today`, `last_7_days`, `this_month`, a
custom range ending today or later), comparing it with whole days would show a drop every
morning, so the previous period is cut at the same local wall-clock time: at 10:01 on day 7
of `last_7_days`, the previous seven days count up to 10:01 on their last day. The cut is a
local time converted with the zone's rules, so across a DST change both sides cover the same
wall-clock span even though one of them is an hour longer or shorter in real time.
This module only computes spans; it knows nothing of metrics.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from convoscope.periods import Period, to_local, to_utc, whole_days


def in_progress(current: Period, now: datetime) -> bool:
    """Whether `now` (naive UTC) falls inside the period."""
    return current.start <= now < current.end


def previous_period(current: Period, zone: ZoneInfo, now: datetime) -> Period:
    """The comparison period of `current`, given `now` as naive UTC."""
    shift = timedelta(days=current.days)
    previous = whole_days(current.first - shift, current.last - shift, zone)
    if not in_progress(current, now):
        return previous
    local_now = to_local(now, zone).replace(tzinfo=None)
    end = to_utc(local_now - shift, zone)
    return Period(previous.first, previous.last, previous.start, min(end, previous.end))
