"""User data stays plain text in the page: the hostile names of `tests/test_exports.py`
(formulas, markup, Rich markup, CJK) as the workspace, departments and pickers' options."""

from __future__ import annotations

from chromium import new_page, open_path
from server import Server
from test_exports import DEPARTMENTS, WORKSPACE, hostile_db


def test_page_shows_names_as_text(tmp_path, browser):
    db = hostile_db(tmp_path / "h.duckdb")
    server = Server(db, tmp_path / "server.log").start()
    try:
        page = new_page(browser, server, email="boss@h.test")
        open_path(page, server, "/", "from=2026-11-10&to=2026-11-10&lang=en")
        cells = page.locator("#table-departments tbody th").all_text_contents()
        assert set(cells) == {*DEPARTMENTS, "No department"}
        assert page.locator("img[src=x]").count() == 0
        assert page.locator("#workspace").inner_text() == WORKSPACE
        page.click("#departments summary")
        options = page.locator("#departments-options label").all_text_contents()
        assert set(options) == {*DEPARTMENTS, "No department"}
        assert page.locator("img[src=x]").count() == 0
    finally:
        server.stop()
