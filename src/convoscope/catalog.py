"""The catalog: every statement more than one engine runs, by name, with the relations it reads.

The cut of SPEC section 2 (`conversations.CUT`, run in order, each result a view for the
next), every registered page's statements (`pages`), the rollups' rows (`rollups`) and the
channel list of a lake (`lake`). The DuckDB file's own upkeep (the deletes, merges and
temporary tables of `conversations.refresh` and `rollups.apply`) is not here: only DuckDB runs
it. `tests/test_portable.py` holds every statement here to the portable subset and keeps its
Spark text; the relations a statement reads are read from its tree, so a statement that reads
something no engine provides is caught there, not in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from convoscope import conversations, lake, pages, rollups
from convoscope.engines import dialects


@dataclass(frozen=True)
class Statement:
    name: str
    sql: str

    @cached_property
    def reads(self) -> frozenset[str]:
        """The tables and views it reads (its own CTEs left out)."""
        return dialects.tables_read(self.sql)


def statements() -> dict[str, Statement]:
    named = {
        **dict(conversations.CUT),
        **pages.statements(),
        **{f"rollup_{r.table}": rollups.summed(r) for r in rollups.ROLLUPS},
        "lake_channels": lake.CHANNELS_SQL,
    }
    return {name: Statement(name, sql) for name, sql in named.items()}
