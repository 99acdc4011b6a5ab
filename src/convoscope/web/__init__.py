"""The pages: HTML, JavaScript modules, CSS and translations, served by the API app.

The pages are static files that call the same `/v1/...` endpoints the API documents, so a
page can never show a number the API would not. This module adds to the API app: the page
routes (`/` behind a login, `/login`), our static files, the API docs at `/docs`, and the
third-party assets (ECharts, Swagger UI), which `npm ci` installs from the npm registry and
copies into `web/vendor/` (see `vendor.mjs`); the wheel carries `vendor/`, never a CDN.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from convoscope.api import ApiError, App
from convoscope.api import create_app as create_api
from convoscope.api.deps import principal, services
from convoscope.store import Store

HERE = Path(__file__).parent
STATIC = HERE / "static"
VENDOR = HERE / "vendor"
VENDOR_FILES = ("echarts.min.js", "swagger-ui-bundle.js", "swagger-ui.css")
# Swagger UI sets inline styles on its elements; scripts stay our own files only.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
NO_STORE = {"Cache-Control": "no-store"}
log = logging.getLogger("convoscope.web")


def create_app(store: Store, *, secure_cookies: bool = False) -> App:
    """The API app with the pages mounted on it."""
    app = create_api(store, secure_cookies=secure_cookies)
    missing = [name for name in VENDOR_FILES if not (VENDOR / name).exists()]
    if missing:
        log.warning("front-end assets missing (%s): run `npm ci --prefix %s`", missing, HERE)

    @app.get("/", include_in_schema=False)
    def page(request: Request) -> Response:
        try:
            principal(request, services(request))
        except ApiError:
            return RedirectResponse("/login", status_code=303)
        return FileResponse(STATIC / "index.html", headers=NO_STORE)

    @app.get("/login", include_in_schema=False)
    def login_page() -> Response:
        return FileResponse(STATIC / "login.html", headers=NO_STORE)

    @app.get("/docs", include_in_schema=False)
    def docs() -> Response:
        return FileResponse(
            STATIC / "docs.html", headers={**NO_STORE, "Content-Security-Policy": DOCS_CSP}
        )

    app.mount("/static/vendor", StaticFiles(directory=VENDOR, check_dir=False), name="vendor")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
