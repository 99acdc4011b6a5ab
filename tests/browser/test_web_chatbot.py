"""The Chatbot Performance page in a real headless Chromium against a real server: the tiles,
outcome chart, flow charts, dialog performance table and CSV show the issue's hand-worked
example (`test_chatbot.example`, SPEC section 7), the flow pickers filter them, the settings
dialog re-types a flow, a chatbot without flows is said so, French, empty and error states,
accessibility, and the README's screenshots."""

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
    wait_ready,
)
from helpers import Script
from playwright.sync_api import Page, expect
from test_chatbot import example, t

DAY = "from=2026-03-02&to=2026-03-02"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # the example, and on the 3rd a chatbot that names no flow (WhatsApp, say)
    flowless = Script("w1", "whatsapp").bot(t("15:00:00", "2026-03-03"), welcome=True)
    flowless.customer_msg(t("15:00:05", "2026-03-03")).bot(t("15:00:10", "2026-03-03"))
    srv = serve_shop_and_demo(tmp_path_factory.mktemp("web-chatbot"), example() + flowless.events)
    yield srv
    srv.stop()


def open_chatbot(page: Page, server, query: str, state: str = "ready") -> None:
    open_path(page, server, "/chatbot", query, state)


def test_tiles_show_the_hand_worked_numbers(browser, server):
    page = new_page(browser, server)
    open_chatbot(page, server, DAY + "&lang=en")
    assert (
        tile(page, "bot") == "4" and tile(page, "bot", "split") == "1 not engaged · 0 in progress"
    )
    assert tile(page, "handled") == "3"
    assert tile(page, "automation") == "33.3%"
    assert tile(page, "automation", "split") == "1 of 3 handled"
    assert tile(page, "transfer") == "33.3%"
    assert tile(page, "transfer", "split") == "1 on request · 0 a teammate joined"
    assert tile(page, "abandoned") == "33.3%" and tile(page, "containment") == "66.7%"
    assert tile(page, "fallback") == "11.1%"
    assert tile(page, "fallback", "split") == "1 of 9 chatbot messages"
    assert tile(page, "time") == "45 s"
    assert tile(page, "time", "split") == "Median 1 min 0 s · 90th percentile 1 min 4 s"
    assert tile(page, "csat") == "—"
    assert tile(page, "automation", "change") == "No data in the previous period"
    assert page.locator("h1").inner_text() == "Chatbot performance"
    assert page.locator("nav a[aria-current=page]").inner_text() == "Chatbot performance"
    # this page's pickers: flow types and flows, not teammates
    assert page.locator("#flow_types summary").is_visible()
    assert page.locator("#teammates").count() == 0
    expect(page.locator("#no-flows")).to_be_hidden()


def test_charts_and_tables(browser, server):
    page = new_page(browser, server)
    open_chatbot(page, server, DAY + "&lang=en")
    outcomes = series(page, "chart-outcomes")
    assert [sum(s) for s in outcomes[:5]] == [1, 1, 1, 1, 0]  # one of each, none in progress
    assert outcomes[5][5] == 1.0 and outcomes[5][6] == 0.0 and outcomes[5][7] is None
    first = {x["name"]: x["value"] for x in series(page, "chart-first-flow")[0]}
    assert first["Support"] == 2 and first["Sales"] == 1 and first["No flow"] == 0
    assert series(page, "chart-last-flow") == [[1]]
    assert rows(page, "table-dialog") == [
        ["order_tracking", "Support", "1", "1 (100%)", "1", "0", "0 (0%)", "0", "55 s"],
        ["product_search", "Sales", "1", "0 (0%)", "0", "1", "0 (0%)", "1", "25 s"],
        ["returns", "Support", "1", "0 (0%)", "0", "0", "1 (100%)", "0", "0 s"],
    ]
    assert rows(page, "table-drop-off") == [["returns", "ask_reason", "1"]]
    page.click("#table-dialog .sort[data-sort=fallbacks]")
    page.wait_for_function("window.convoscope.state.sort === '-fallbacks'")
    assert rows(page, "table-dialog")[0][0] == "product_search" and "sort=-fallbacks" in page.url


def test_flow_pickers_filter_every_element(browser, server):
    page = new_page(browser, server)
    open_chatbot(page, server, DAY + "&lang=en")
    page.click("#flows summary")
    labels = page.locator("#flows-options label")
    assert [x.inner_text() for x in labels.all()] == [
        "No flow",
        "order_tracking",
        "product_search",
        "returns",
    ]
    page.click("#flows-clear")
    page.check("#flows-options input[value=returns]")
    page.wait_for_function("window.convoscope.data.flows !== null")
    wait_ready(page)
    assert tile(page, "handled") == "1" and tile(page, "abandoned") == "100%"
    assert [r[0] for r in rows(page, "table-dialog")] == ["returns"]
    page.click("#flows-all")
    page.wait_for_function("window.convoscope.data.flows === null")
    page.click("#flow_types summary")
    page.click("#flow_types-clear")
    page.check("#flow_types-options input[value=sales]")
    page.wait_for_function("window.convoscope.data.flow_types !== null")
    wait_ready(page)
    assert tile(page, "transfer") == "100%" and "flow_types=sales" in page.url
    # to Team Performance: the period goes along, the flow filters (not its own) do not
    page.click("nav a[data-page='/team']")
    page.wait_for_url(lambda url: "/team" in url)
    wait_ready(page, "ready", "empty")
    assert "flow_types" not in page.url and "from=2026-03-02" in page.url


