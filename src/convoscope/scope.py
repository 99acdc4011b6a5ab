"""Which conversations a request covers: the filters of SPEC section 3, as SQL, written once.

Every analytics statement of both pages narrows its rows with these conditions, so a filter
means the same on every tile, chart and table. The conditions read named parameters that
`params` fills from a Query, and are true for everything when a filter is not set:

- channels: the conversation's channel (orphan closes and surveys too: they have no
  conversation, so channels is the only filter that reaches them);
- departments: the department of the conversation's close; a conversation not closed, or
  closed without a department, matches only the pseudo-department `(none)`;
- teammates: a conversation matches when one of them sent a message in it or closed it.

Event-anchored metrics (messages, transfer requests, teammate messages) count the events of
matching conversations (`in_scope`). Team Performance attributes most elements to a teammate
and filters those by attribution instead (see `team`), so it asks for the conversation
conditions without the teammate one.
"""

from __future__ import annotations

from typing import Any

from convoscope.query import NO_DEPARTMENT, NO_FLOW, Query

# The parameters that are lists of text. A list is never NULL: a filter that is not set is an
# empty list and a false `by_*` flag, because not every engine has a NULL array (ClickHouse).
LISTS = ("channels", "departments", "teammates", "flow_types", "flows")

CHANNEL = "(NOT $by_channel OR list_contains($channels, {a}.channel))"
DEPARTMENT = (
    "(NOT $by_department OR ({a}.department IS NULL AND $no_department)"
    " OR coalesce(list_contains($departments, {a}.department), false))"
)
TEAMMATE = "(NOT $by_teammate OR list_has_any({a}.teammates, $teammates))"


def conversation(alias: str, *, teammates: bool = True) -> str:
    """The filters as a condition on a `conversations` row named `alias`."""
    parts = [CHANNEL, DEPARTMENT, TEAMMATE] if teammates else [CHANNEL, DEPARTMENT]
    return " AND ".join(p.format(a=alias) for p in parts)


def in_scope(alias: str, *, teammates: bool = True) -> str:
    """The filters as a condition on a row of a table keyed by conversation (events, waits,
    surveys) named `alias`: its channel, and its conversation matching the other filters."""
    unfiltered = "NOT $by_department" + (" AND NOT $by_teammate" if teammates else "")
    # The subquery repeats NOT (unfiltered): DuckDB plans the IN whatever the parameters, and
    # without it would collect every conversation id of the workspace for nothing (about
    # 80 ms on 1.7 million conversations).
    return (
        f"{CHANNEL.format(a=alias)} AND ({unfiltered} OR {alias}.conversation_id IN ("
        f"SELECT c.conversation_id FROM conversations AS c WHERE NOT ({unfiltered}) AND "
        f"c.workspace = $ws AND {conversation('c', teammates=teammates)}))"
    )


def params(query: Query) -> dict[str, Any]:
    """The parameters every condition above reads."""
    return {
        "ws": query.workspace,
        "by_channel": bool(query.channels),
        "channels": list(query.channels or ()),
        "by_department": query.departments is not None,
        "no_department": NO_DEPARTMENT in (query.departments or ()),
        "departments": [d for d in query.departments or () if d != NO_DEPARTMENT],
        "by_teammate": bool(query.teammates),
        "teammates": list(query.teammates or ()),
        # Chatbot Performance's filters (`pages.chatbot` writes their conditions)
        **_named("flow_type", query.flow_types),
        **_named("flow", query.flows),
    }


def _named(name: str, chosen: tuple[str, ...] | None) -> dict[str, Any]:
    """A filter of names that may hold NO_FLOW: whether it is set, whether "no flow" is
    chosen, and the names."""
    return {
        f"by_{name}": chosen is not None,
        f"no_{name}": NO_FLOW in (chosen or ()),
        f"{name}s": [c for c in chosen or () if c != NO_FLOW],
    }
