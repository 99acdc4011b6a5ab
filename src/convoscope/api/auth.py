"""Login, logout and `me`: session cookies for the page.

Login refuses cross-site posts (login CSRF: a foreign page signing the victim into the
attacker's account) by `Sec-Fetch-Site` and `Origin`, throttles and bounds password checks
through `LoginGuard`, and runs argon2 off the event loop.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from convoscope import accounts
from convoscope.api.deps import CSRF_COOKIE, SESSION_COOKIE, Anyone, Services, Svc
from convoscope.api.errors import ApiError, responses

router = APIRouter(tags=["session"])


class Me(BaseModel):
    workspace: str
    role: str
    email: str | None
    workspaces: list[str]  # those the user may switch to (a key: its own)
    timezone: str  # the workspace's zone (the page shows it even when a request fails)


class Switch(BaseModel):
    workspace: str = Field(min_length=1, max_length=128)


def _me(svc: Services, who: accounts.Principal) -> Me:
    mine = accounts.workspaces_of(svc.store, who.email) if who.email else [who.workspace]
    ws = svc.store.workspace(who.workspace)
    zone = ws.timezone if ws else ""
    return Me(
        workspace=who.workspace, role=who.role, email=who.email, workspaces=mine, timezone=zone
    )


def _same_origin(request: Request) -> bool:
    """False for a browser's cross-site request; requests without these headers (curl,
    scripts) carry no cookies of a victim and are allowed."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


def _set_session(response: Response, svc: Services, who: accounts.Principal) -> None:
    token = accounts.open_session(svc.store, who)
    max_age = int(accounts.SESSION_LIFETIME.total_seconds())
    for name, value, httponly in (
        (SESSION_COOKIE, svc.signer.sign(token).decode(), True),
        (CSRF_COOKIE, svc.csrf_token(accounts.session_hash(token)), False),
    ):
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            httponly=httponly,
            samesite="lax",
            secure=svc.secure_cookies,
        )


@router.post(
    "/login",
    response_model=Me,
    responses=responses(403, 413, 429, 503),
    summary="Sign in (session cookie)",
)
async def login(
    request: Request,
    response: Response,
    svc: Svc,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
) -> Me:
    """Check email and password; set the session cookie (HttpOnly, SameSite=Lax) and the
    CSRF cookie whose value must come back in the X-CSRF-Token header on writes."""
    if not _same_origin(request):
        raise ApiError(403, "cross-site login refused")
    key = email.strip().lower()
    client = request.client.host if request.client else "-"
    wait = svc.guard.admit(key, client)
    if wait:
        raise ApiError(
            429, "too many login attempts; try again later", headers={"Retry-After": str(wait)}
        )
    if not await svc.guard.acquire():
        raise ApiError(503, "too many logins at once; try again", headers={"Retry-After": "5"})
    try:
        who = await run_in_threadpool(accounts.check_password, svc.store, email, password)
    finally:
        svc.guard.release()
    svc.guard.checked(key, ok=who is not None)
    if who is None:
        raise ApiError(401, "wrong email or password")
    _set_session(response, svc, who)
    return _me(svc, who)


@router.post("/logout", status_code=204, response_class=Response, summary="Sign out")
def logout(who: Anyone, svc: Svc) -> Response:
    """End the session (cookie-authenticated: needs the CSRF header)."""
    if who.session:
        accounts.close_session(svc.store, who)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response


@router.get("/v1/me", response_model=Me, summary="The caller")
def me(who: Anyone, svc: Svc) -> Me:
    return _me(svc, who)


@router.put(
    "/v1/me/workspace",
    response_model=Me,
    responses=responses(403, 404),
    summary="Switch the signed-in user's workspace",
)
def switch_workspace(body: Switch, who: Anyone, svc: Svc) -> Me:
    """Show another workspace the user belongs to in this session (cookie-authenticated:
    needs the CSRF header; an API key belongs to one workspace and cannot switch)."""
    if who.session is None:
        raise ApiError(403, "an API key belongs to one workspace; sign in to switch")
    switched = accounts.switch_workspace(svc.store, who, body.workspace)
    if switched is None:
        raise ApiError(404, f"you are not a member of a workspace {body.workspace!r}")
    return _me(svc, switched)
