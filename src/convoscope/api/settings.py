"""Workspace settings (time zone, business hours, flow catalogue, attribution window), the
teammates' display names, and erasure of a customer or a shop customer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path
from pydantic import BaseModel, Field, field_validator

from convoscope import ingest
from convoscope.api.deps import Admin, Svc, workspace_of, writable
from convoscope.business_hours import BusinessHours
from convoscope.event_fields import LIMITS, FlowType
from convoscope.store import Workspace, check_timezone
from convoscope.store.workspaces import MAX_ATTRIBUTION_DAYS, MAX_CATALOGUE, FlowName

router = APIRouter()


class WorkspaceSettings(BaseModel):
    """What an admin may change of the workspace's settings (`store.Settings`). A partial
    update: a setting left out keeps its value (`business_hours: null` clears the hours:
    24/7; `flow_types` replaces the whole catalogue)."""

    timezone: str | None = Field(
        default=None, max_length=64, description="IANA time zone, e.g. America/Toronto."
    )
    business_hours: BusinessHours | None = None
    flow_types: Annotated[
        dict[FlowName, FlowType] | None,
        Field(
            max_length=MAX_CATALOGUE,
            description="The flow catalogue: flow name -> campaign, transfer, sales, support or "
            "other; it re-types the chatbot's flows in every period, past ones included.",
        ),
    ] = None
    attribution_window_days: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ATTRIBUTION_DAYS,
        description="Sales Attribution: how many days after a conversation's last message an "
        "order is credited to it (default 14); read back as attribution_window_seconds.",
    )

    model_config = {"extra": "forbid"}

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is None:
            raise ValueError("must be an IANA time zone; leave it out to keep the current one")
        return check_timezone(value)

    @field_validator("attribution_window_days")
    @classmethod
    def _window(cls, value: int | None) -> int:
        if value is None:
            raise ValueError("must be a whole number of days; leave it out to keep it")
        return value

    @field_validator("flow_types")
    @classmethod
    def _catalogue(cls, value: dict[str, str] | None) -> dict[str, str]:
        if value is None:
            raise ValueError("must be an object; {} empties the catalogue")
        return value


class ShopCustomerErased(BaseModel):
    customer_ref: str
    orders: int
    refunds: int
    identifications: int


class Erased(BaseModel):
    customer_id: str
    events: int
    conversations: int
    orphan_closes: int


@router.get(
    "/v1/workspace", tags=["settings"], response_model=Workspace, summary="Workspace settings"
)
def get_workspace(who: Admin, svc: Svc) -> Workspace:
    """The workspace's settings (`store.Settings`: the model the database and lakes share)."""
    return workspace_of(svc, who)


@router.put(
    "/v1/workspace",
    tags=["settings"],
    response_model=Workspace,
    summary="Change workspace settings",
)
def put_workspace(who: Admin, svc: Svc, settings: WorkspaceSettings) -> Workspace:
    """Change the time zone (IANA names only), the business hours, the flow catalogue or the
    attribution window; the settings left out keep their values."""
    changes = settings.model_dump(include=settings.model_fields_set)
    if "attribution_window_days" in changes:
        changes["attribution_window_seconds"] = changes.pop("attribution_window_days") * 86400
    return svc.store.update_workspace(who.workspace, **changes)


TeammateId = Annotated[str, Field(min_length=1, max_length=LIMITS["teammate_id"].max_length)]
DisplayName = Annotated[str, Field(min_length=1, max_length=200)]
MAX_NAMES = 1000  # a request's worth


@router.get("/v1/teammate-names", tags=["settings"], summary="Teammates' display names")
def get_teammate_names(who: Admin, svc: Svc) -> dict[str, str]:
    """The display names known for the workspace's teammates, by teammate id (the pages show
    them instead of the ids; the CSVs keep the ids)."""
    return svc.store.teammate_names(who.workspace)


@router.put("/v1/teammate-names", tags=["settings"], summary="Name teammates")
def put_teammate_names(
    who: Admin,
    svc: Svc,
    names: Annotated[dict[TeammateId, DisplayName | None], Body(max_length=MAX_NAMES)],
) -> dict[str, str]:
    """Set display names by teammate id (`null` forgets one); the others keep theirs. The
    Chatwoot adapter fills them from its webhooks; other platforms' ids can be named here."""
    svc.store.name_teammates(who.workspace, names)
    return svc.store.teammate_names(who.workspace)


@router.delete(
    "/v1/customers/{customer_id:path}",
    tags=["privacy"],
    response_model=Erased,
    dependencies=[Depends(writable)],
    summary="Erase a customer",
)
def erase_customer(
    who: Admin, svc: Svc, customer_id: Annotated[str, Path(min_length=1, max_length=256)]
) -> Erased:
    """Erase a customer's events and conversations in this workspace (right to be
    forgotten), on every channel; reports what was removed. The id may contain `/`."""
    counts = ingest.erase_customer(svc.store, who.workspace, customer_id)
    return Erased(
        customer_id=customer_id,
        events=counts["events"],
        conversations=counts["conversations"],
        orphan_closes=counts["orphan_closes"],
    )


@router.delete(
    "/v1/shop-customers/{customer_ref:path}",
    tags=["privacy"],
    response_model=ShopCustomerErased,
    dependencies=[Depends(writable)],
    summary="Erase a shop customer",
)
def erase_shop_customer(
    who: Admin, svc: Svc, customer_ref: Annotated[str, Path(min_length=1, max_length=256)]
) -> ShopCustomerErased:
    """Erase a shop customer's orders, their refunds and the sign-ins that named them (SPEC
    section 8); the conversations stay, no longer linked to them. The id may contain `/`."""
    counts = ingest.erase_shop_customer(svc.store, who.workspace, customer_ref)
    return ShopCustomerErased(
        customer_ref=customer_ref,
        orders=counts["order"],
        refunds=counts["refund"],
        identifications=counts["identify"],
    )
