"""The Team Performance page in a real headless Chromium against a real server: the tiles,
chart, CSAT breakdown and teammates table show the hand-worked numbers of `test_team`
(section 5 of the SPEC), the department and teammate pickers filter them, the settings
dialog edits business hours, French, empty and error states, accessibility, and the
README's screenshots."""

from __future__ import annotations

import csv
import io
import itertools
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
from playwright.sync_api import Page, expect
from test_team import scenario

RANGE = "from=2026-11-10&to=2026-11-11"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = serve_shop_and_demo(tmp_path_factory.mktemp("web-team"), scenario())
    yield srv
    srv.stop()


def open_team(page: Page, server, query: str, state: str = "ready") -> None:
    open_path(page, server, "/team", query, state)


def test_tiles_show_the_hand_worked_numbers(browser, server):
    page = new_page(browser, server)
    open_team(page, server, RANGE + "&lang=en")
    # initial response [120, 180, 600]; response [120, 600]; resolution [540, 1170]
    assert tile(page, "initial_response") == "5 min 0 s"
    assert (
        tile(page, "initial_response", "split") == "Median 3 min 0 s · 90th percentile 8 min 36 s"
    )
    assert tile(page, "response") == "6 min 0 s"
    assert tile(page, "resolution") == "14 min 15 s"
    assert tile(page, "resolution_business") == "14 min 15 s"  # no hours set: 24/7
    assert tile(page, "csat") == "3.50 / 5"
    assert tile(page, "csat", "split") == "4 surveys"
    assert [tile(page, n) for n in ("transfers", "addressed", "closed")] == ["2", "3", "2"]
    # previous period: F alone (initial response 120 s, one transfer and close)
    assert tile(page, "initial_response", "change") == "▲ +150% vs previous period (2 min 0 s)"
    change = page.locator("#tile-initial_response .change")
    assert change.get_attribute("data-trend") == "worse"  # slower is worse
    assert page.locator("#tile-transfers .change").get_attribute("data-trend") == "better"
    assert tile(page, "csat", "change") == "No data in the previous period"
    assert page.locator("h1").inner_text() == "Team performance"
    assert page.locator("nav a[aria-current=page]").inner_text() == "Team performance"


def test_efficiency_chart_and_legend(browser, server):
    page = new_page(browser, server)
    open_team(page, server, RANGE + "&lang=en")
    # minutes on the left axis, CSAT means as bars on the right
    assert series(page, "chart-efficiency") == [[2.5, 10], [6, None], [9, 19.5], [3.5, 3.5]]
    page.click("#chart-efficiency + details summary")
    assert rows(page, "table-efficiency") == [
        ["Tue, Nov 10", "2 min 30 s", "6 min 0 s", "9 min 0 s", "3.50"],
        ["Wed, Nov 11", "10 min 0 s", "—", "19 min 30 s", "3.50"],
    ]
    csat = page.locator("#efficiency-legend [data-series=csat]")
    assert csat.get_attribute("aria-pressed") == "true"
    csat.click()
    expect(csat).to_have_attribute("aria-pressed", "false")
    selected = page.evaluate(
        "window.convoscope.charts['chart-efficiency'].getOption().legend[0].selected"
    )
    assert [name for name, on in selected.items() if not on] == ["CSAT"]


def test_csat_breakdown_at_three_scales(browser, server):
    page = new_page(browser, server)
    open_team(page, server, RANGE + "&lang=en")

    def donut() -> list[tuple[str, int]]:
        return [(x["name"], x["value"]) for x in series(page, "chart-csat")[0]]

    # scores 5, 2, 3, 4 (the orphan survey's 1 is outside every conversation)
    assert donut() == [
        ("Score 5", 1),
        ("Score 4", 1),
        ("Score 3", 1),
        ("Score 2", 1),
        ("Score 1", 0),
    ]
    page.click("[data-csat='3']")
    page.wait_for_function("window.convoscope.state.csat === '3'")
    assert donut() == [("Positive (4-5)", 2), ("Neutral (3)", 1), ("Negative (1-2)", 1)]
    assert "csat=3" in page.url
    page.click("[data-csat='2']")
    page.wait_for_function("window.convoscope.state.csat === '2'")
    assert donut() == [("Positive (4-5)", 2), ("Negative (1-3)", 2)]
    assert page.locator("[data-csat='2']").get_attribute("aria-pressed") == "true"


