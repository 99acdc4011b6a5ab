"""The overview's numbers in one plain shape (tuples and lists), so that a baseline's result
can be checked equal to convoscope's with `==` before either is timed."""

from __future__ import annotations

from decimal import Decimal

from convoscope.pages import overview
from convoscope.pages.common import average_seconds
from convoscope.query import Query
from convoscope.store import Store


def by_name(row: tuple) -> tuple:
    """Departments by name, no department last."""
    return (row[0] is None, row[0] or "")


def mean(total_us: int | Decimal | None, n: int) -> float | None:
    """A mean of microsecond durations in seconds from its exact sum and count, rounded as the
    overview rounds it (to the microsecond, half to even: `pages.common.average_seconds`); a
    float mean rounded again can differ by a microsecond at a tie."""
    return average_seconds(None if total_us is None else int(total_us), n)


def ours(store: Store, query: Query) -> dict:
    """`overview.run`'s numbers in the shape the baselines give."""
    r = overview.run(store, query)

    def tiles(t: overview.Tiles) -> tuple:
        d = t.average_conversation_duration_seconds
        counts = (t.total_conversations, t.engaged_conversations, t.unique_customers)
        return (*counts, d.all, d.teammate, d.chatbot)

    s = r.support_type
    return {
        "tiles": tiles(r.tiles),
        "previous": tiles(r.tiles.previous),
        "support": (s.all.teammate, s.all.chatbot, s.engaged.teammate, s.engaged.chatbot),
        "series": [
            r.engagement.engaged,
            r.engagement.non_engaged,
            r.messages.teammate,
            r.messages.chatbot,
            r.messages.customer,
            r.traffic.transfer_requests,
            r.traffic.engaged_conversations,
        ],
        "departments": sorted(
            (
                (d.department, d.conversations, d.teammates_involved, d.avg_resolution_seconds)
                for d in r.closed_by_department
            ),
            key=by_name,
        ),
    }
