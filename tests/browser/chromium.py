"""Shared by the browser tests: Debian's Chromium and its flags, a server on a hand-worked
script and the demo, a signed-in page, waits on the page's own state, and readers for tiles
and charts. (The `browser` fixture itself is in this folder's conftest.)"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect
from server import Server

from convoscope import accounts, demo, ingest
from convoscope.events import validate_batch
from convoscope.store import Store

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parents[2]
# Screenshots go to a temporary folder unless CONVOSCOPE_SCREENSHOTS names one (see README).
SCREENSHOTS_ENV = "CONVOSCOPE_SCREENSHOTS"
AXE = ROOT / "src" / "convoscope" / "web" / "node_modules" / "axe-core" / "axe.min.js"
DEVICES = {"desktop": (1440, 900), "tablet": (820, 1180), "phone": (390, 844)}


def serve_shop_and_demo(folder: Path, shop_events: list[dict]) -> Server:
    """A real server on a database with workspace `shop` (the given hand-worked script, admin
    boss@shop.test) and `demo` (four generated weeks, admin boss@demo.test)."""
    db = folder / "web.duckdb"
    with Store(db) as store:
        store.ensure_workspace("shop", "America/Toronto")
        ingest.store_events(store, "shop", validate_batch(shop_events, "shop"))
        accounts.create_user(store, "boss@shop.test", "shop", "admin", PASSWORD)
        store.ensure_workspace("demo")
        records = list(demo.generate(days=28, per_day=160, seed=5, end=date(2026, 11, 20)))
        ingest.store_events(store, "demo", validate_batch(records, "demo"))
        accounts.create_user(store, "boss@demo.test", "demo", "admin", PASSWORD)
    return Server(db, folder / "server.log").start()


# Sessions signed in once per server and user, reused by later pages: the server allows one
# address 30 sign-ins per 15 minutes, fewer than a module's pages.
_SIGNED_IN: dict[tuple[str, str], Any] = {}


def new_page(
    browser, server, email="boss@shop.test", locale="en-CA", viewport=(1440, 900), bypass_csp=True
) -> Page:
    """A signed-in page. Playwright's waits evaluate strings in the page, which the app's
    Content-Security-Policy forbids, so tests bypass it except the one that checks it."""
    context = browser.new_context(
        locale=locale,
        accept_downloads=True,
        bypass_csp=bypass_csp,
        viewport={"width": viewport[0], "height": viewport[1]},
        storage_state=_SIGNED_IN.get((server.url, email)),
    )
    page = context.new_page()
    page.goto(f"{server.url}/")
    if page.url.startswith(f"{server.url}/login"):  # not yet, or the session was closed
        page.fill("#email", email)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        expect(page).to_have_url(f"{server.url}/?period=last_7_days&lang={locale[:2]}")
        _SIGNED_IN[(server.url, email)] = context.storage_state()
    expect(page).to_have_url(f"{server.url}/?period=last_7_days&lang={locale[:2]}")
    expect(page.locator("body[data-state=ready], body[data-state=empty]")).to_have_count(1)
    return page


def wait_ready(page: Page, *states: str) -> None:
    """Wait until the page has settled in one of `states` (default: ready)."""
    wanted = list(states or ("ready",))
    page.wait_for_function(f"{wanted}.includes(document.body.dataset.state)", timeout=20_000)


def open_path(page: Page, server, path: str, query: str, state: str = "ready") -> None:
    page.goto(f"{server.url}{path}?{query}")
    wait_ready(page, state)


def series(page: Page, chart: str) -> list:
    return page.evaluate(f"window.convoscope.charts['{chart}'].getOption().series.map(s => s.data)")


DURATION_SPACE = re.compile(r"(?<=\d)\xa0(?=(?:h|min|s)\b)|(?<=\bh)\xa0(?=\d)|(?<=min)\xa0(?=\d)")


def text(raw: str) -> str:
    """Text as read, with the no-break spaces that keep a duration on one line as spaces (the
    ones a French number has before `%` or `$` stay)."""
    return DURATION_SPACE.sub(" ", raw)


def tile(page: Page, name: str, part: str = "value") -> str:
    return text(page.locator(f"#tile-{name} .{part}").inner_text())


def rows(page: Page, table: str) -> list[list[str]]:
    """The cells of a table's body, row by row."""
    return [text(r.inner_text()).split("\t") for r in page.locator(f"#{table} tbody tr").all()]


def axe_violations(page: Page) -> list[str]:
    """WCAG 2 A and AA violations found by axe-core (an npm dev dependency, test-only)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
    )
    return [f"{v['id']}: {[n['target'] for n in v['nodes']]}" for v in result["violations"]]
