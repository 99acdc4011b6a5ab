"""The Sales Attribution page in a real headless Chromium against a real server: the tiles,
the sales chart, the splits and the teammates table show the issue's worked example
(`test_sales.example`, SPEC section 8), the currency switch redraws in the other currency,
both CSVs download, French, the empty state, accessibility, and the README's screenshots."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from chromium import (
    DEVICES,
    SCREENSHOTS_ENV,
    axe_violations,
    new_page,
    open_path,
    rows,
    series,
    serve_shop_and_demo,
    tile,
)
from helpers import order
from playwright.sync_api import Page, expect
from test_sales import example

MARCH = "from=2026-03-01&to=2026-03-31"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # the example, and one euro order of c42's (credited to t1, as O1 is)
    euro = order("o4", "2026-03-06T13:00:00Z", "O4", "12.5", "EUR", customer_ref="c42")
    srv = serve_shop_and_demo(tmp_path_factory.mktemp("web-sales"), [*example(), euro])
    yield srv
    srv.stop()


def open_sales(page: Page, server, query: str, state: str = "ready") -> None:
    open_path(page, server, "/sales", query, state)


def test_tiles_show_the_worked_example(browser, server):
    page = new_page(browser, server)
    open_sales(page, server, MARCH + "&lang=en")
    assert tile(page, "sales") == "$180.00" and tile(page, "sales", "split") == "of $230.00 in all"
    assert tile(page, "orders") == "2" and tile(page, "aov") == "$90.00"
    assert tile(page, "share") == "78.3%"
    assert page.locator("h1").inner_text() == "Sales attribution"
    # CAD has two attributed orders, EUR one: CAD is shown first
    buttons = page.locator("#currencies button")
    assert buttons.all_inner_texts() == ["CAD", "EUR"]
    expect(buttons.first).to_have_attribute("aria-pressed", "true")


def test_charts_tables_and_the_currency_switch(browser, server):
    page = new_page(browser, server)
    open_sales(page, server, MARCH + "&lang=en")
    teammate, chatbot = series(page, "chart-sales")
    assert sum(teammate) == 100 and sum(chatbot) == 80
    assert rows(page, "table-credit") == [
        ["With a teammate", "$100.00", "1"],
        ["Chatbot only", "$80.00", "1"],
        ["Chatbot assisted", "$180.00", "2"],
    ]
    assert rows(page, "table-type") == [
        ["Direct (in the chat)", "$0.00", "0"],
        ["Indirect", "$180.00", "2"],
    ]
    assert rows(page, "table-teammates") == [["t1", "1", "$100.00", "$100.00"]]
    note = page.locator("#orders-note").inner_text()
    assert note.startswith("Orders: 3 attributed, 0 not attributed, 1 without a conversation")
    page.click("#currencies button:has-text('EUR')")
    assert tile(page, "sales") == "€12.50" and tile(page, "orders") == "1"
    assert rows(page, "table-teammates") == [["t1", "1", "€12.50", "€12.50"]]


def test_both_csvs_download(browser, server):
    page = new_page(browser, server)
    open_sales(page, server, MARCH + "&lang=en")
    with page.expect_download() as info:
        page.click("#export-sales")
    report = info.value
    assert report.suggested_filename == "sales_shop_2026-03-01_2026-03-31.csv"
    lines = list(csv.reader(io.StringIO(Path(report.path()).read_text(encoding="utf-8"))))
    assert lines[0][:3] == ["time_of_purchase", "order_id", "amount"]
    assert [line[1] for line in lines[1:]] == ["O1", "O4", "O3", "O2"]
    with page.expect_download() as info:
        page.click("#export")
    mates = list(csv.reader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8"))))
    assert mates == [
        ["teammate_id", "currency", "orders", "sales", "average_order_value"],
        ["t1", "CAD", "1", "100.00", "100.0000"],
        ["t1", "EUR", "1", "12.5", "12.5000"],
    ]


def test_french(browser, server):
    page = new_page(browser, server, locale="fr-CA")
    open_sales(page, server, MARCH)
    assert page.locator("h1").inner_text() == "Attribution des ventes"
    assert tile(page, "sales") == "180,00\u00a0$"
    assert page.locator("#export-sales").inner_text() == "Télécharger le rapport des ventes"


def test_empty_state(browser, server):
    page = new_page(browser, server)
    open_sales(page, server, "from=2026-01-01&to=2026-01-02&lang=en", state="empty")
    expect(page.locator("#empty")).to_be_visible()


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_accessibility_audit(browser, server, lang):
    page = new_page(browser, server, email="boss@demo.test")
    open_sales(page, server, f"from=2026-11-07&to=2026-11-20&lang={lang}")
    page.click("#chart-sales + details summary")
    assert axe_violations(page) == []


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("device", list(DEVICES))
def test_screenshots(browser, server, lang, device, tmp_path):
    page = new_page(browser, server, email="boss@demo.test", viewport=DEVICES[device])
    open_sales(page, server, f"from=2026-11-07&to=2026-11-20&lang={lang}")
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"sales-{lang}-{device}.png"), full_page=True)
    assert page.evaluate("window.convoscope.data.currencies.CAD.attributed_orders") > 100
    assert page.locator("#table-teammates tbody tr").count() == 12
    assert page.evaluate("document.documentElement.scrollWidth") <= DEVICES[device][0]
