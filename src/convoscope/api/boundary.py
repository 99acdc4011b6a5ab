"""The HTTP boundary every request crosses: body limits, security headers, one access-log
line, and a JSON 500 for anything unexpected.

It is a plain ASGI middleware wrapped around the whole app, outside Starlette's own error
handling, so that every response, a 500 included, carries the security headers, and an
unexpected error is logged once (with its traceback, never with the request's headers or
body) and answered as JSON. The access log records the route template (`/v1/customers/
{customer_id:path}`), not the raw path, so ids in paths (an erased customer) never reach
the log; query strings are never logged.
"""

from __future__ import annotations

import json
import logging
import time

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("convoscope.access")
errors = logging.getLogger("convoscope.errors")

UPLOAD_LIMIT = 16 * 1024 * 1024  # event batches and webhooks
FORM_LIMIT = 64 * 1024  # everything else (login forms, settings)
UPLOAD_PATHS = ("/v1/events", "/v1/webhooks/")

# The page loads only its own files: no inline script, no third-party origin, no framing.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
SECURITY_HEADERS = {
    b"content-security-policy": CSP.encode(),
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"same-origin",
}
NO_STORE = (b"cache-control", b"no-store")


class BodyTooLarge(Exception):
    pass


def _limit(path: str) -> int:
    return UPLOAD_LIMIT if path.startswith(UPLOAD_PATHS) else FORM_LIMIT


def _route(scope: Scope) -> str:
    """The template of the route the router matched (it records it in the scope), else a
    placeholder: never the raw path."""
    route = scope.get("route")
    return str(getattr(route, "path", None) or "(no route)")


class Boundary:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        limit = _limit(scope["path"])
        status, seen = 500, 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS.items() if k not in names]
                if b"cache-control" not in names and not scope["path"].startswith("/static/"):
                    headers.append(NO_STORE)
                message = {**message, "headers": headers}
            await send(message)

        try:
            declared = dict(scope.get("headers", [])).get(b"content-length", b"")
            if declared.isdigit() and int(declared) > limit:
                raise BodyTooLarge
            await self.app(scope, limited_receive, guarded_send)
        except (BodyTooLarge, ClientDisconnect) as exc:  # answered by `answer_unexpected`
            if not response_started:
                await _json(guarded_send, *_expected(exc))
        except Exception:
            errors.exception("unexpected error on %s %s", scope["method"], _route(scope))
            if not response_started:
                await _json(guarded_send, *_expected(Exception()))
        finally:
            log.info(
                json.dumps(
                    {
                        "method": scope["method"],
                        "path": _route(scope),
                        "status": status,
                        "ms": round((time.perf_counter() - started) * 1000, 1),
                        "client": (scope.get("client") or [None])[0],
                    }
                )
            )


def _expected(exc: Exception) -> tuple[int, str]:
    if isinstance(exc, BodyTooLarge):
        return 413, "body too large"
    if isinstance(exc, ClientDisconnect):
        return 400, "the client disconnected before sending the whole body"
    return 500, "internal error; it has been logged"


async def answer_unexpected(_: Request, exc: Exception) -> JSONResponse:
    """The app's handler for exceptions no route handled: a body over its limit (413), a
    client gone mid-upload (400), else 500. `Boundary` logs the 500s."""
    status, detail = _expected(exc)
    return JSONResponse({"detail": detail}, status)


async def _json(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
