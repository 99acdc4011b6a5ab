"""The pages: HTML, JavaScript modules, CSS and translations, served by the API app.

The pages are static files that call the same `/v1/...` endpoints the API documents, so a
page can never show a number the API would not. This module adds to the API app: the
routes of the registered pages (`convoscope.pages`: `/`, `/team`, each `<name>.html`
behind a login), `/login`, our static files, the API docs at
`/docs`, and the third-party assets (ECharts, Swagger UI), which `npm ci` installs from the
npm registry and copies into `web/vendor/` (see `vendor.mjs`); the wheel carries `vendor/`,
never a CDN.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from convoscope import pages
from convoscope.api import ApiError, App
from convoscope.api import create_app as create_api
from convoscope.api.deps import principal, services
from convoscope.lake import LakeTables
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


def create_app(
    store: Store,
    *,
    secure_cookies: bool = False,
    lake: LakeTables | None = None,
    operator_token: str | None = None,
) -> App:
    """The API app with the pages mounted on it (the options: see `api.create_app`)."""
    app = create_api(store, secure_cookies=secure_cookies, lake=lake, operator_token=operator_token)
    missing = [name for name in VENDOR_FILES if not (VENDOR / name).exists()]
    if missing:
        log.warning("front-end assets missing (%s): run `npm ci --prefix %s`", missing, HERE)

    def signed_in_page(request: Request, html: str) -> Response:
        try:
            principal(request, services(request))
        except ApiError:  # sign in, then come back here (the login page checks `next`)
            back = "" if request.url.path == "/" else f"?next={quote(request.url.path)}"
            return RedirectResponse(f"/login{back}", status_code=303)
        return FileResponse(STATIC / html, headers=NO_STORE)

    for page in pages.PAGES.values():
        app.add_api_route(
            page.web_path,
            _page_route(signed_in_page, f"{page.name}.html"),
            methods=["GET"],
            include_in_schema=False,
        )

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


def _page_route(
    signed_in_page: Callable[[Request, str], Response], html: str
) -> Callable[[Request], Response]:
    """The route of one registered page: its HTML (`<name>.html`) behind a login."""

    def show(request: Request) -> Response:
        return signed_in_page(request, html)

    return show
