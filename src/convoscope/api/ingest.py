"""`POST /v1/events`: a batch of SPEC events, stored all or nothing."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from convoscope import ingest
from convoscope.api.bodies import MAX_EVENTS, parse_events, read_body
from convoscope.api.deps import KeySender, Svc, writable
from convoscope.api.errors import event_error, responses
from convoscope.event_fields import ConflictError, EventError
from convoscope.events import Event, validate_batch
from convoscope.store import Store

router = APIRouter(tags=["ingestion"], dependencies=[Depends(writable)])


class IngestResult(BaseModel):
    accepted: int
    duplicates: int


async def store_records(store: Store, workspace: str, records: list[Any]) -> IngestResult:
    """Validate and store one request's records, all or nothing, off the event loop."""
    if not records:
        return IngestResult(accepted=0, duplicates=0)
    try:
        result = await run_in_threadpool(
            lambda: ingest.store_events(store, workspace, validate_batch(records, workspace))
        )
    except (EventError, ConflictError) as exc:
        raise event_error(exc) from None
    return IngestResult(accepted=result.accepted, duplicates=result.duplicates)


_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "maxItems": MAX_EVENTS,
                    "items": Event.model_json_schema(),
                }
            },
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    }
}


@router.post(
    "/v1/events",
    response_model=IngestResult,
    openapi_extra=_BODY,
    responses=responses(400, 409, 413),
    summary="Send events",
)
async def post_events(request: Request, who: KeySender, svc: Svc) -> IngestResult:
    """Store a batch of events (JSON array or NDJSON), all or nothing.

    The workspace is the key's. A 200 means the events are committed to disk.
    """
    body = await read_body(request)
    records = parse_events(body, request.headers.get("content-type", ""))
    return await store_records(svc.store, who.workspace, records)
