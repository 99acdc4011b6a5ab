"""The page registry (`convoscope.pages`) is what every interface reads: each registered page
has its API route, CSV routes, web route, menu entry, `report --page` choice and `export`
commands, and nothing lists pages by hand."""

from __future__ import annotations

import re
from pathlib import Path

from typer.main import get_command

from convoscope import pages
from convoscope.cli import app as cli_app
from convoscope.store import Store
from convoscope.web import create_app


def test_every_registered_page_is_served_everywhere():
    with Store(":memory:") as store:
        app = create_app(store)
    api = app.openapi()["paths"]
    web = {getattr(r, "path", None) for r in app.routes}
    cli = get_command(cli_app)
    report_help = cli.commands["report"].params  # type: ignore[attr-defined]
    page_option = next(p for p in report_help if p.name == "page")
    exports = set(cli.commands["export"].commands)  # type: ignore[attr-defined]
    for page in pages.PAGES.values():
        answer = api[page.api_path]["get"]["responses"]["200"]["content"]["application/json"]
        assert answer["schema"]["$ref"].endswith(f"/{page.result.__name__}")
        assert page.web_path in web
        assert page.name in (page_option.help or "")
        assert set(page.titles) == {"en", "fr"}
        for export in page.exports:
            assert f"/v1/reports/{export.name}.csv" in api
            assert export.name in exports
    assert set(pages.EXPORTS) == exports


def test_pages_lists_the_menu_in_both_languages(tmp_path):
    from fastapi.testclient import TestClient

    from convoscope import accounts

    with Store(tmp_path / "p.duckdb") as store:
        store.ensure_workspace("w")
        key = accounts.create_key(store, "w", "test")
        with TestClient(create_app(store), headers={"Authorization": f"Bearer {key}"}) as c:
            listed = c.get("/v1/pages").json()
    assert [(p["name"], p["path"], p["api"]) for p in listed] == [
        ("overview", "/", "/v1/overview"),
        ("team", "/team", "/v1/team"),
        ("chatbot", "/chatbot", "/v1/chatbot"),
        ("sales", "/sales", "/v1/sales"),
    ]
    assert listed[1]["titles"] == {"en": "Team performance", "fr": "Performance de l’équipe"}
    assert listed[2]["titles"] == {"en": "Chatbot performance", "fr": "Performance du chatbot"}
    assert listed[0]["exports"] == ["/v1/reports/departments.csv"]
    assert listed[2]["exports"] == ["/v1/reports/flows.csv"]
    assert listed[0]["filters"] == ["channels", "departments", "teammates"]
    assert listed[2]["filters"] == ["channels", "departments", "flow_types", "flows"]
    assert listed[3]["titles"] == {"en": "Sales attribution", "fr": "Attribution des ventes"}
    assert listed[3]["exports"] == ["/v1/reports/sales.csv", "/v1/reports/sales-teammates.csv"]
    assert listed[3]["filters"] == ["channels", "departments", "teammates", "currency"]


def _keys(block: str) -> set[str]:
    """The keys of one language's strings in a strings module's text."""
    return {a or b for a, b in re.findall(r'^ {4}(?:"([^"]+)"|(\w+)): ', block, re.M)}


def test_every_page_has_its_modules_and_its_strings_in_both_languages():
    """A page's web side is its HTML, its JS module and its strings module; its strings have
    the same keys in English and French, none of them redefining a shared one."""
    static = Path(pages.__file__).parent.parent / "web" / "static"
    shared = (static / "js" / "i18n.js").read_text(encoding="utf-8")
    shared_en, shared_fr = shared.split("\n  fr: {\n")
    assert _keys(shared_en) == _keys(shared_fr)
    for page in pages.PAGES.values():
        assert (static / f"{page.name}.html").is_file()
        module = (static / "js" / f"{page.name}.js").read_text(encoding="utf-8")
        assert f'import strings from "./{page.name}.strings.js";' in module
        text = (static / "js" / f"{page.name}.strings.js").read_text(encoding="utf-8")
        en, fr = text.split("\n  fr: {\n")
        assert _keys(en) == _keys(fr) and _keys(en), page.name
        assert not _keys(en) & _keys(shared_en), page.name
