"""Analytics reads: the overview, Team Performance, the conversations behind them, and the
channels, departments and teammates for pickers.

Numbers come from `overview` and `team` unchanged, so the API serves exactly what
`convoscope report` prints. Responses carry customer data: the app marks every API response
`no-store`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from convoscope import overview, team
from convoscope.api.deps import Admin, AnalyticsParams, Svc

router = APIRouter(tags=["analytics"])


class ConversationRow(BaseModel):
    conversation_id: str
    channel: str
    customer_id: str
    started_at: str
    ended_at: str
    duration_seconds: float
    engaged: bool
    escalated_at: str | None
    transfer_requests: int
    support_type: str
    closed_at: str | None
    department: str | None
    closed_by: str | None
    first_response_at: str | None
    resolution_seconds: float | None
    customer_messages: int
    chatbot_messages: int
    teammate_messages: int


class ConversationPage(BaseModel):
    items: list[ConversationRow]
    total: int
    limit: int
    offset: int


@router.get("/v1/overview", response_model=overview.OverviewResult)
def get_overview(query: AnalyticsParams, svc: Svc) -> overview.OverviewResult:
    """Every number of the Conversation Overview page (the JSON of `convoscope report`).
    Without a period, the last 7 days."""
    return overview.run(svc.tables, query)


@router.get("/v1/team", response_model=team.TeamResult)
def get_team(query: AnalyticsParams, svc: Svc) -> team.TeamResult:
    """Every number of the Team Performance page (the JSON of `convoscope report --page
    team`). Without a period, the last 7 days."""
    return team.run(svc.tables, query)


def conversation_filters(
    query: AnalyticsParams,
    engaged: bool | None = None,
    support_type: Literal["teammate", "chatbot"] | None = None,
    department: Annotated[
        str | None,
        Query(
            max_length=256,
            description="Closed with this department; an empty value: closed without one.",
        ),
    ] = None,
    anchor: Annotated[
        Literal["started_at", "closed_at"],
        Query(description="Which timestamp places a conversation in the period."),
    ] = "started_at",
) -> overview.ConversationFilter:
    return overview.ConversationFilter(
        query=query,
        engaged=engaged,
        support_type=support_type,
        department=department,
        anchor=anchor,
    )


Filters = Annotated[overview.ConversationFilter, Depends(conversation_filters)]


@router.get("/v1/conversations", response_model=ConversationPage)
def list_conversations(
    filters: Filters,
    svc: Svc,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> ConversationPage:
    """The conversations behind the charts, newest first, for drill-down; `total` and
    `items` come from one snapshot."""
    total, rows = overview.conversations(svc.tables, filters, limit=limit, offset=offset)
    return ConversationPage(
        items=[ConversationRow(**r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get("/v1/channels")
def channels(who: Admin, svc: Svc) -> list[str]:
    """Channels that have data in the workspace."""
    return svc.tables.channels(who.workspace)


@router.get("/v1/departments")
def departments(who: Admin, svc: Svc) -> list[str]:
    """Departments conversations were closed in (the filter's `(none)` is not listed)."""
    return svc.tables.departments(who.workspace)


@router.get("/v1/teammates")
def teammates(who: Admin, svc: Svc) -> list[str]:
    """Teammates who wrote in or closed a conversation."""
    return svc.tables.teammates(who.workspace)
