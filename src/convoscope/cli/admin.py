"""Workspaces, users and API keys (`convoscope workspace|user|key ...`), and `rebuild`."""

from __future__ import annotations

import sys
import time
from typing import Annotated

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from convoscope import accounts
from convoscope.cli.common import (
    DbOpt,
    WorkspaceOpt,
    fail,
    open_store,
    out,
    rebuild,
    say,
    workspace_or_fail,
)
from convoscope.store import DEFAULT_TIMEZONE

workspace_app = typer.Typer(help="Manage workspaces.", no_args_is_help=True)
user_app = typer.Typer(help="Manage users (admins see analytics).", no_args_is_help=True)
key_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)


def _secret(prompt: str, confirm: bool = False) -> str:
    """Asked for on a terminal (hidden), else the first line of standard input."""
    if sys.stdin.isatty():
        return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm))
    return sys.stdin.readline().rstrip("\n")


def _print_table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    for name in columns:
        table.add_column(name)
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    out.print(table)


@workspace_app.command("create")
def workspace_create(
    name: Annotated[str, typer.Argument(help="Workspace name (one brand or store).")],
    timezone: Annotated[str, typer.Option(help="IANA time zone.")] = DEFAULT_TIMEZONE,
    db: DbOpt = None,
) -> None:
    """Create a workspace (no-op if it exists)."""
    with open_store(db, create=True) as store:
        try:
            ws = store.ensure_workspace(name, timezone)
        except ValueError as exc:
            raise fail(str(exc), 2) from None
    say(f"workspace {ws.name!r} ({ws.timezone})")


@workspace_app.command("list")
def workspace_list(db: DbOpt = None) -> None:
    """List the workspaces with their time zones."""
    with open_store(db) as store:
        rows = [
            [ws.name, ws.timezone] for ws in map(store.workspace, store.workspace_names()) if ws
        ]
    _print_table("Workspaces", ["workspace", "time zone"], rows)


@workspace_app.command("whatsapp")
def workspace_whatsapp(
    name: Annotated[str, typer.Argument(help="Workspace name.")],
    verify_token: Annotated[
        str, typer.Option(help="The verify token entered in Meta's webhook settings.")
    ],
    phone_number_ids: Annotated[
        list[str],
        typer.Option("--phone-number-id", help="The business phone number id (repeatable)."),
    ],
    db: DbOpt = None,
) -> None:
    """Set the WhatsApp Cloud API app secret (asked for, or read from stdin), the verify token
    and the business phone numbers whose notifications belong to this workspace."""
    secret = _secret("Meta app secret")
    if not secret:
        raise fail("the app secret is empty", 2)
    with open_store(db) as store:
        workspace_or_fail(store, name)
        store.set_whatsapp(name, secret, verify_token, phone_number_ids)
    say(f"WhatsApp webhook configured for workspace {name!r}: {', '.join(phone_number_ids)}")


@workspace_app.command("shopify")
def workspace_shopify(
    name: Annotated[str, typer.Argument(help="Workspace name.")],
    shop_domain: Annotated[
        str, typer.Option(help="The shop's domain, e.g. my-shop.myshopify.com.")
    ],
    db: DbOpt = None,
) -> None:
    """Set the shop's webhook signing secret (asked for, or read from stdin) and the shop
    domain whose orders and refunds belong to this workspace."""
    secret = _secret("Shopify webhook secret")
    if not secret:
        raise fail("the webhook secret is empty", 2)
    domain = shop_domain.strip().lower()
    if not domain or len(domain) > 255 or "/" in domain:
        raise fail("--shop-domain: give the shop's domain, e.g. my-shop.myshopify.com", 2)
    with open_store(db) as store:
        workspace_or_fail(store, name)
        store.set_shopify(name, secret, domain)
    say(f"Shopify webhooks configured for workspace {name!r}: {domain}")


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Argument(help="The user's email, used to log in.")],
    workspace: WorkspaceOpt,
    role: Annotated[str, typer.Option(help="admin or teammate.")] = "admin",
    db: DbOpt = None,
) -> None:
    """Create a user; the password is asked for, or read from standard input."""
    password = _secret("Password", confirm=True)
    with open_store(db) as store:
        try:
            accounts.create_user(store, email, workspace, role, password)
        except ValueError as exc:
            raise fail(str(exc), 2) from None
    say(f"user {email} ({role}) in workspace {workspace!r}")


@user_app.command("list")
def user_list(workspace: WorkspaceOpt, db: DbOpt = None) -> None:
    """List a workspace's users and roles."""
    with open_store(db) as store:
        workspace_or_fail(store, workspace)
        users = accounts.list_users(store, workspace)
    _print_table(
        f"Users of {workspace}",
        ["email", "role", "created"],
        [[email, role, f"{created:%Y-%m-%d %H:%M}"] for email, role, created in users],
    )


@user_app.command("password")
def user_password(
    email: Annotated[str, typer.Argument(help="The user's email.")], db: DbOpt = None
) -> None:
    """Set a new password (asked for, or read from standard input); ends the user's sessions."""
    password = _secret("New password", confirm=True)
    with open_store(db) as store:
        try:
            accounts.set_password(store, email, password)
        except ValueError as exc:
            raise fail(str(exc), 2) from None
    say(f"password of {email} changed; their sessions are closed")


@key_app.command("create")
def key_create(
    workspace: WorkspaceOpt,
    name: Annotated[str | None, typer.Option(help="A label, e.g. the platform.")] = None,
    scope: Annotated[
        str, typer.Option(help="admin (everything) or ingest (send events and webhooks only).")
    ] = "admin",
    db: DbOpt = None,
) -> None:
    """Create an API key; it is printed once, alone on the last line."""
    with open_store(db) as store:
        try:
            key = accounts.create_key(store, workspace, name, scope)
        except ValueError as exc:
            raise fail(str(exc), 2) from None
    say(f"{scope} API key for workspace {workspace!r}; it is shown only now:")
    sys.stdout.write(key + "\n")


@key_app.command("list")
def key_list(workspace: WorkspaceOpt, db: DbOpt = None) -> None:
    """List a workspace's keys (ids and scopes; the keys themselves are never stored)."""
    with open_store(db) as store:
        keys = accounts.list_keys(store, workspace)
    _print_table(
        f"API keys of {workspace}",
        ["key id", "name", "scope", "created", "revoked"],
        [
            [
                key_id,
                name or "",
                scope,
                f"{created:%Y-%m-%d %H:%M}",
                f"{revoked:%Y-%m-%d %H:%M}" if revoked else "",
            ]
            for key_id, name, scope, created, revoked in keys
        ],
    )


@key_app.command("revoke")
def key_revoke(
    key_id: Annotated[str, typer.Argument(help="The key id: the 12 hex digits after csk_.")],
    db: DbOpt = None,
) -> None:
    """Revoke a key at once; requests with it get 401."""
    with open_store(db) as store:
        if not accounts.revoke_key(store, key_id):
            raise fail(f"no active key {key_id!r}", 2)
    say(f"key {key_id} revoked")


def rebuild_(db: DbOpt = None) -> None:
    """Recompute every conversation and rollup from the events, stored in time order.

    Writes re-cut the threads they touch and append them, so after many late events or
    re-cut histories a period reads more row groups than it needs; a rebuild restores the
    order (minutes for ten million events). Readers keep their snapshot meanwhile; writers
    wait.
    """
    with open_store(db) as store:
        started = time.perf_counter()
        rebuild(store)
        n = store.conversation_count()
        say(f"{n:,} conversations recomputed in {time.perf_counter() - started:.1f} s")