def test_teammates_table_sorts(browser, server):
    page = new_page(browser, server)
    open_team(page, server, RANGE + "&lang=en")
    assert rows(page, "table-teammates") == [
        ["amy", "6 min 30 s", "—", "9 min 0 s", "9 min 0 s", "4.00 (2)", "2", "1"],
        ["bo", "2 min 0 s", "6 min 0 s", "—", "—", "3.00 (2)", "2", "0"],
        ["Unknown teammate", "—", "—", "19 min 30 s", "19 min 30 s", "—", "0", "1"],
    ]
    page.click("#table-teammates .sort[data-sort=initial_response]")
    page.wait_for_function("window.convoscope.state.sort === 'initial_response'")
    assert [r[0] for r in rows(page, "table-teammates")] == ["bo", "amy", "Unknown teammate"]
    page.click("#table-teammates .sort[data-sort=initial_response]")
    page.wait_for_function("window.convoscope.state.sort === '-initial_response'")
    assert [r[0] for r in rows(page, "table-teammates")] == ["amy", "bo", "Unknown teammate"]
    header = page.locator("#table-teammates th[aria-sort]")
    assert (
        header.get_attribute("aria-sort") == "descending" and "sort=-initial_response" in page.url
    )


def test_department_and_teammate_pickers(browser, server):
    page = new_page(browser, server)
    open_team(page, server, RANGE + "&lang=en")
    page.click("#departments summary")
    labels = page.locator("#departments-options label")
    assert [x.inner_text() for x in labels.all()] == ["No department", "Returns", "Sales"]
    page.click("#departments-clear")
    page.check("#departments-options input[value='(none)']")
    page.wait_for_function("window.convoscope.data.departments !== null")
    wait_ready(page)
    assert "departments=%28none%29" in page.url or "departments=(none)" in page.url
    assert page.locator("#departments-summary").inner_text() == "Departments: No department"
    assert tile(page, "initial_response") == "6 min 0 s"  # B and C: [120, 600]
    assert tile(page, "csat") == "2.50 / 5"
    expect(page.locator("#departments-all")).to_be_visible()  # the picker stays open
    page.click("#departments-all")
    page.wait_for_function("window.convoscope.data.departments === null")
    page.click("#teammates summary")
    page.fill("#teammates-search", "AM")
    visible = page.locator("#teammates-options label:visible")
    assert [x.inner_text() for x in visible.all()] == ["amy"]
    page.click("#teammates-clear")
    page.check("#teammates-options input[value=amy]")
    page.wait_for_function("window.convoscope.data.teammates !== null")
    wait_ready(page)
    assert [r[0] for r in rows(page, "table-teammates")] == ["amy"]
    assert tile(page, "closed") == "1" and "teammates=amy" in page.url
    page.click("nav a[data-page='/']")  # the filters go along to the overview
    page.wait_for_url(lambda url: "/team" not in url)
    wait_ready(page)
    assert "teammates=amy" in page.url and page.evaluate("window.convoscope.data.teammates") == [
        "amy"
    ]


def test_teammates_csv_download(browser, server):
    page = new_page(browser, server)
    open_team(page, server, RANGE + "&lang=en")
    with page.expect_download() as info:
        page.click("#export")
    download = info.value
    assert download.suggested_filename == "teammates_shop_2026-11-10_2026-11-11.csv"
    table = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert [row[0] for row in table[1:]] == ["amy", "bo", "Unknown teammate"]
    assert table[1][table[0].index("closed_conversations")] == "1"


def test_french(browser, server):
    page = new_page(browser, server, locale="fr-CA")
    open_team(page, server, RANGE)
    assert page.locator("h1").inner_text() == "Performance de l’équipe"
    assert tile(page, "csat") == "3,50 / 5"
    assert tile(page, "initial_response", "split").startswith("Médiane 3 min 0 s")
    assert tile(page, "initial_response", "change").startswith("▲ +150\u00a0%")
    assert rows(page, "table-teammates")[2][0] == "Agent inconnu"
    assert page.locator("#export").inner_text() == "Exporter les agents (CSV)"


