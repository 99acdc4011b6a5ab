"""The analytics pages, registered: what the API routes, the CLI's `report --page` and
`export` commands, the web shell's navigation and the portability test list.

A page is one module here declaring a `common.Page` (its statements, result model, compute
step, CSV exports and terminal view); adding one to `PAGES` is all the rest needs. `runner`
runs any of them; `sources` decides between rollups and rows; `text` holds the shared
terminal formats.
"""

from __future__ import annotations

from dataclasses import replace

from convoscope.pages import chatbot, overview, sales, team
from convoscope.pages.common import Export, Page

PAGES: dict[str, Page] = {
    page.name: page for page in (overview.PAGE, team.PAGE, chatbot.PAGE, sales.PAGE)
}
# Each export knows its page's title and filters (the runner refuses the others).
EXPORTS: dict[str, Export] = {
    e.name: replace(e, title=page.title, filters=page.filters)
    for page in PAGES.values()
    for e in page.exports
}


def statements() -> dict[str, str]:
    """Every statement a page runs, named `<page>_<statement>` (shared ones once, by the
    name of the first page that runs them)."""
    out: dict[str, str] = {}
    seen: set[str] = set()
    for page in PAGES.values():
        for name, sql in page.statements.items():
            if sql not in seen:
                seen.add(sql)
                out[f"{page.name}_{name}"] = sql
    return out
