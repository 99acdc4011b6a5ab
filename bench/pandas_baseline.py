"""The pandas baseline: the overview computed in DataFrames over the same conversations.

The workspace's conversations, their events and teammates are read once into memory (as a
notebook or a small BI service would hold them); each request then filters and counts with
boolean masks and `searchsorted`, the idiomatic vectorised way. Part of the benchmark, not of
the product; the suite checks its numbers equal to convoscope's before timing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from bench.shape import by_name, mean
from convoscope.query import Query
from convoscope.store import Store


@dataclass(frozen=True)
class Frames:
    conversations: pd.DataFrame
    events: pd.DataFrame
    teammates: pd.DataFrame


def load(store: Store, workspace: str) -> Frames:
    """The workspace's rows as DataFrames (timestamps as naive UTC, like the tables)."""

    def frame(sql: str) -> pd.DataFrame:
        return store.con.execute(sql, {"ws": workspace}).df()

    return Frames(
        conversations=frame(
            "SELECT customer_id, conversation_id, started_at, ended_at, duration_us, engaged,"
            " support_type, closed_at, department, resolution_us FROM conversations"
            " WHERE workspace = $ws"
        ),
        events=frame("SELECT ts, type, sender FROM conversation_events WHERE workspace = $ws"),
        teammates=frame(
            "SELECT conversation_id, teammate_id FROM conversation_teammates WHERE workspace = $ws"
        ),
    )


def _between(column: pd.Series, start: datetime, end: datetime) -> np.ndarray:
    return ((column >= start) & (column < end)).to_numpy()


def _average(values: pd.Series) -> float | None:
    """The mean in exact integer arithmetic (a float sum drifts past 2**53 microseconds)."""
    values = values.dropna()
    return mean(int(values.astype("int64").sum()), len(values))


def overview(frames: Frames, query: Query) -> dict:
    """The overview's numbers (no filters), in the shape of `bench.shape.ours`."""
    c, e = frames.conversations, frames.events
    starts = np.array([b.start for b in query.buckets], dtype="datetime64[us]")
    ends = np.array([b.end for b in query.buckets], dtype="datetime64[us]")
    n = len(starts)

    def bucket_of(ts: pd.Series) -> np.ndarray:
        return np.searchsorted(starts, ts.to_numpy(dtype="datetime64[us]"), side="right") - 1

    def per_bucket(ts: pd.Series, mask: np.ndarray) -> list[int]:
        return np.bincount(bucket_of(ts[mask]), minlength=n).tolist()

    def tiles(start: datetime, end: datetime) -> tuple[tuple, tuple]:
        sel = c[_between(c.started_at, start, end)]
        engaged = sel[sel.engaged]
        teammate, chatbot = sel.support_type == "teammate", sel.support_type == "chatbot"
        counts = (len(sel), len(engaged), int(sel.customer_id.nunique()))
        averages = (
            _average(engaged.duration_us),
            _average(engaged.duration_us[engaged.support_type == "teammate"]),
            _average(engaged.duration_us[engaged.support_type == "chatbot"]),
        )
        support = (
            int(teammate.sum()),
            int(chatbot.sum()),
            int((teammate & sel.engaged).sum()),
            int((chatbot & sel.engaged).sum()),
        )
        return (*counts, *averages), support

    (current, support), (previous, _) = (
        tiles(query.period.start, query.period.end),
        tiles(query.previous.start, query.previous.end),
    )
    started = c[_between(c.started_at, query.period.start, query.period.end)]
    engaged = started.engaged.to_numpy()
    in_period = e[_between(e.ts, query.period.start, query.period.end)]
    sender = in_period.sender
    live = c[c.engaged & (c.started_at < query.period.end) & (c.ended_at >= query.period.start)]
    # open in [s, e) = started before e, minus ended before s (a conversation ends after it starts)
    opened = np.sort(live.started_at.to_numpy(dtype="datetime64[us]"))
    closed = np.sort(live.ended_at.to_numpy(dtype="datetime64[us]"))
    in_progress = (np.searchsorted(opened, ends) - np.searchsorted(closed, starts)).tolist()
    return {
        "tiles": current,
        "previous": previous,
        "support": support,
        "series": [
            per_bucket(started.started_at, engaged),
            per_bucket(started.started_at, ~engaged),
            per_bucket(in_period.ts, (sender == "teammate").to_numpy()),
            per_bucket(in_period.ts, (sender == "chatbot").to_numpy()),
            per_bucket(in_period.ts, (sender == "customer").to_numpy()),
            per_bucket(in_period.ts, (in_period.type == "transfer_request").to_numpy()),
            in_progress,
        ],
        "departments": _departments(frames, query),
    }


def _departments(frames: Frames, query: Query) -> list[tuple]:
    c = frames.conversations
    closed = c[_between(c.closed_at, query.period.start, query.period.end)]
    involved = closed[["conversation_id", "department"]].merge(
        frames.teammates, on="conversation_id"
    )
    teammates = involved.groupby("department", dropna=False).teammate_id.nunique()
    rows = []
    for department, group in closed.groupby("department", dropna=False):
        name = None if pd.isna(department) else str(department)
        involved_here = teammates.get(department, 0) if name is not None else _none(teammates)
        rows.append((name, len(group), int(involved_here), _average(group.resolution_us)))
    return sorted(rows, key=by_name)


def _none(teammates: pd.Series) -> int:
    """The teammates of the no-department group (a NaN key cannot be looked up with `get`)."""
    missing = teammates[teammates.index.isna()]
    return int(missing.iloc[0]) if len(missing) else 0
