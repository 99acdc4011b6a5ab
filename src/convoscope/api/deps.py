"""What a route depends on: the services of the app, the caller, and the parsed query.

`Services` holds everything a route needs beyond the request (the store, the tables analytics
read, the session signer,
the login guard); it is built once by `create_app` and read through the `services`
dependency, so routers are plain module-level functions and the page routes of `web/` use
the same dependencies. A caller is a `Principal`: a bearer API key, or a session cookie
(plus the CSRF header on writes). Its workspace is the only one a route reads or writes.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner

from convoscope import accounts, conversations
from convoscope.accounts import Principal
from convoscope.api.errors import ApiError, param_error
from convoscope.api.guard import LoginGuard
from convoscope.engines import Tables
from convoscope.query import Query as AnalyticsQuery
from convoscope.query import QueryError, QueryParams
from convoscope.store import Store, Workspace

SESSION_COOKIE = "cs_session"
CSRF_COOKIE = "cs_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass
class Services:
    store: Store  # accounts, sessions, keys, workspaces; and the events unless `lake`
    tables: Tables  # the derived tables analytics read: the store's, or a lake's
    secret: bytes
    signer: TimestampSigner
    guard: LoginGuard
    secure_cookies: bool
    lake: bool = False  # read-only analytics over a lake: events go to the lake's pipeline
    operator_digest: str | None = None  # SHA-256 of the CLI's operator token (`api.operator`)

    def csrf_token(self, session_hash: str) -> str:
        return hmac.new(self.secret, session_hash.encode(), hashlib.sha256).hexdigest()


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


Svc = Annotated[Services, Depends(services)]


def writable(svc: Svc) -> None:
    """Refuse event writes on a server over a lake (`convoscope serve --lake`): the lake's
    events are the platform's pipeline's, and Spark derives what this server reads."""
    if svc.lake:
        raise ApiError(
            409,
            "this server serves a lake, read-only: write events to the lake's events/ "
            "directory, then run `convoscope spark sessionize`",
        )


def same_text(sent: str, expected: str) -> bool:
    """Constant-time comparison of any two strings (non-ASCII included)."""
    return hmac.compare_digest(sent.encode("utf-8", "surrogatepass"), expected.encode())


def _session_principal(svc: Services, request: Request) -> Principal | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        lifetime = int(accounts.SESSION_LIFETIME.total_seconds())
        token = svc.signer.unsign(cookie, max_age=lifetime).decode()
    except (BadSignature, SignatureExpired, UnicodeDecodeError):
        return None
    found = accounts.principal_for_session(svc.store, token)
    if found is not None and request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not same_text(sent, svc.csrf_token(found.session or "")):
            raise ApiError(403, f"missing or wrong {CSRF_HEADER} header")
    return found


# Declares the bearer scheme in the OpenAPI schema, so that /docs has an Authorize button
# and "Try it out" sends the key; the header is read below (a cookie session is the other way).
_BEARER = HTTPBearer(auto_error=False, description="An API key (`convoscope key create`).")


def principal(
    request: Request,
    svc: Svc,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)] = None,
) -> Principal:
    """The caller: a bearer API key, else a session cookie; 401 otherwise."""
    auth = request.headers.get("authorization")
    if auth is not None:
        scheme, _, key = auth.partition(" ")
        found = (
            accounts.principal_for_key(svc.store, key.strip())
            if scheme.lower() == "bearer"
            else None
        )
        if found is None:
            raise ApiError(401, "invalid API key", headers={"WWW-Authenticate": "Bearer"})
        return found
    found = _session_principal(svc, request)
    if found is None:
        raise ApiError(
            401,
            "authentication required: a Bearer API key or a login session",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return found


Anyone = Annotated[Principal, Depends(principal)]


def admin(who: Anyone) -> Principal:
    if not who.is_admin:
        raise ApiError(403, "analytics and settings are for workspace admins (and admin keys)")
    return who


Admin = Annotated[Principal, Depends(admin)]


def key_sender(who: Anyone) -> Principal:
    """Sending events takes an API key (admin or ingest scope), never a login session."""
    if who.key_id is None:
        raise ApiError(403, "sending events takes an API key, not a login session")
    return who


KeySender = Annotated[Principal, Depends(key_sender)]


def workspace_of(svc: Services, who: Principal) -> Workspace:
    workspace = svc.store.workspace(who.workspace)
    if workspace is None:  # deleted under a live key or session
        raise ApiError(401, f"workspace {who.workspace!r} no longer exists")
    return workspace


def _declared_params(request: Request) -> set[str]:
    """The query parameters the matched route declares, as its OpenAPI operation lists
    them (FastAPI caches the schema)."""
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    operation = request.app.openapi()["paths"].get(path, {}).get(request.method.lower(), {})
    return {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}


def refuse_unknown_params(request: Request) -> None:
    """A misspelt parameter (`perod=today`) is a 422 naming it, not silently ignored (the
    answer would be for another question: the last 7 days)."""
    declared = _declared_params(request)
    unknown = sorted(set(request.query_params) - declared)
    if declared and unknown:
        known = ", ".join(sorted(declared))
        raise param_error(unknown[0][:64], f"unknown parameter (known: {known})")


def analytics_query(
    who: Admin, svc: Svc, params: Annotated[QueryParams, Query()], request: Request
) -> AnalyticsQuery:
    """The request's analytics parameters, resolved in the workspace's time zone; a
    parameter the route does not declare is refused by name."""
    refuse_unknown_params(request)
    try:
        return params.resolve(who.workspace, workspace_of(svc, who).timezone)
    except QueryError as exc:
        raise param_error(exc.param, exc.message) from None


AnalyticsParams = Annotated[AnalyticsQuery, Depends(analytics_query)]


def settled_tables(svc: Svc) -> Tables:
    """The derived tables with every event acknowledged before this request derived
    (read-your-writes), for reads that open no page snapshot (the pickers' lists)."""
    conversations.settle(svc.tables)
    return svc.tables


Settled = Annotated[Tables, Depends(settled_tables)]
