"""The HTTP service: ingestion, the overview and its exports, login, settings, erasure.

A FastAPI application over one `Store`. Every route resolves a `Principal` first (a bearer
API key, or a session cookie plus a CSRF header for writes) and then reads or writes only
that principal's workspace; the workspace never comes from the request. Numbers come from
`overview.run` unchanged, so the API serves exactly what `convoscope report` prints.
Errors are typed exceptions mapped to responses here, with the parameter or event they are
about named in the body.
"""

import csv
import hashlib
import hmac
import io
import json
import logging
import re
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Form, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner
from pydantic import BaseModel, Field, field_validator
from starlette.concurrency import run_in_threadpool

from convoscope import accounts, conversations, overview
from convoscope.accounts import Principal
from convoscope.adapters import chatwoot, whatsapp
from convoscope.events import ConflictError, Event, EventError, validate_batch
from convoscope.query import Query as OverviewQuery
from convoscope.query import QueryError
from convoscope.store import AppendResult, Store, Workspace, check_timezone

MAX_EVENTS = 10_000
MAX_BODY_BYTES = 16 * 1024 * 1024
SESSION_COOKIE = "cs_session"
CSRF_COOKIE = "cs_csrf"
CSRF_HEADER = "X-CSRF-Token"
LOGIN_WINDOW_SECONDS = 900
LOGIN_MAX_FAILURES = 5

log = logging.getLogger("convoscope.access")


# Errors -------------------------------------------------------------------------------


class ApiError(Exception):
    """An error response: status, a message, and optional structured details."""

    def __init__(self, status: int, message: str, **extra: Any):
        self.status, self.message, self.extra = status, message, extra


def _param_error(param: str, message: str) -> ApiError:
    return ApiError(422, f"{param}: {message}", errors=[{"param": param, "message": message}])


# Models -------------------------------------------------------------------------------


class ErrorBody(BaseModel):
    """Every error response: a sentence, and where it helps one entry per problem."""

    detail: str
    errors: list[dict[str, Any]] | None = Field(
        default=None,
        description="Per parameter ({param, message}) or per event "
        "({index, event_id, field, message}).",
    )
    event_ids: list[str] | None = Field(default=None, description="Conflicting event ids.")


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    reasons = {
        400: "Unreadable body",
        401: "No valid API key or session",
        403: "Not allowed for this role, or missing CSRF header",
        404: "Not configured for this workspace",
        409: "An event_id re-used with other content; nothing stored",
        413: "More than 10,000 events or 16 MiB",
        422: "Invalid parameters or events; nothing stored",
        429: "Too many failed logins",
    }
    return {c: {"model": ErrorBody, "description": reasons[c]} for c in codes}


class IngestResult(BaseModel):
    accepted: int
    duplicates: int


class WebhookResult(IngestResult):
    ignored: dict[str, int] = Field(description="Platform events not mapped to SPEC, by kind.")


class BusinessHours(BaseModel):
    """Opening hours per weekday, e.g. {"monday": [["09:00", "17:30"]]}; absent days are
    closed."""

    monday: list[tuple[str, str]] = []
    tuesday: list[tuple[str, str]] = []
    wednesday: list[tuple[str, str]] = []
    thursday: list[tuple[str, str]] = []
    friday: list[tuple[str, str]] = []
    saturday: list[tuple[str, str]] = []
    sunday: list[tuple[str, str]] = []

    model_config = {"extra": "forbid"}

    @field_validator("*")
    @classmethod
    def _spans(cls, spans: list[tuple[str, str]]) -> list[tuple[str, str]]:
        for start, end in spans:
            for value in (start, end):
                if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d|24:00", value):
                    raise ValueError(f"{value!r} is not a time HH:MM")
            if start >= end:
                raise ValueError(f"{start}-{end}: the start must be before the end")
        return spans


class WorkspaceSettings(BaseModel):
    timezone: str = Field(description="IANA time zone, e.g. America/Toronto.")
    business_hours: BusinessHours | None = None

    model_config = {"extra": "forbid"}

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_timezone(value)


class WorkspaceOut(WorkspaceSettings):
    name: str
    inactivity_seconds: int
    escalated_inactivity_seconds: int


class Me(BaseModel):
    workspace: str
    role: str
    email: str | None


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


class Erased(BaseModel):
    customer_id: str
    events: int
    conversations: int
    orphan_closes: int