def test_empty_and_error_states(browser, server):
    page = new_page(browser, server)
    open_team(page, server, "from=2026-01-01&to=2026-01-02&lang=en", state="empty")
    expect(page.locator("#empty")).to_be_visible()
    page.route(
        "**/v1/team?*",
        lambda route: route.fulfill(
            status=500, content_type="application/json", body='{"detail": "boom"}'
        ),
    )
    page.select_option("#period", "last_30_days")
    wait_ready(page, "error")
    expect(page.locator("#error-text")).to_have_text("The figures could not be loaded (boom).")
    page.unroute("**/v1/team?*")
    page.click("#retry")
    wait_ready(page, "ready", "empty")


def test_settings_dialog_edits_business_hours(browser, server):
    page = new_page(browser, server)
    open_team(page, server, RANGE + "&lang=en")
    page.click("#settings-open")
    expect(page.locator("#settings")).to_be_visible()
    assert page.locator("#settings-tz").input_value() == "America/Toronto"
    page.fill("#hours-tuesday", "9am")
    page.click("#settings-save")
    expect(page.locator("#settings-error")).to_have_text(
        "Tuesday: “9am” is not a span like 09:00-17:00."
    )
    # A (Tuesday): 10:01-10:10 counts from 10:05 = 300 s; C (Wednesday, no hours): 0 s
    page.fill("#hours-tuesday", "10:05-17:00")
    page.click("#settings-save")
    expect(page.locator("#settings")).to_be_hidden()
    expect(page.locator("#tile-resolution_business .value")).to_have_text("2 min 30 s")
    assert tile(page, "resolution") == "14 min 15 s"  # the clock time is unchanged
    page.click("#settings-open")
    expect(page.locator("#hours-tuesday")).to_have_value("10:05-17:00")
    page.fill("#hours-tuesday", "")  # every day empty: none set, 24/7 again
    page.click("#settings-save")
    expect(page.locator("#tile-resolution_business .value")).to_have_text("14 min 15 s")


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_accessibility_audit(browser, server, lang):
    page = new_page(browser, server, email="boss@demo.test")
    open_team(page, server, f"from=2026-11-07&to=2026-11-20&lang={lang}")
    page.click("#chart-efficiency + details summary")
    page.click("#chart-csat + details summary")
    assert axe_violations(page) == []
    page.click("#settings-open")
    expect(page.locator("#settings")).to_be_visible()
    assert axe_violations(page) == []


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("device", list(DEVICES))
def test_screenshots(browser, server, lang, device, tmp_path):
    page = new_page(browser, server, email="boss@demo.test", viewport=DEVICES[device])
    open_team(page, server, f"from=2026-11-07&to=2026-11-20&lang={lang}")
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"team-{lang}-{device}.png"), full_page=True)
    assert page.evaluate("window.convoscope.data.tiles.addressed_conversations") > 500
    assert page.locator("#table-teammates tbody tr").count() >= 5
    assert page.evaluate("document.documentElement.scrollWidth") <= DEVICES[device][0]


def test_teammates_table_shows_a_chosen_statistic_and_keeps_its_first_column(browser, server):
    """Issue 21: the median and p90 the CSV has, and every column reachable on a phone."""
    page = new_page(browser, server, viewport=(390, 844))
    open_team(page, server, RANGE + "&lang=en")
    api = page.evaluate(f"fetch('/v1/team?{RANGE}').then((r) => r.json())")
    by_id = {r["teammate_id"]: r for r in api["by_teammate"]}
    times = ("initial_response", "response", "resolution", "resolution_business")
    for stat in ("median", "p90", "mean"):
        page.click(f"[data-stat='{stat}']")
        page.wait_for_function(f"window.convoscope.state.stat === '{stat}'")
        assert page.locator(f"[data-stat='{stat}']").get_attribute("aria-pressed") == "true"
        for cells in rows(page, "table-teammates"):
            row = by_id["amy" if cells[0] == "amy" else "bo" if cells[0] == "bo" else None]
            expected = [text_duration(row[f"{k}_seconds"][stat]) for k in times]
            assert cells[1:5] == expected, (stat, cells)
        assert (f"stat={stat}" in page.url) == (stat != "mean")
    # sorted by the statistic shown: bo's median initial response is the shorter
    page.click("[data-stat='median']")
    page.click("#table-teammates .sort[data-sort=initial_response]")
    page.wait_for_function("window.convoscope.state.sort === 'initial_response'")
    assert rows(page, "table-teammates")[0][0] == "bo"

    # on a phone the table scrolls sideways, its first column stays in view, a shadow says so
    box = page.locator("#table-teammates")
    wide = box.evaluate("(el) => el.scrollWidth > el.clientWidth")
    assert wide
    assert "radial-gradient" in box.evaluate("(el) => getComputedStyle(el).backgroundImage")
    box.evaluate("(el) => { el.scrollLeft = el.scrollWidth; }")
    first = page.locator("#table-teammates tbody th").first.bounding_box()
    frame = box.bounding_box()
    assert first is not None and frame is not None and abs(first["x"] - frame["x"]) < 1
    last = page.locator("#table-teammates thead th").last.bounding_box()
    assert last is not None and last["x"] + last["width"] <= frame["x"] + frame["width"] + 1


