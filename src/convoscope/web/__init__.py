"""The Conversation Overview page: HTML, JavaScript, CSS and translations, served by the API app.

The page is static files that call the same `/v1/overview` the API documents, so the page can
never show a number the API would not. This module adds three things to the API app: the page
routes (`/` behind a login, `/login`), our static files, and the charting library, which is
installed from the npm registry into `web/node_modules` at set-up (`npm ci`) and served from
here, never from a CDN.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from convoscope import api
from convoscope.store import Store

# The page loads only its own files: no inline script, no third-party origin, no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
HERE = Path(__file__).parent
STATIC = HERE / "static"
ECHARTS = HERE / "node_modules" / "echarts" / "dist" / "echarts.min.js"
log = logging.getLogger("convoscope.web")


def create_app(store: Store, *, secure_cookies: bool = False) -> FastAPI:
    """The API app with the page mounted on it."""
    app = api.create_app(store, secure_cookies=secure_cookies)

    @app.middleware("http")
    async def _security_headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    if not ECHARTS.exists():
        log.warning("charting library missing: run `npm ci --prefix %s`", HERE)

    @app.get("/", include_in_schema=False)
    def page(request: Request) -> Response:
        try:
            app.state.principal(request)
        except api.ApiError:
            return RedirectResponse("/login", status_code=303)
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    @app.get("/login", include_in_schema=False)
    def login_page() -> Response:
        return FileResponse(STATIC / "login.html", headers={"Cache-Control": "no-store"})

    @app.get("/static/vendor/echarts.min.js", include_in_schema=False)
    def echarts() -> Response:
        if not ECHARTS.exists():
            return Response("echarts is not installed: run npm ci (see README)", 503)
        return FileResponse(ECHARTS, media_type="text/javascript")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