# The app ------------------------------------------------------------------------------


@dataclass
class _LoginThrottle:
    """Failed logins per email; past the limit, further tries are refused for a while."""

    failures: dict[str, list[float]]
    lock: threading.Lock

    def retry_after(self, email: str) -> int:
        now = time.monotonic()
        with self.lock:
            recent = [t for t in self.failures.get(email, []) if now - t < LOGIN_WINDOW_SECONDS]
            self.failures[email] = recent
            if len(recent) < LOGIN_MAX_FAILURES:
                return 0
            return int(LOGIN_WINDOW_SECONDS - (now - recent[0])) + 1

    def failed(self, email: str) -> None:
        with self.lock:
            self.failures.setdefault(email, []).append(time.monotonic())

    def succeeded(self, email: str) -> None:
        with self.lock:
            self.failures.pop(email, None)


def create_app(store: Store, *, secure_cookies: bool = False) -> FastAPI:
    """The application over `store`. `secure_cookies` marks cookies Secure (behind HTTPS)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        store.checkpoint()

    app = FastAPI(
        title="convoscope",
        version="0.1.0",
        summary="Conversation analytics for customer messaging.",
        lifespan=lifespan,
        responses=_errors(401, 403, 422),
    )
    secret = accounts.server_secret(store)
    signer = TimestampSigner(secret, salt="session")
    throttle = _LoginThrottle({}, threading.Lock())

    def csrf_token(session_hash: str) -> str:
        return hmac.new(secret, session_hash.encode(), hashlib.sha256).hexdigest()

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        extra = dict(exc.extra)
        headers = extra.pop("headers", None)
        return JSONResponse({"detail": exc.message, **extra}, exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        """FastAPI's parameter errors in our shape: a sentence, and one entry per parameter."""
        errors = [
            {
                "param": ".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]),
                "message": e["msg"],
            }
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['param']}: {e['message']}" for e in errors)
        return JSONResponse({"detail": detail, "errors": errors}, 422)

    @app.middleware("http")
    async def _access_log(request: Request, call_next: Any) -> Response:
        """One JSON line per request: path without query string, never headers or bodies."""
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            log.info(
                json.dumps(
                    {
                        "method": request.method,
                        "path": request.url.path,
                        "status": status,
                        "ms": round((time.perf_counter() - started) * 1000, 1),
                        "client": request.client.host if request.client else None,
                    }
                )
            )

    def principal(request: Request) -> Principal:
        auth = request.headers.get("authorization")
        if auth is not None:
            scheme, _, key = auth.partition(" ")
            found = (
                accounts.principal_for_key(store, key.strip())
                if scheme.lower() == "bearer"
                else None
            )
            if found is None:
                raise ApiError(401, "invalid API key", headers={"WWW-Authenticate": "Bearer"})
            return found
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            try:
                token = signer.unsign(
                    cookie, max_age=int(accounts.SESSION_LIFETIME.total_seconds())
                ).decode()
            except (BadSignature, SignatureExpired):
                token = None
            found = accounts.principal_for_session(store, token) if token else None
            if found is not None:
                if request.method not in ("GET", "HEAD", "OPTIONS"):
                    sent = request.headers.get(CSRF_HEADER, "")
                    if not hmac.compare_digest(sent, csrf_token(found.session or "")):
                        raise ApiError(403, f"missing or wrong {CSRF_HEADER} header")
                return found
        raise ApiError(
            401,
            "authentication required: a Bearer API key or a login session",
            headers={"WWW-Authenticate": "Bearer"},
        )

    app.state.principal = principal  # for the page routes of `convoscope.web`

    def workspace_of(who: Principal) -> Workspace:
        workspace = store.workspace(who.workspace)
        if workspace is None:  # deleted under a live key or session
            raise ApiError(401, f"workspace {who.workspace!r} no longer exists")
        return workspace

    def admin(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if not who.is_admin:
            raise ApiError(403, "analytics and settings are for workspace admins (and admin keys)")
        return who

    Admin = Annotated[Principal, Depends(admin)]
    Anyone = Annotated[Principal, Depends(principal)]

    # Operations ------------------------------------------------------------------------

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """Liveness and database reachability."""
        store.con.execute("SELECT 1").fetchall()
        return {"status": "ok"}

    # Ingestion -------------------------------------------------------------------------

    @app.post(
        "/v1/events",
        tags=["ingestion"],
        response_model=IngestResult,
        openapi_extra={
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
        },
        responses=_errors(400, 409, 413),
    )
    async def post_events(request: Request) -> IngestResult:
        """Store a batch of events (JSON array or NDJSON), all or nothing.

        The workspace is the key's. A 200 means the events are committed to disk.
        """
        who = principal(request)
        if who.key_id is None:
            raise ApiError(403, "sending events takes an API key, not a login session")
        body = await _read_body(request)
        records = _parse_events(body, request.headers.get("content-type", ""))
        result = await store_records(who.workspace, records)
        return IngestResult(accepted=result.accepted, duplicates=result.duplicates)

    async def store_records(workspace: str, records: list[Any]) -> AppendResult:
        """Validate and store one request's records, all or nothing, off the event loop."""
        if not records:
            return AppendResult(0, 0)
        try:
            return await run_in_threadpool(
                lambda: conversations.ingest(store, workspace, [validate_batch(records, workspace)])
            )
        except EventError as exc:
            raise ApiError(
                422,
                f"{len(exc.errors)} invalid event(s), nothing stored",
                errors=[
                    {
                        "index": e.index,
                        "event_id": e.event_id,
                        "field": e.field,
                        "message": e.message,
                    }
                    for e in exc.errors
                ],
            ) from None
        except ConflictError as exc:
            raise ApiError(409, str(exc), event_ids=exc.event_ids) from None

    # Platform webhooks -----------------------------------------------------------------

    @app.post(
        "/v1/webhooks/chatwoot",
        tags=["webhooks"],
        response_model=WebhookResult,
        responses=_errors(400, 409, 413),
    )
    async def chatwoot_webhook(
        request: Request,
        key: Annotated[
            str | None,
            Query(description="The workspace's API key, for platforms that cannot send headers."),
        ] = None,
    ) -> WebhookResult:
        """Chatwoot's webhook events (set the URL with ?key=... in Chatwoot's settings)."""
        who = accounts.principal_for_key(store, key) if key else principal(request)
        if who is None:
            raise ApiError(401, "invalid API key")
        if key and who.role != "ingest":
            raise ApiError(403, "only an ingest-scoped key may be put in a URL")
        if who.key_id is None:
            raise ApiError(403, "webhooks take an API key, not a login session")
        payload = _parse_object(await _read_body(request))
        records, ignored = _map_payload(chatwoot.map_event, payload, "Chatwoot")
        result = await store_records(who.workspace, records)
        return WebhookResult(
            accepted=result.accepted,
            duplicates=result.duplicates,
            ignored={ignored: 1} if ignored else {},
        )

    def whatsapp_settings(workspace: str) -> tuple[str, str]:
        settings = store.whatsapp(workspace)
        if settings is None:
            raise ApiError(404, f"WhatsApp is not configured for workspace {workspace!r}")
        return settings

    @app.get(
        "/v1/webhooks/whatsapp",
        tags=["webhooks"],
        response_class=PlainTextResponse,
        responses=_errors(404),
    )
    def whatsapp_verify(
        workspace: str,
        mode: Annotated[str, Query(alias="hub.mode")],
        token: Annotated[str, Query(alias="hub.verify_token")],
        challenge: Annotated[str, Query(alias="hub.challenge", max_length=256)],
    ) -> PlainTextResponse:
        """Meta's subscription handshake: echo the challenge when the verify token matches."""
        _, verify_token = whatsapp_settings(workspace)
        if mode != "subscribe" or not hmac.compare_digest(token, verify_token):
            raise ApiError(403, "wrong hub.mode or hub.verify_token")
        return PlainTextResponse(challenge)

    @app.post(
        "/v1/webhooks/whatsapp",
        tags=["webhooks"],
        response_model=WebhookResult,
        responses=_errors(400, 404, 409, 413),
    )
    async def whatsapp_webhook(request: Request, workspace: str) -> WebhookResult:
        """WhatsApp Cloud API notifications, checked with X-Hub-Signature-256."""
        app_secret, _ = whatsapp_settings(workspace)
        body = await _read_body(request)
        if not whatsapp.signature_ok(app_secret, body, request.headers.get("x-hub-signature-256")):
            raise ApiError(401, "missing or wrong X-Hub-Signature-256")
        records, ignored = _map_payload(whatsapp.map_payload, _parse_object(body), "WhatsApp")
        result = await store_records(workspace, records)
        return WebhookResult(
            accepted=result.accepted, duplicates=result.duplicates, ignored=dict(ignored)
        )

    # Queries ---------------------------------------------------------------------------

    def overview_query(
        who: Admin,
        period: Annotated[
            Literal["today", "yesterday", "last_7_days", "last_30_days", "this_month", "last_month"]
            | None,
            Query(description="A preset; or give from and to."),
        ] = None,
        date_from: Annotated[date | None, Query(alias="from", description="First day.")] = None,
        date_to: Annotated[
            date | None, Query(alias="to", description="Last day, included.")
        ] = None,
        tz: Annotated[str | None, Query(description="IANA zone; default the workspace's.")] = None,
        channels: Annotated[str | None, Query(description="Comma-separated channels.")] = None,
        granularity: Annotated[Literal["hour", "day", "week", "month"] | None, Query()] = None,
    ) -> OverviewQuery:
        workspace = workspace_of(who)
        if period is None and date_from is None and date_to is None:
            period = "last_7_days"
        try:
            return OverviewQuery.build(
                who.workspace,
                timezone=tz or workspace.timezone,
                period=period,
                date_from=date_from,
                date_to=date_to,
                granularity=granularity,
                channels=channels,
            )
        except QueryError as exc:
            raise _param_error(exc.param, exc.message) from None

    OverviewParams = Annotated[OverviewQuery, Depends(overview_query)]

    @app.get(
        "/v1/overview",
        tags=["analytics"],
        response_model=overview.OverviewResult,
    )
    def get_overview(query: OverviewParams) -> overview.OverviewResult:
        """Every number of the Conversation Overview page (the JSON of `convoscope report`).
        Without a period, the last 7 days."""
        return overview.run(store, query)

    @app.get(
        "/v1/reports/departments.csv",
        tags=["analytics"],
        response_class=Response,
        responses={200: {"content": {"text/csv": {}}}},
    )
    def departments_csv(query: OverviewParams) -> Response:
        """The department report: one row per department closed in the period."""
        name, text, _ = overview.department_report(store, query)
        return Response(
            text,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    def conversation_filters(
        query: OverviewParams,
        engaged: bool | None = None,
        support_type: Literal["teammate", "chatbot"] | None = None,
        department: Annotated[
            str | None,
            Query(description="Closed with this department; an empty value: closed without one."),
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

    @app.get("/v1/conversations", tags=["analytics"], response_model=ConversationPage)
    def list_conversations(
        filters: Filters,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    ) -> ConversationPage:
        """The conversations behind the charts, newest first, for drill-down."""
        total, rows = overview.conversations(store, filters, limit=limit, offset=offset)
        return ConversationPage(
            items=[ConversationRow(**r) for r in rows], total=total, limit=limit, offset=offset
        )

    @app.get(
        "/v1/conversations.csv",
        tags=["analytics"],
        response_class=StreamingResponse,
        responses={200: {"content": {"text/csv": {}}}},
    )
    def conversations_csv(filters: Filters) -> StreamingResponse:
        """The same conversations as CSV, all of them, one row each."""
        _, rows = overview.conversations(store, filters, limit=None, offset=0)

        def lines() -> Iterator[str]:
            out = io.StringIO()
            writer = csv.DictWriter(out, list(ConversationRow.model_fields), lineterminator="\n")
            writer.writeheader()
            for row in rows:
                writer.writerow(row)
                yield out.getvalue()
                out.seek(0)
                out.truncate()
            yield out.getvalue()

        name = overview.export_filename("conversations", filters.query)
        return StreamingResponse(
            lines(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @app.get("/v1/channels", tags=["analytics"])
    def channels(who: Admin) -> list[str]:
        """Channels that have data in the workspace."""
        return store.channels(who.workspace)

    # Settings and privacy --------------------------------------------------------------

    def _workspace_out(ws: Workspace) -> WorkspaceOut:
        return WorkspaceOut(
            name=ws.name,
            timezone=ws.timezone,
            business_hours=BusinessHours.model_validate(ws.business_hours)
            if ws.business_hours
            else None,
            inactivity_seconds=ws.inactivity_seconds,
            escalated_inactivity_seconds=ws.escalated_inactivity_seconds,
        )

    @app.get("/v1/workspace", tags=["settings"], response_model=WorkspaceOut)
    def get_workspace(who: Admin) -> WorkspaceOut:
        return _workspace_out(workspace_of(who))

    @app.put("/v1/workspace", tags=["settings"], response_model=WorkspaceOut)
    def put_workspace(who: Admin, settings: WorkspaceSettings) -> WorkspaceOut:
        """Change the time zone (IANA names only) and business hours."""
        hours = settings.business_hours.model_dump() if settings.business_hours else None
        store.update_workspace(who.workspace, settings.timezone, hours)
        return _workspace_out(workspace_of(who))

    @app.delete("/v1/customers/{customer_id}", tags=["privacy"], response_model=Erased)
    def erase_customer(who: Admin, customer_id: str) -> Erased:
        """Erase a customer's events and conversations in this workspace (right to be
        forgotten), on every channel; reports what was removed."""
        counts = store.erase_customer(who.workspace, customer_id)
        return Erased(
            customer_id=customer_id,
            events=counts["events"],
            conversations=counts["conversations"],
            orphan_closes=counts["orphan_closes"],
        )

    # Login -----------------------------------------------------------------------------

    @app.post(
        "/login",
        tags=["session"],
        response_model=Me,
        responses=_errors(429),
    )
    def login(
        response: Response,
        email: Annotated[str, Form(max_length=320)],
        password: Annotated[str, Form(max_length=1024)],
    ) -> Me:
        """Check email and password; set the session cookie (HttpOnly, SameSite=Lax) and the
        CSRF cookie whose value must come back in the X-CSRF-Token header on writes."""
        key = email.strip().lower()
        wait = throttle.retry_after(key)
        if wait:
            raise ApiError(
                429, "too many failed logins; try again later", headers={"Retry-After": str(wait)}
            )
        who = accounts.check_password(store, email, password)
        if who is None:
            throttle.failed(key)
            raise ApiError(401, "wrong email or password")
        throttle.succeeded(key)
        token = accounts.open_session(store, who)
        session_hash = accounts.session_hash(token)
        max_age = int(accounts.SESSION_LIFETIME.total_seconds())
        response.set_cookie(
            SESSION_COOKIE,
            signer.sign(token).decode(),
            max_age=max_age,
            httponly=True,
            samesite="lax",
            secure=secure_cookies,
        )
        response.set_cookie(
            CSRF_COOKIE,
            csrf_token(session_hash),
            max_age=max_age,
            httponly=False,
            samesite="lax",
            secure=secure_cookies,
        )
        return Me(workspace=who.workspace, role=who.role, email=who.email)

    @app.post("/logout", tags=["session"], status_code=204, response_class=Response)
    def logout(who: Anyone) -> Response:
        """End the session (cookie-authenticated: needs the CSRF header)."""
        if who.session:
            accounts.close_session(store, who)
        response = Response(status_code=204)
        response.delete_cookie(SESSION_COOKIE)
        response.delete_cookie(CSRF_COOKIE)
        return response

    @app.get("/v1/me", tags=["session"], response_model=Me)
    def me(who: Anyone) -> Me:
        return Me(workspace=who.workspace, role=who.role, email=who.email)

    return app


async def _read_body(request: Request) -> bytes:
    """The body, refusing more than MAX_BODY_BYTES without reading it all."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError(413, f"body over {MAX_BODY_BYTES} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiError(413, f"body over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _map_payload(mapper: Any, payload: dict[str, Any], platform: str) -> Any:
    """Run an adapter; a body of the wrong shape is the sender's error, not a crash."""
    try:
        return mapper(payload)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ApiError(422, f"not a {platform} webhook payload ({exc!r})") from None


def _parse_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, f"body is not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise ApiError(422, "body must be a JSON object")
    return payload


def _parse_events(body: bytes, content_type: str) -> list[Any]:
    """A JSON array, or NDJSON with Content-Type application/x-ndjson."""
    try:
        text = body.decode("utf-8")
        if content_type.split(";")[0].strip().lower() == "application/x-ndjson":
            records = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            records = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, f"body is not valid JSON: {exc}") from None
    if not isinstance(records, list):
        raise ApiError(422, "body must be a JSON array of events (or NDJSON)")
    if len(records) > MAX_EVENTS:
        raise ApiError(413, f"{len(records)} events; at most {MAX_EVENTS} per request")
    return records