def test_flows_csv_download(browser, server):
    page = new_page(browser, server)
    open_chatbot(page, server, DAY + "&lang=en")
    with page.expect_download() as info:
        page.click("#export")
    download = info.value
    assert download.suggested_filename == "flows_shop_2026-03-02_2026-03-02.csv"
    table = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert table[0][:3] == ["flow", "type", "entered"]
    assert [row[0] for row in table[1:]] == ["order_tracking", "product_search", "returns"]
    assert table[3][table[0].index("drop_off_steps")] == "ask_reason (1)"


def test_settings_dialog_retypes_a_flow(browser, server):
    page = new_page(browser, server)
    open_chatbot(page, server, DAY + "&lang=en")
    page.click("#settings-open")
    expect(page.locator("#settings")).to_be_visible()
    select = page.locator("#settings-flows select[data-flow=returns]")
    assert select.input_value() == ""  # as the chatbot says
    select.select_option("campaign")
    page.click("#settings-save")
    expect(page.locator("#settings")).to_be_hidden()
    page.wait_for_function("window.convoscope.data.first_flow_type.campaign === 1")
    assert rows(page, "table-dialog")[2][1] == "Campaign"
    page.click("#settings-open")
    page.locator("#settings-flows select[data-flow=returns]").select_option("")
    page.click("#settings-save")
    page.wait_for_function("window.convoscope.data.first_flow_type.campaign === 0")


def test_a_chatbot_without_flows_is_said_so(browser, server):
    page = new_page(browser, server)
    open_chatbot(page, server, "from=2026-03-03&to=2026-03-03&lang=en")
    expect(page.locator("#no-flows")).to_be_visible()
    assert tile(page, "automation") == tile(page, "containment") == "100%"
    assert "names no flows" in page.locator("#table-dialog").inner_text()


def test_french(browser, server):
    page = new_page(browser, server, locale="fr-CA")
    open_chatbot(page, server, DAY)
    assert page.locator("h1").inner_text() == "Performance du chatbot"
    assert page.locator("#tile-automation h2").inner_text().startswith("TAUX D’AUTOMATISATION")
    assert tile(page, "automation") == "33,3\u00a0%"
    assert page.locator("#export").inner_text() == "Exporter les flux (CSV)"
    assert rows(page, "table-dialog")[0][1] == "Support"


def test_empty_and_error_states(browser, server):
    page = new_page(browser, server)
    open_chatbot(page, server, "from=2026-01-01&to=2026-01-02&lang=en", state="empty")
    expect(page.locator("#empty")).to_be_visible()
    page.route(
        "**/v1/chatbot?*",
        lambda route: route.fulfill(
            status=500, content_type="application/json", body='{"detail": "boom"}'
        ),
    )
    page.select_option("#period", "last_30_days")
    wait_ready(page, "error")
    expect(page.locator("#error-text")).to_have_text("The figures could not be loaded (boom).")
    page.unroute("**/v1/chatbot?*")
    page.click("#retry")
    wait_ready(page, "ready", "empty")


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_accessibility_audit(browser, server, lang):
    page = new_page(browser, server, email="boss@demo.test")
    open_chatbot(page, server, f"from=2026-11-07&to=2026-11-20&lang={lang}")
    for chart in ("chart-outcomes", "chart-first-flow", "chart-last-flow", "chart-csat"):
        page.click(f"#{chart} + details summary")
    assert axe_violations(page) == []
    page.click("#flows summary")
    assert axe_violations(page) == []
    page.click("#settings-open")
    expect(page.locator("#settings")).to_be_visible()
    assert axe_violations(page) == []


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("device", list(DEVICES))
def test_screenshots(browser, server, lang, device, tmp_path):
    page = new_page(browser, server, email="boss@demo.test", viewport=DEVICES[device])
    open_chatbot(page, server, f"from=2026-11-07&to=2026-11-20&lang={lang}")
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"chatbot-{lang}-{device}.png"), full_page=True)
    assert page.evaluate("window.convoscope.data.tiles.handled") > 500
    assert page.locator("#table-dialog tbody tr").count() == 6
    assert page.evaluate("document.documentElement.scrollWidth") <= DEVICES[device][0]