def text_duration(seconds: float | None) -> str:
    """What the page shows for a duration: the CLI's words (`pages.text.duration`), with the
    page's dash for none."""
    from convoscope.pages.text import duration

    return "—" if seconds is None else duration(seconds)


def test_csat_change_in_points_and_closed_days_in_settings(browser, server):
    page = new_page(browser, server, email="boss@demo.test")
    open_team(page, server, "from=2026-11-14&to=2026-11-20&lang=en")
    api = page.evaluate("fetch('/v1/team?from=2026-11-14&to=2026-11-20').then((r) => r.json())")
    now, before = api["tiles"]["csat"]["mean"], api["tiles"]["previous"]["csat"]["mean"]
    delta = round(now - before, 2)
    arrow = "▲" if delta > 0 else "▼" if delta < 0 else "■"
    sign = "+" if delta > 0 else "-" if delta < 0 else ""
    expected = f"{arrow} {sign}{abs(delta):g} pts vs previous period ({before:.2f} / 5)"
    assert tile(page, "csat", "change") == expected
    # an empty day reads as what it means: open all day while no day has hours, else closed
    page.click("#settings-open")
    expect(page.locator("#settings")).to_be_visible()
    sunday = page.locator("#hours-sunday")
    assert sunday.get_attribute("placeholder") == "Open 24 hours (no hours set)"
    page.fill("#hours-monday", "09:00-17:00")
    page.click("#settings-save")
    expect(page.locator("#settings")).to_be_hidden()
    page.click("#settings-open")
    expect(page.locator("#hours-monday")).to_have_value("09:00-17:00")
    expect(sunday).to_have_attribute("placeholder", "Closed")  # once the settings are read
    assert sunday.input_value() == ""
    page.fill("#hours-monday", "")
    page.click("#settings-save")
    expect(page.locator("#settings")).to_be_hidden()


AXIS_LABELS = """(id) => {
  const axis = window.convoscope.charts[id].getOption().xAxis[0];
  const boxes = [...document.querySelectorAll(`#${id} svg text`)].map((el) => {
    const r = el.getBoundingClientRect();
    return { text: el.textContent, left: r.left, right: r.right };
  });
  return { boxes, data: axis.data, rotate: axis.axisLabel.rotate };
}"""


@pytest.mark.parametrize(("width", "lang"), [(1440, "en"), (820, "en"), (390, "en"), (390, "fr")])
def test_every_day_of_a_week_keeps_its_label(browser, server, width, lang):
    """Issue 21: seven daily buckets are each labelled, without overlap, on the overview's,
    Team Performance's and Sales Attribution's charts at every width (a demo week)."""
    page = new_page(browser, server, email="boss@demo.test", viewport=(width, 900))
    week = "from=2026-11-14&to=2026-11-20&lang=" + lang
    charts = (("/", "chart-engagement"), ("/team", "chart-efficiency"), ("/sales", "chart-sales"))
    for path, chart in charts:
        open_path(page, server, path, week)
        found = page.evaluate(AXIS_LABELS, chart)
        assert len(found["data"]) == 7
        days = [b for b in found["boxes"] if any(b["text"] == d for d in found["data"])]
        assert sorted(b["text"] for b in days) == sorted(found["data"]), (path, width)
        ordered = sorted(days, key=lambda b: b["right"])
        for a, b in itertools.pairwise(ordered):
            if found["rotate"] == 0:  # side by side
                assert a["right"] <= b["left"] + 1, (path, width, a, b)
            else:  # parallel turned lines of 12 px type, one line's height apart at least
                gap = (b["right"] - a["right"]) * (0.7071 if found["rotate"] == 45 else 1)
                assert gap >= 11.5, (path, width, found["rotate"], a, b)


