"""The page in a real headless Chromium (Debian's, driven by Playwright) against a real server
on a loopback port: tiles, charts, filters in the URL, CSV export, French, empty and error
states, keyboard use; and the README's screenshots."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from chromium import (
    DEVICES,
    PASSWORD,
    SCREENSHOTS_ENV,
    axe_violations,
    new_page,
    open_path,
    series,
    serve_shop_and_demo,
    tile,
    wait_ready,
)
from playwright.sync_api import Page, expect
from server import convoscope
from test_overview import scenario

RANGE = "from=2026-11-10&to=2026-11-11"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = serve_shop_and_demo(tmp_path_factory.mktemp("web"), scenario())
    yield srv
    srv.stop()


def open_range(page: Page, server, query: str, state: str = "ready") -> None:
    open_path(page, server, "/", query, state)


def test_tiles_show_the_hand_worked_numbers(browser, server):
    page = new_page(browser, server)
    open_range(page, server, RANGE + "&lang=en")
    assert [tile(page, n) for n in ("total", "engaged", "customers")] == ["6", "5", "4"]
    assert tile(page, "duration") == "23 min 18 s"  # 1398 s
    assert tile(page, "duration", "split") == "Teammates 28 min 40 s · Chatbot 15 min 15 s"
    assert tile(page, "total", "change") == "▲ +200% vs previous period (2)"
    assert page.locator("#tile-total").get_attribute("aria-describedby") == "tip-total"
    assert "10 minutes" in page.locator("#tip-total").inner_text()
    assert page.locator("#timezone").inner_text() == "Time zone: America/Toronto"


def test_charts_dropdown_and_toggle(browser, server):
    page = new_page(browser, server)
    open_range(page, server, RANGE + "&lang=en")
    assert series(page, "chart-engagement") == [[3, 2], [1, 0]]
    assert series(page, "chart-messages") == [[1, 2], [5, 1], [5, 3]]
    assert series(page, "chart-traffic") == [[2, 2]]
    page.select_option("#traffic-select", "engaged_conversations")
    assert series(page, "chart-traffic") == [[3, 3]]
    assert "traffic=engaged_conversations" in page.url
    pie = series(page, "chart-support")[0]
    assert [(x["name"], x["value"]) for x in pie] == [("Teammates", 3), ("Chatbot", 2)]
    page.click("[data-support=all]")
    pie = series(page, "chart-support")[0]
    assert [x["value"] for x in pie] == [3, 3]
    depts = page.evaluate("window.convoscope.charts['chart-departments'].getOption().yAxis[0].data")
    assert depts == ["No department", "Sales", "Returns"]  # bottom-up: largest on top
    assert series(page, "chart-departments") == [[1, 1, 2]]
    label = page.locator("#chart-engagement").get_attribute("aria-label")
    assert label == "Number of conversations by engagement type: Engaged 5; Not engaged 1"
    page.click("#chart-engagement + details summary")
    rows = page.locator("#table-engagement tbody tr")
    expect(rows).to_have_count(2)
    assert rows.nth(0).inner_text().split("\t") == ["Tue, Nov 10", "3", "1"]


def test_today_is_hourly(browser, server):
    page = new_page(browser, server)
    page.select_option("#period", "today")
    page.wait_for_function("window.convoscope.data.granularity === 'hour'")
    wait_ready(page, "ready", "empty")
    data = page.evaluate("window.convoscope.data")
    assert data["granularity"] == "hour" and "period=today" in page.url
    labels = page.evaluate("window.convoscope.charts['chart-engagement'].getOption().xAxis[0].data")
    # between midnight and 1 a.m. the one bucket is the hour in progress, labelled so
    assert len(labels) == len(data["buckets"]) >= 1 and labels[0].startswith("12 a.m.")


def test_channel_filter_and_back_button(browser, server):
    page = new_page(browser, server)
    open_range(page, server, RANGE + "&lang=en")
    page.click("#channels summary")
    boxes = page.locator("#channels-options input")
    assert boxes.count() == 5 and all(b.is_checked() for b in boxes.all())  # all = every box
    page.click("#channels-clear")
    expect(page.locator("#channels-hint")).to_be_visible()
    page.check("#channels-options input[value=web_chat]")
    wait_ready(page)
    page.wait_for_function("window.convoscope.data.channels !== null")
    assert tile(page, "total") == "2" and "channels=web_chat" in page.url
    assert page.locator("#channels-summary").inner_text() == "Channels: Web chat"
    page.go_back()
    page.wait_for_function("window.convoscope.data.channels === null")
    wait_ready(page)
    assert tile(page, "total") == "6"


def test_custom_range_and_keyboard(browser, server):
    page = new_page(browser, server)
    expect(page.locator("#range-form")).to_be_hidden()  # a preset: one dropdown, no dates
    page.select_option("#period", "custom")
    expect(page.locator("#range-form")).to_be_visible()
    expect(page.locator("#range-from")).to_be_focused()
    page.fill("#range-from", "2026-11-10")
    page.fill("#range-to", "2026-11-10")
    page.press("#range-to", "Enter")
    page.wait_for_function("window.convoscope.data.period.to === '2026-11-10'")
    wait_ready(page)
    assert tile(page, "total") == "4" and "from=2026-11-10&to=2026-11-10" in page.url
    assert page.locator("#period").input_value() == "custom"
    page.focus("#period")
    page.keyboard.press("ArrowUp")  # from "Custom range…" to "Last month"
    page.wait_for_function("window.convoscope.state.period === 'last_month'")
    expect(page.locator("#range-form")).to_be_hidden()


def test_the_filter_bar_fits_one_row_at_1440(browser, server):
    """Issue 21: a dropdown of periods instead of six buttons, two dates and Apply."""
    page = new_page(browser, server)
    open_range(page, server, "period=last_30_days&lang=fr")
    tops = page.evaluate(
        "[...document.querySelectorAll('#filters > :not([hidden])')]"
        ".map((el) => el.getBoundingClientRect()).filter((r) => r.height)"
        ".map((r) => Math.round(r.top + r.height / 2))"
    )
    assert max(tops) - min(tops) <= 4, tops
    chevron = page.evaluate(
        "getComputedStyle(document.querySelector('#channels summary'), '::after').borderRightStyle"
    )
    assert chevron == "solid"
    # the charts write in the page's font
    body = page.evaluate("getComputedStyle(document.body).fontFamily")
    fonts = page.evaluate(
        "[...document.querySelectorAll('#chart-engagement svg text')]"
        ".map((el) => el.getAttribute('style') || '')"
    )
    assert fonts and all(body.split(",")[0] in f for f in fonts), (body, fonts[:3])


def test_department_csv_download(browser, server):
    page = new_page(browser, server)
    open_range(page, server, RANGE + "&lang=en")
    with page.expect_download() as info:
        page.click("#export")
    download = info.value
    assert download.suggested_filename == "departments_shop_2026-11-10_2026-11-11.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert rows == [
        ["department", "conversations", "teammates_involved", "avg_resolution_seconds"],
        ["Returns", "2", "1", "1020.0"],
        ["Sales", "1", "1", "1680.0"],
        ["No department", "1", "1", "2880.0"],
    ]


def test_french(browser, server):
    page = new_page(browser, server, locale="fr-CA")  # the browser's language is the default
    open_range(page, server, RANGE)
    assert page.locator("#tile-total h2").inner_text().startswith("CONVERSATIONS TOTALES")
    assert page.locator("#h-support").inner_text() == "Conversations traitées par type d’assistance"
    assert page.locator("#export").inner_text() == "Exporter le rapport des départements"
    assert tile(page, "duration") == "23 min 18 s"
    change = tile(page, "total", "change")
    assert change.startswith("▲ +200\u00a0%") and change.endswith("précédente (2)")
    labels = page.evaluate("window.convoscope.charts['chart-engagement'].getOption().xAxis[0].data")
    assert labels == ["mar. 10 nov.", "mer. 11 nov."]
    names = [
        s["name"]
        for s in page.evaluate("window.convoscope.charts['chart-engagement'].getOption().series")
    ]
    assert names == ["Engagées", "Non engagées"]
    assert page.evaluate("convoscopeI18n.number('fr', 1234.5)") == "1\u00a0234,5"
    page.click("[data-lang=en]")
    assert page.locator("#tile-total h2").inner_text().startswith("TOTAL CONVERSATIONS")
    assert "lang=en" in page.url


def test_empty_and_error_states(browser, server):
    page = new_page(browser, server)
    open_range(page, server, "from=2026-01-01&to=2026-01-02&lang=en", state="empty")
    expect(page.locator("#empty")).to_have_text("No conversations in this period")
    expect(page.locator("#chart-engagement")).to_be_hidden()
    page.route(
        "**/v1/overview?*",
        lambda route: route.fulfill(
            status=500, content_type="application/json", body='{"detail": "boom"}'
        ),
    )
    page.select_option("#period", "last_30_days")
    wait_ready(page, "error")
    expect(page.locator("#error-text")).to_have_text("The figures could not be loaded (boom).")
    page.unroute("**/v1/overview?*")
    page.click("#retry")
    wait_ready(page, "ready", "empty")


def test_security_headers_and_no_csp_violation(browser, server):
    page = new_page(browser, server, bypass_csp=False)
    violations = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )
    response = page.goto(f"{server.url}/?{RANGE}&lang=en")
    expect(page.locator("body[data-state=ready]")).to_have_count(1)
    expect(page.locator("#tile-total .value")).to_have_text("6")
    assert page.locator("#chart-engagement svg").count() == 1  # ECharts drew under the CSP
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert violations == []


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_accessibility_audit(browser, server, lang):
    page = new_page(browser, server, email="boss@demo.test")
    open_range(page, server, f"from=2026-11-07&to=2026-11-20&lang={lang}")
    page.click("#chart-engagement + details summary")  # the data table too
    assert axe_violations(page) == []
    page.goto(f"{server.url}/login")
    assert axe_violations(page) == []


def test_login_errors_and_logout(browser, server):
    context = browser.new_context(locale="en-CA")
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.fill("#email", "boss@shop.test")
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    expect(page.locator("#login-error")).to_have_text("Wrong email or password.")
    page = new_page(browser, server)
    page.click("#logout")
    expect(page).to_have_url(f"{server.url}/login")
    page.goto(f"{server.url}/")
    expect(page).to_have_url(f"{server.url}/login")


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("device", list(DEVICES))
def test_screenshots(browser, server, lang, device, tmp_path):
    page = new_page(browser, server, email="boss@demo.test", viewport=DEVICES[device])
    open_range(page, server, f"from=2026-11-07&to=2026-11-20&lang={lang}")
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"overview-{lang}-{device}.png"), full_page=True)
    assert int(page.evaluate("window.convoscope.data.tiles.total_conversations")) > 1500
    width = DEVICES[device][0]
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing overflows


def test_phone_layout(browser, server):
    page = new_page(browser, server, email="boss@demo.test", viewport=DEVICES["phone"])
    open_range(page, server, "from=2026-11-07&to=2026-11-20&lang=fr")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # the filters fold behind one button saying what is chosen; two tiles a row; the first
    # numbers within the first half of the screen
    toggle = page.locator("#filters-toggle")
    expect(toggle).to_have_text("Filtres : 2026-11-07 – 2026-11-20")
    expect(page.locator("#filters")).to_be_hidden()
    first, second = (page.locator(f"#tile-{t}").bounding_box() for t in ("duration", "total"))
    value = page.locator("#tile-duration .value").bounding_box()
    assert first is not None and second is not None and value is not None
    assert abs(first["y"] - second["y"]) < 1 and first["x"] < second["x"]  # side by side
    assert value["y"] + value["height"] < 844 * 0.6  # was 519-605 px down before the first
    nav = page.locator("#nav")  # the pages' menu: one line that scrolls, shaded where it hides
    assert nav.evaluate("(el) => el.scrollWidth > el.clientWidth")
    assert "radial-gradient" in nav.evaluate("(el) => getComputedStyle(el).backgroundImage")
    toggle.click()
    expect(page.locator("#filters")).to_be_visible()
    assert toggle.get_attribute("aria-expanded") == "true"
    page.select_option("#period", "last_7_days")
    expect(toggle).to_have_text("Filtres : 7 derniers jours")
    open_range(page, server, "from=2026-11-07&to=2026-11-20&channels=whatsapp&lang=fr")
    expect(toggle).to_have_text("Filtres : 2026-11-07 – 2026-11-20 · 1 de plus")
    page.mouse.wheel(0, 1500)
    page.locator("#chart-support").scroll_into_view_if_needed()
    labels = page.evaluate(
        "window.convoscope.charts['chart-support'].getOption().series[0].label.show"
    )
    assert labels is False  # values move to the legend on narrow screens
    legend = page.locator("#chart-support svg text", has_text="Agents")
    box, chart = legend.first.bounding_box(), page.locator("#chart-support").bounding_box()
    assert chart["x"] <= box["x"] and box["x"] + box["width"] <= chart["x"] + chart["width"]


def chart_helper(page: Page, call: str):
    """Draw with a chart helper of the page into a fresh element; return its option."""
    return page.evaluate(
        "async () => { const m = await import('/static/js/charts.js');"
        " const el = document.createElement('div'); el.id = 'probe-' + Date.now();"
        " el.style.width = '600px'; el.style.height = '300px'; document.body.append(el);"
        f" {call}; return m.charts[el.id].getOption(); }}"
    )


def test_charts_with_little_or_no_data(browser, server):
    page = new_page(browser, server)
    fmt = "format: (x) => String(x)"
    empty = chart_helper(
        page,
        "m.donut(el.id, {parts: [{name: 'A', value: 0, color: '#000'},"
        f" {{name: 'B', value: 0, color: '#111'}}], {fmt}, share: String, emptyText: 'None'}})",
    )
    assert empty["title"][0]["text"] == "None"
    assert [d["name"] for d in empty["series"][0]["data"]] == [""]  # one grey ring, no halves
    one = chart_helper(
        page,
        "m.timeSeries(el.id, {labels: ['10'], live: null, liveText: '', stacked: false,"
        f" {fmt}, series: [{{name: 'a', data: [2], type: 'line'}},"
        " {name: 'b', data: [1], type: 'line'}, {name: 'c', data: [3], type: 'line'}]})",
    )
    assert all(s["showSymbol"] for s in one["series"])  # single points are drawn
    bars = chart_helper(
        page,
        f"m.horizontalBars(el.id, {{names: [], values: [], color: '#000', name: 'x', {fmt},"
        " emptyText: 'No closed conversations in this period'})",
    )
    assert bars["title"][0]["text"] == "No closed conversations in this period"


def test_today_marks_the_bucket_in_progress(browser, server):
    page = new_page(browser, server)
    open_range(page, server, "period=today&lang=en", state="empty")
    data = page.evaluate("window.convoscope.data")
    assert data["in_progress_bucket"] == len(data["buckets"]) - 1
    labels = page.evaluate("window.convoscope.charts['chart-engagement'].getOption().xAxis[0].data")
    assert labels[-1].endswith("(still in progress)")


def test_channel_picker_closes_on_escape_and_outside_click(browser, server):
    page = new_page(browser, server)
    open_range(page, server, RANGE + "&lang=en")
    page.click("#channels summary")
    expect(page.locator("#channels-options")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#channels-options")).to_be_hidden()
    page.click("#channels summary")
    page.click("h1")
    expect(page.locator("#channels-options")).to_be_hidden()
    page.click("#channels summary")
    page.click("#channels-clear")
    page.click("#channels-all")
    wait_ready(page)
    assert "channels=" not in page.url


def test_invalid_range_and_bad_link_are_explained(browser, server):
    page = new_page(browser, server, locale="fr-CA")
    open_range(page, server, RANGE)
    page.select_option("#period", "custom")
    page.fill("#range-from", "2026-11-12")
    page.fill("#range-to", "2026-11-10")
    page.click("#range-form button[type=submit]")
    expect(page.locator("#range-error")).to_have_text(
        "Le premier jour doit précéder le dernier jour ou lui être égal."
    )
    assert "from=2026-11-10" in page.url  # nothing changed
    open_range(page, server, "period=fortnight&channels=web_chat&lang=fr", state="error")
    expect(page.locator("#error-text")).to_have_text(
        "Ce lien contient une valeur invalide pour « period »."
    )
    # what does not depend on the bad link stays: the pickers, the workspace, its zone
    expect(page.locator("#workspace")).to_have_text("shop")
    expect(page.locator("#timezone")).to_have_text("Fuseau horaire : America/Toronto")
    expect(page.locator("#channels-summary")).to_contain_text("Clavardage web")
    expect(page.locator("#channels-options input")).not_to_have_count(0)
    reset = page.locator("#reset")
    expect(reset).to_have_text("Réinitialiser les filtres")
    expect(page.locator("#retry")).to_be_hidden()
    reset.click()
    page.wait_for_url("**/?period=last_7_days&lang=fr")
    wait_ready(page, "ready", "empty")


def test_login_never_redirects_to_another_site(browser, server):
    for bad in (
        "/%5Cevil.example/phish",
        "//evil.example",
        "/\\evil.example",
        "/%09/evil.example",
        "https://evil.example/",
    ):
        context = browser.new_context(locale="en-CA")
        page = context.new_page()
        page.goto(f"{server.url}/login?next={bad}")
        page.fill("#email", "boss@shop.test")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: not url.endswith("/login") and "login?" not in url)
        assert page.url.startswith(server.url + "/"), (bad, page.url)
        context.close()


def test_api_docs_render_under_their_csp(browser, server):
    context = browser.new_context()
    page = context.new_page()
    violations = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{server.url}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("convoscope")
    expect(page.locator(".opblock-summary-path", has_text="/v1/overview").first).to_be_visible()
    assert violations == []
    assert all(url.startswith(server.url) or url.startswith("data:") for url in requests)
    context.close()


def test_a_member_of_two_workspaces_switches_in_the_header(browser, server):
    """Issue 21: the header lists the user's workspaces; picking one opens the same page on
    it for the same period. The membership is granted with the CLI beside the running server."""

    made = convoscope(
        "user", "create", "two@shop.test", "-w", "shop", db=server.db, stdin=PASSWORD + "\n"
    )
    granted = convoscope(
        "user", "grant", "two@shop.test", "-w", "demo", "--role", "admin", db=server.db
    )
    assert made.returncode == 0 and granted.returncode == 0, made.stderr + granted.stderr
    page = new_page(browser, server, email="two@shop.test")
    open_range(page, server, RANGE + "&channels=web_chat&lang=en")
    switch = page.locator("#workspace-switch")
    expect(switch).to_be_visible()
    assert switch.get_attribute("aria-label") == "Workspace"
    assert switch.locator("option").all_inner_texts() == ["demo", "shop"]
    assert switch.input_value() == "shop"
    assert page.evaluate("window.convoscope.data.workspace") == "shop"
    switch.select_option("demo")
    page.wait_for_url("**/?from=2026-11-10&to=2026-11-11&lang=en")  # the channel filter dropped
    wait_ready(page, "ready", "empty")
    assert page.evaluate("window.convoscope.data.workspace") == "demo"
    assert page.locator("#workspace-switch").input_value() == "demo"
    # a user of one workspace sees its name, no switcher
    single = new_page(browser, server)
    expect(single.locator("#workspace")).to_have_text("shop")
    expect(single.locator("#workspace-switch")).to_be_hidden()


def test_channels_without_a_chatbot_say_what_their_conversations_are(browser, server):
    """Issue 21: on email no chatbot wrote, so its "chatbot" conversations are those no
    teammate answered, and the page says so; French says "engagées" for engaged, everywhere."""
    page = new_page(browser, server)
    open_range(page, server, RANGE + "&channels=email&lang=en")
    assert tile(page, "duration", "split").startswith("Teammates ")
    assert " · No teammate reply " in tile(page, "duration", "split")
    names = [p["name"] for p in series(page, "chart-support")[0]]
    assert names == ["Teammates", "No teammate reply"]
    open_range(page, server, RANGE + "&channels=web_chat&lang=en")
    assert " · Chatbot " in tile(page, "duration", "split")
    open_range(page, server, RANGE + "&lang=fr")
    for where in ("#h-traffic", "[data-support='engaged']", "#traffic-select"):
        assert "actives" not in page.locator(where).inner_text(), where
    assert "engagées" in page.locator("#h-traffic").inner_text()
