"""Platform webhooks: Chatwoot (an ingest key in the URL), WhatsApp (Meta's signature) and
Shopify (the shop's signature).

Both map the payload with their adapter and store the events through the same all-or-nothing
path as `POST /v1/events`. A webhook redelivered by its platform is a duplicate: records whose
event id is already stored are counted as duplicates before storing (a redelivered Chatwoot
status change may carry a later receipt time, which would otherwise be a conflict).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from convoscope import accounts, ingest
from convoscope.adapters import Record, chatwoot, shopify, whatsapp
from convoscope.api.bodies import parse_object, read_body
from convoscope.api.deps import Services, Svc, principal, same_text, writable
from convoscope.api.errors import ApiError, event_error, responses
from convoscope.event_fields import ConflictError, EventError
from convoscope.events import Event, validate_batch
from convoscope.store.sealed import comparable

router = APIRouter(tags=["webhooks"], dependencies=[Depends(writable)])
log = logging.getLogger("convoscope.webhooks")


class WebhookResult(BaseModel):
    accepted: int
    duplicates: int
    ignored: dict[str, int] = Field(description="Platform events not mapped to SPEC, by kind.")


def _store(
    svc: Services,
    records: dict[str, list[Record]],
    ignored: Counter[str],
    *,
    redelivered_as_duplicates: bool = True,
) -> WebhookResult:
    """Validate every workspace's records, drop the already-stored ones, store the rest;
    without `redelivered_as_duplicates`, a stored id with other content is the store's
    conflict (Shopify's order updates: a change is refused, never dropped silently)."""
    try:
        batches: dict[str, list[Event]] = {}
        duplicates = 0
        for workspace, recs in records.items():
            events = validate_batch(recs, workspace)
            ids = [e.event_id for e in events] if redelivered_as_duplicates else []
            known = svc.store.known_event_ids(workspace, ids) if ids else set()
            duplicates += sum(e.event_id in known for e in events)
            batches[workspace] = [e for e in events if e.event_id not in known]
        results = ingest.store_batches(svc.store, {ws: [b] for ws, b in batches.items()})
    except (EventError, ConflictError) as exc:
        raise event_error(exc) from None
    return WebhookResult(
        accepted=sum(r.accepted for r in results.values()),
        duplicates=duplicates + sum(r.duplicates for r in results.values()),
        ignored=dict(ignored),
    )


def _mapped(mapper: Any, platform: str, *args: Any) -> Any:
    """Run an adapter; a body of the wrong shape is the sender's error, not a crash."""
    try:
        return mapper(*args)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ApiError(422, f"not a {platform} webhook payload ({type(exc).__name__})") from None


@router.post(
    "/v1/webhooks/chatwoot",
    response_model=WebhookResult,
    responses=responses(400, 409, 413),
    summary="Chatwoot webhook",
)
async def chatwoot_webhook(
    request: Request,
    svc: Svc,
    key: Annotated[
        str | None,
        Query(description="An ingest-scoped key, for platforms that cannot send headers."),
    ] = None,
) -> WebhookResult:
    """Chatwoot's webhook events (set the URL with ?key=... in Chatwoot's settings)."""
    who = accounts.principal_for_key(svc.store, key) if key else principal(request, svc)
    if who is None:
        raise ApiError(401, "invalid API key")
    if key and who.role != "ingest":
        raise ApiError(403, "only an ingest-scoped key may be put in a URL")
    if who.key_id is None:
        raise ApiError(403, "webhooks take an API key, not a login session")
    payload = parse_object(await read_body(request))
    records, why = _mapped(chatwoot.map_event, "Chatwoot", payload, datetime.now(UTC))
    ignored = Counter({why: 1} if why else {})
    stored = await run_in_threadpool(_store, svc, {who.workspace: records}, ignored)
    names = _mapped(chatwoot.teammate_names, "Chatwoot", payload)
    if names:  # the agents' display names, for the pages
        await run_in_threadpool(svc.store.name_teammates, who.workspace, names)
    return stored


@router.get(
    "/v1/webhooks/whatsapp",
    response_class=PlainTextResponse,
    responses=responses(403),
    summary="WhatsApp verification handshake",
)
def whatsapp_verify(
    svc: Svc,
    mode: Annotated[str, Query(alias="hub.mode", max_length=64)],
    token: Annotated[str, Query(alias="hub.verify_token", max_length=256)],
    challenge: Annotated[str, Query(alias="hub.challenge", max_length=256)],
) -> PlainTextResponse:
    """Meta's subscription handshake: echo the challenge when the verify token is one a
    workspace set. The answer is the same 403 whatever is wrong, so that it tells nothing
    about which workspaces exist."""
    matches = [same_text(*comparable(token, t)) for t in svc.store.whatsapp_verify_tokens()]
    if mode != "subscribe" or not any(matches):
        raise ApiError(403, "wrong hub.mode or hub.verify_token")
    return PlainTextResponse(challenge)


@router.post(
    "/v1/webhooks/whatsapp",
    response_model=WebhookResult,
    responses=responses(400, 409, 413),
    summary="WhatsApp Cloud API webhook",
)
async def whatsapp_webhook(request: Request, svc: Svc) -> WebhookResult:
    """WhatsApp Cloud API notifications, checked with X-Hub-Signature-256 and routed to the
    workspace of their `metadata.phone_number_id`. Numbers no workspace registered, and
    numbers whose app secret did not sign the body, are refused alike (401)."""
    body = await read_body(request)
    payload = parse_object(body)
    routes = svc.store.whatsapp_numbers()
    signature = request.headers.get("x-hub-signature-256")
    numbers = _mapped(whatsapp.phone_numbers, "WhatsApp", payload)
    signed = {
        n: routes[n][0]
        for n in numbers
        if n in routes and whatsapp.signature_ok(routes[n][1], body, signature)
    }
    if not numbers or set(signed) != numbers:
        raise ApiError(401, "missing or wrong X-Hub-Signature-256")
    by_number, ignored = _mapped(whatsapp.map_payload, "WhatsApp", payload)
    records: dict[str, list[Record]] = {}
    for number, recs in by_number.items():
        records.setdefault(signed[number], []).extend(recs)
    return await run_in_threadpool(_store, svc, records, ignored)


@router.post(
    "/v1/webhooks/shopify",
    response_model=WebhookResult,
    responses=responses(400, 401, 409, 413),
    summary="Shopify webhook",
)
async def shopify_webhook(request: Request, svc: Svc) -> WebhookResult:
    """Shopify's `orders/create`, `orders/updated` and `refunds/create` notifications, routed
    to the workspace of their `X-Shopify-Shop-Domain` and checked with
    `X-Shopify-Hmac-Sha256`. An unknown shop and a wrong signature are refused alike (401).
    An update that changes an order's test flag, currency or total is a conflict (409),
    logged: the order is never changed silently."""
    body = await read_body(request)
    domain = request.headers.get("x-shopify-shop-domain", "")[:255].strip().lower()
    shop = svc.store.shopify_shop(domain)
    signature = request.headers.get("x-shopify-hmac-sha256")
    if shop is None or not shopify.signature_ok(shop[1], body, signature):
        raise ApiError(401, "unknown shop or wrong X-Shopify-Hmac-Sha256")
    topic = request.headers.get("x-shopify-topic", "")
    payload = parse_object(body)
    records, why = _mapped(shopify.map_webhook, "Shopify", topic, payload)
    ignored = Counter({why: 1} if why else {})
    try:
        return await run_in_threadpool(
            _store, svc, {shop[0]: records}, ignored, redelivered_as_duplicates=False
        )
    except ApiError as exc:
        if exc.status == 409:
            log.warning("shopify %s for workspace %r refused: %s", topic[:40], shop[0], exc.message)
        raise
