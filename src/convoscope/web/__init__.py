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

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from convoscope import api
from convoscope.store import Store

HERE = Path(__file__).parent
STATIC = HERE / "static"
ECHARTS = HERE / "node_modules" / "echarts" / "dist" / "echarts.min.js"
log = logging.getLogger("convoscope.web")


def create_app(store: Store, *, secure_cookies: bool = False) -> FastAPI:
    """The API app with the page mounted on it."""
    app = api.create_app(store, secure_cookies=secure_cookies)
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