def test_teammates_show_the_names_the_platform_gave(browser, server):
    """Issue 21: display names where a platform gives them (Chatwoot, or set through the API);
    ids where none is known; the CSV keeps the ids."""
    page = new_page(browser, server, email="boss@demo.test")
    put = (
        "(names) => import('/static/js/api.js').then((m) => m.putJson('/v1/teammate-names', names))"
    )
    page.evaluate(put, {"amelie": "Amélie Roy", "benoit": "Benoît Tremblay"})
    try:
        open_team(page, server, "from=2026-11-14&to=2026-11-20&lang=en")
        names = [r[0] for r in rows(page, "table-teammates")]
        assert "Amélie Roy" in names and "Benoît Tremblay" in names and "chloe" in names
        assert "amelie" not in names
        page.click("#teammates summary")
        page.fill("#teammates-search", "amé")
        visible = page.locator("#teammates-options label:visible")
        assert [x.inner_text() for x in visible.all()] == ["Amélie Roy"]
        assert visible.locator("input").get_attribute("value") == "amelie"  # filters by id
        assert names[:3] == ["Amélie Roy", "Benoît Tremblay", "chloe"]  # sorted as shown
    finally:
        page.evaluate(put, {"amelie": None, "benoit": None})


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("device", list(DEVICES))
def test_team_details_read_well(browser, server, device, lang):
    """Issue 21's Team details at every width and in both languages: durations on one line,
    legend chips in the series' colours, titled axes, the score axis above 5, donuts with
    percentages, no dead space under a chart; the bucket in progress drawn lighter."""
    page = new_page(browser, server, email="boss@demo.test", viewport=DEVICES[device])
    open_team(page, server, f"from=2026-11-14&to=2026-11-20&lang={lang}")
    split = page.locator("#tile-resolution .split").inner_text()
    assert "\xa0min\xa0" in split and " min " not in split  # no break inside a duration
    chip = page.locator("#efficiency-legend [data-series=csat]")
    assert chip.get_attribute("aria-pressed") == "true"
    background = chip.evaluate("(el) => getComputedStyle(el).backgroundColor")
    assert background == "rgb(255, 255, 255)"  # not the accent's solid blue
    dot = chip.locator(".dot").evaluate("(el) => getComputedStyle(el).backgroundColor")
    assert dot == "rgb(217, 119, 6)"  # the CSAT series' own colour
    axes = page.evaluate("window.convoscope.charts['chart-efficiency'].getOption().yAxis")
    titles = {
        "en": ["Time (minutes)", "CSAT (out of 5)"],
        "fr": ["Durée (minutes)", "CSAT (sur 5)"],
    }
    assert [a["name"] for a in axes] == titles[lang]
    assert axes[1]["max"] > 5  # a bar at 5 does not touch the frame
    legend = page.evaluate(
        "[...document.querySelectorAll('#chart-csat svg text')].map((t) => t.textContent)"
    )
    assert any("%" in text for text in legend), legend  # the breakdown's shares
    for chart in ("chart-efficiency", "chart-csat"):  # labels reach the chart's bottom
        gap = page.evaluate(
            """(id) => {
              const box = document.getElementById(id).getBoundingClientRect();
              const texts = [...document.querySelectorAll(`#${id} svg text`)];
              return box.bottom - Math.max(...texts.map((t) => t.getBoundingClientRect().bottom));
            }""",
            chart,
        )
        assert 0 <= gap <= 24, (chart, gap)


def test_the_bucket_in_progress_is_drawn_lighter_on_the_efficiency_chart(browser, server):
    page = new_page(browser, server)
    option = page.evaluate(
        """async () => {
          const m = await import('/static/js/charts.js');
          const el = document.createElement('div'); el.id = 'probe-eff';
          el.style.width = '600px'; el.style.height = '300px'; document.body.append(el);
          const s = (key, csat) => ({ key, name: key, data: [60, 120], color: '#000', csat });
          m.efficiency(el.id, { labels: ['10', '11'], series: [s('a', false), s('c', true)],
            hidden: new Set(), live: 1, liveText: 'now', formatTime: String,
            formatScore: String, minutes: String, names: { time: 't', score: 's' } });
          return m.charts[el.id].getOption();
        }"""
    )
    for line in option["series"]:
        assert line["data"][1]["itemStyle"]["opacity"] < 1 and not isinstance(line["data"][0], dict)
    assert option["xAxis"][0]["data"] == ["10", "11 (now)"]
