"""Analytics reads: every registered page, the conversations behind them, the list of pages,
and the channels, departments and teammates for pickers.

Each page of `convoscope.pages` gets `GET /v1/<name>`, serving `pages.runner.run` unchanged,
so the API serves exactly what `convoscope report --page <name>` prints. Responses carry
customer data: the app marks every API response `no-store`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from convoscope import drilldown, pages
from convoscope.api.deps import Admin, AnalyticsParams, Settled, Svc
from convoscope.api.errors import param_error
from convoscope.pages import runner
from convoscope.pages.common import Page
from convoscope.query import QueryError

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


class PageInfo(BaseModel):
    name: str
    title: str
    titles: dict[str, str]  # the menu entry per language (en, fr)
    path: str  # where the web app shows it
    api: str  # its JSON
    exports: list[str]  # its CSVs, under /v1/reports/
    filters: list[str]  # the list filters it takes (navigation keeps only those)


def _page_endpoint(page: Page) -> Callable[..., BaseModel]:
    def read(query: AnalyticsParams, svc: Svc) -> BaseModel:
        try:
            return runner.run(page, svc.tables, query)
        except QueryError as exc:  # a filter the page does not take
            raise param_error(exc.param, exc.message) from None

    read.__name__ = f"get_{page.name}"
    read.__doc__ = page.summary
    return read


for _page in pages.PAGES.values():
    router.add_api_route(
        _page.api_path,
        _page_endpoint(_page),
        methods=["GET"],
        response_model=_page.result,
        summary=_page.title,
    )


@router.get("/v1/pages", summary="Analytics pages")
def list_pages(who: Admin) -> list[PageInfo]:
    """The analytics pages, in navigation order: the web shell builds its menu from them."""
    return [
        PageInfo(
            name=p.name,
            title=p.title,
            titles=dict(p.titles),
            path=p.web_path,
            api=p.api_path,
            exports=[f"/v1/reports/{e.name}.csv" for e in p.exports],
            filters=list(p.filters),
        )
        for p in pages.PAGES.values()
    ]


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
) -> drilldown.ConversationFilter:
    return drilldown.ConversationFilter(
        query=query,
        engaged=engaged,
        support_type=support_type,
        department=department,
        anchor=anchor,
    )


Filters = Annotated[drilldown.ConversationFilter, Depends(conversation_filters)]


@router.get(
    "/v1/conversations", response_model=ConversationPage, summary="Conversations (drill-down)"
)
def list_conversations(
    filters: Filters,
    svc: Svc,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> ConversationPage:
    """The conversations behind the charts, newest first, for drill-down; `total` and
    `items` come from one snapshot."""
    total, rows = drilldown.conversations(svc.tables, filters, limit=limit, offset=offset)
    return ConversationPage(
        items=[ConversationRow(**r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get("/v1/channels", summary="Channels with data")
def channels(who: Admin, tables: Settled) -> list[str]:
    """Channels that have data in the workspace."""
    return tables.channels(who.workspace)


@router.get("/v1/departments", summary="Departments with data")
def departments(who: Admin, tables: Settled) -> list[str]:
    """Departments conversations were closed in (the filter's `(none)` is not listed)."""
    return tables.departments(who.workspace)


@router.get("/v1/teammates", summary="Teammates with data")
def teammates(who: Admin, tables: Settled) -> list[str]:
    """Teammates who wrote in or closed a conversation."""
    return tables.teammates(who.workspace)


@router.get("/v1/flows", summary="Chatbot flows with data")
def flows(who: Admin, tables: Settled) -> list[str]:
    """Flows the chatbot entered in a conversation (the filter's `(none)` is not listed)."""
    return tables.flows(who.workspace)
