"""The DuckDB file: `Store` over one file, made of its parts (`database`: the file, its
transactions and migrations; `schema`: the tables; `workspaces`; `append`: events in).

Appending is where duplicates and conflicts are decided (against what is stored, in the
same transaction) and where arrival order (`seq`) is assigned. Deriving conversations from
the events is not done here but in `conversations`, inside the transaction that
`Store.deriving` opens after the events landed; the store keeps how far that went.
"""

from __future__ import annotations

from convoscope.store.append import Appending, AppendResult, Staging
from convoscope.store.database import (
    INDEX_LOOKUP_KEYS,
    MEMORY_LIMIT,
    StoreBusy,
    WriterBusy,
    bound,
    default_db_path,
    first_row,
    memory_limit,
    only_row,
    select_events,
)
from convoscope.store.schema import DERIVED_TABLES, ROLLUP_TABLES, SCHEMA_VERSION
from convoscope.store.workspaces import (
    DEFAULT_TIMEZONE,
    Settings,
    Workspace,
    Workspaces,
    check_timezone,
    check_workspace_name,
)

__all__ = [
    "DEFAULT_TIMEZONE",
    "DERIVED_TABLES",
    "INDEX_LOOKUP_KEYS",
    "MEMORY_LIMIT",
    "ROLLUP_TABLES",
    "SCHEMA_VERSION",
    "AppendResult",
    "Settings",
    "Staging",
    "Store",
    "StoreBusy",
    "Workspace",
    "WriterBusy",
    "bound",
    "check_timezone",
    "check_workspace_name",
    "default_db_path",
    "first_row",
    "memory_limit",
    "only_row",
    "select_events",
]


class Store(Workspaces, Appending):
    """One open database file (see `database.Database`) with its workspaces and events."""
