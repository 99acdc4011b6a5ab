"""Rollups or rows: which source answers a statement of a page.

The rollups (`convoscope.rollups`) hold sums per 15-minute UTC slot, channel and close
department. They answer a figure when summing whole slots gives exactly what the rows give:
no teammate filter (a property of a conversation that a sum cannot carry) and every edge on a
slot. Tiles need only their start on a slot: the last, partial slot of a period compared up
to the current minute is added from the rows (`slot_end`). Everything else reads the rows.
Both paths give the same numbers (the property tests compare them).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

from convoscope.query import Period, Query

SLOT_MINUTES = 15


def on_slot(ts: datetime) -> bool:
    return ts.minute % SLOT_MINUTES == 0 and ts.second == 0 and ts.microsecond == 0


def slot_end(ts: datetime) -> datetime:
    """The start of the slot holding `ts`: whole slots end there."""
    return ts - timedelta(
        minutes=ts.minute % SLOT_MINUTES, seconds=ts.second, microseconds=ts.microsecond
    )


def tiles_from_rollups(query: Query, period: Period) -> bool:
    """Whether the rollups answer a period's tiles: no teammate filter, a start on a slot."""
    return query.teammates is None and on_slot(period.start)


def series_from_rollups(query: Query) -> bool:
    """Whether the rollups answer the series of `query`: no teammate filter, every bucket edge
    on a slot (true in every zone in use today), buckets contiguous over the period."""
    edges = [b.start for b in query.buckets] + [b.end for b in query.buckets]
    contiguous = all(a.end == b.start for a, b in pairwise(query.buckets))
    return (
        query.teammates is None
        and contiguous
        and query.buckets[0].start == query.period.start
        and query.buckets[-1].end == query.period.end
        and all(map(on_slot, edges))
    )


def starts_on_slots(query: Query) -> bool:
    """Whether every bucket of `query` starts on a slot (true in every zone in use today): an
    instant is then in the bucket of its slot's start, so a page may count its rows per slot
    before placing them in buckets."""
    return all(on_slot(b.start) for b in query.buckets)
