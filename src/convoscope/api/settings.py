"""Workspace settings (time zone, business hours) and erasure of a customer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field, field_validator

from convoscope import ingest
from convoscope.api.deps import Admin, Svc, workspace_of, writable
from convoscope.business_hours import BusinessHours
from convoscope.store import Workspace, check_timezone

router = APIRouter()


class WorkspaceSettings(BaseModel):
    """What an admin may change of the workspace's settings (`store.Settings`)."""

    timezone: str = Field(max_length=64, description="IANA time zone, e.g. America/Toronto.")
    business_hours: BusinessHours | None = None

    model_config = {"extra": "forbid"}

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_timezone(value)


class Erased(BaseModel):
    customer_id: str
    events: int
    conversations: int
    orphan_closes: int


@router.get("/v1/workspace", tags=["settings"], response_model=Workspace)
def get_workspace(who: Admin, svc: Svc) -> Workspace:
    """The workspace's settings (`store.Settings`: the model the database and lakes share)."""
    return workspace_of(svc, who)


@router.put("/v1/workspace", tags=["settings"], response_model=Workspace)
def put_workspace(who: Admin, svc: Svc, settings: WorkspaceSettings) -> Workspace:
    """Change the time zone (IANA names only) and business hours."""
    hours = settings.business_hours.model_dump() if settings.business_hours else None
    return svc.store.update_workspace(who.workspace, settings.timezone, hours)


@router.delete(
    "/v1/customers/{customer_id:path}",
    tags=["privacy"],
    response_model=Erased,
    dependencies=[Depends(writable)],
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
