"""What the CLI asks of a database, as plain functions of a `Store` taking and returning JSON
values, so that the same function runs in the CLI's process or, while a server holds the
file (DuckDB lets one process open it), in that server (`api.operator`, `cli.running`).

Reports and exports read a workspace's page or CSV for the API's query parameters; the
administration operations are those of `convoscope workspace|user|key`. Each failure is an
`OperationError` carrying the message the CLI prints and its exit code, or a `QueryError`
naming the parameter at fault.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import Any

from convoscope import accounts, exports, pages
from convoscope.engines import Engine, Tables
from convoscope.pages import runner
from convoscope.query import Query, QueryError, QueryParams
from convoscope.store import Store, Workspace

TOKEN_HEADER = "X-Convoscope-Operator"  # how the CLI shows a running server its token


class OperationError(ValueError):
    """A refused operation: the message for the user, and the CLI's exit code."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.message, self.code = message, code


SHOWN_WORKSPACES = 10  # beyond that, the closest names and how to list them all


def known_workspaces(name: str, names: list[str]) -> str:
    """What to say about the workspaces when `name` is not one: all of them when few, else
    the closest names (`did you mean`) and the command that lists them."""
    if not names:
        return "none yet"
    if len(names) <= SHOWN_WORKSPACES:
        return "workspaces: " + ", ".join(names)
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(repr(c) for c in close)}? " if close else ""
    return f"{hint}{len(names)} workspaces: `convoscope workspace list` lists them"


def workspace(store: Store, name: str) -> Workspace:
    found = store.workspace(name)
    if found is None:
        known = known_workspaces(name, store.workspace_names())
        raise OperationError(f"no workspace {name!r} in {store.path} ({known})")
    return found


def query_of(ws: Workspace, known: Callable[[], list[str]], params: dict[str, Any]) -> Query:
    """The API's query parameters (`QueryParams`) resolved in `ws`; a channel filter on a
    channel without data is refused (it can only give zeros). `known` lists the channels."""
    query = QueryParams.parse(**params).resolve(ws.name, ws.timezone)
    if query.channels:
        found = known()
        unknown = [c for c in query.channels if c not in found]
        if unknown:
            raise QueryError(
                "channels",
                f"no data on {', '.join(unknown)} in workspace {ws.name!r} "
                f"(channels: {', '.join(found) or 'none yet'})",
            )
    return query


def page_result(tables: Tables | Engine, query: Query, page: str) -> dict[str, Any]:
    """A page's result as `GET /v1/<page>` answers it."""
    return runner.run(pages.PAGES[page], tables, query).model_dump(mode="json")


def export_csv(tables: Tables | Engine, query: Query, name: str) -> dict[str, Any]:
    """One of a page's CSVs, whole, and its number of lines."""
    item = pages.EXPORTS[name]
    values = runner.export(item, tables, query)
    return {"csv": exports.csv_text(item.columns, values), "lines": len(values)}


READS = {"report": page_result, "export": export_csv}


def read(store: Store, what: str, name: str, workspace_name: str, params: dict[str, Any]) -> Any:
    """`report` (a page) or `export` (a CSV) of a workspace of the database."""
    known: dict[str, Mapping[str, object]] = {"report": pages.PAGES, "export": pages.EXPORTS}
    if name not in known.get(what, {}):
        raise OperationError(f"nothing to {what!r} named {name!r}")
    if not isinstance(params, dict) or not all(isinstance(v, str | None) for v in params.values()):
        raise OperationError("the query parameters are text values by name")
    ws = workspace(store, workspace_name)
    return READS[what](store, query_of(ws, lambda: store.channels(ws.name), params), name)


def workspaces(store: Store) -> list[list[str]]:
    return [[ws.name, ws.timezone] for ws in map(store.workspace, store.workspace_names()) if ws]


def create_workspace(store: Store, name: str, timezone: str) -> list[str]:
    try:
        ws = store.ensure_workspace(name, timezone)
    except ValueError as exc:
        raise OperationError(str(exc)) from None
    return [ws.name, ws.timezone]


def set_whatsapp(
    store: Store, name: str, secret: str, verify_token: str, phone_number_ids: list[str]
) -> None:
    workspace(store, name)
    store.set_whatsapp(name, secret, verify_token, phone_number_ids)


def set_shopify(store: Store, name: str, secret: str, domain: str) -> None:
    workspace(store, name)
    store.set_shopify(name, secret, domain)


def create_user(store: Store, email: str, workspace: str, role: str, password: str) -> None:
    try:
        accounts.create_user(store, email, workspace, role, password)
    except ValueError as exc:
        raise OperationError(str(exc)) from None


def grant(store: Store, email: str, workspace: str, role: str) -> None:
    try:
        accounts.grant(store, email, workspace, role)
    except ValueError as exc:
        raise OperationError(str(exc)) from None


def list_users(store: Store, workspace_name: str) -> list[list[str]]:
    workspace(store, workspace_name)
    return [
        [email, role, f"{created:%Y-%m-%d %H:%M}"]
        for email, role, created in accounts.list_users(store, workspace_name)
    ]


def set_password(store: Store, email: str, password: str) -> None:
    try:
        accounts.set_password(store, email, password)
    except ValueError as exc:
        raise OperationError(str(exc)) from None


def create_key(store: Store, workspace: str, name: str | None, scope: str) -> str:
    try:
        return accounts.create_key(store, workspace, name, scope)
    except ValueError as exc:
        raise OperationError(str(exc)) from None


def list_keys(store: Store, workspace_name: str) -> list[list[str]]:
    workspace(store, workspace_name)
    return [
        [
            key_id,
            name or "",
            scope,
            f"{created:%Y-%m-%d %H:%M}",
            f"{revoked:%Y-%m-%d %H:%M}" if revoked else "",
        ]
        for key_id, name, scope, created, revoked in accounts.list_keys(store, workspace_name)
    ]


def revoke_key(store: Store, key_id: str) -> None:
    if not accounts.revoke_key(store, key_id):
        raise OperationError(f"no active key {key_id!r}")


# What a running server does for the CLI (`api.operator`): these and nothing else.
OPERATIONS: dict[str, Callable[..., Any]] = {
    f.__name__: f
    for f in (
        read,
        workspaces,
        create_workspace,
        set_whatsapp,
        set_shopify,
        create_user,
        grant,
        list_users,
        set_password,
        create_key,
        list_keys,
        revoke_key,
    )
}
