"""Workspaces, users and API keys (`convoscope workspace|user|key ...`), and `rebuild`."""

import sys
import time
from typing import Annotated

import typer
from rich.text import Text

from convoscope.cli.common import DbOpt, WorkspaceOpt, fail, open_store, out, rebuild, say
from convoscope.cli.running import operate
from convoscope.store import DEFAULT_TIMEZONE

workspace_app = typer.Typer(help="Manage workspaces.", no_args_is_help=True, rich_markup_mode=None)
user_app = typer.Typer(
    help="Manage users (admins see analytics).", no_args_is_help=True, rich_markup_mode=None
)
key_app = typer.Typer(help="Manage API keys.", no_args_is_help=True, rich_markup_mode=None)


def _secret(prompt: str, confirm: bool = False) -> str:
    """Asked for on a terminal (hidden), else the first line of standard input."""
    if sys.stdin.isatty():
        return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm))
    return sys.stdin.readline().rstrip("\n")


def _print_table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    from rich import box  # loaded by the listings only: every command's start pays for imports
    from rich.table import Table

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
    created, zone = operate(db, "create_workspace", create=True, name=name, timezone=timezone)
    say(f"workspace {created!r} ({zone})")


@workspace_app.command("list")
def workspace_list(db: DbOpt = None) -> None:
    """List the workspaces with their time zones."""
    _print_table("Workspaces", ["workspace", "time zone"], operate(db, "workspaces"))


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
    operate(
        db,
        "set_whatsapp",
        name=name,
        secret=secret,
        verify_token=verify_token,
        phone_number_ids=phone_number_ids,
    )
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
    operate(db, "set_shopify", name=name, secret=secret, domain=domain)
    say(f"Shopify webhooks configured for workspace {name!r}: {domain}")


RoleOpt = Annotated[str, typer.Option(help="admin or teammate.")]


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Argument(help="The user's email, used to log in.")],
    workspace: WorkspaceOpt,
    role: RoleOpt = "admin",
    db: DbOpt = None,
) -> None:
    """Create a user; the password is asked for, or read from standard input."""
    password = _secret("Password", confirm=True)
    operate(db, "create_user", email=email, workspace=workspace, role=role, password=password)
    say(f"user {email} ({role}) in workspace {workspace!r}")


@user_app.command("grant")
def user_grant(
    email: Annotated[str, typer.Argument(help="An existing user's email.")],
    workspace: WorkspaceOpt,
    role: RoleOpt = "admin",
    db: DbOpt = None,
) -> None:
    """Make an existing user a member of another workspace (or change their role there); the
    page's header then lets them switch workspaces."""
    operate(db, "grant", email=email, workspace=workspace, role=role)
    say(f"user {email} ({role}) in workspace {workspace!r} too")


@user_app.command("list")
def user_list(workspace: WorkspaceOpt, db: DbOpt = None) -> None:
    """List a workspace's users and roles."""
    users = operate(db, "list_users", workspace_name=workspace)
    _print_table(f"Users of {workspace}", ["email", "role", "created"], users)


@user_app.command("password")
def user_password(
    email: Annotated[str, typer.Argument(help="The user's email.")], db: DbOpt = None
) -> None:
    """Set a new password (asked for, or read from standard input); ends the user's sessions."""
    password = _secret("New password", confirm=True)
    operate(db, "set_password", email=email, password=password)
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
    key = operate(db, "create_key", workspace=workspace, name=name, scope=scope)
    say(f"{scope} API key for workspace {workspace!r}; it is shown only now:")
    sys.stdout.write(key + "\n")


@key_app.command("list")
def key_list(workspace: WorkspaceOpt, db: DbOpt = None) -> None:
    """List a workspace's keys (ids and scopes; the keys themselves are never stored)."""
    keys = operate(db, "list_keys", workspace_name=workspace)
    _print_table(
        f"API keys of {workspace}", ["key id", "name", "scope", "created", "revoked"], keys
    )


@key_app.command("revoke")
def key_revoke(
    key_id: Annotated[str, typer.Argument(help="The key id: the 12 hex digits after csk_.")],
    db: DbOpt = None,
) -> None:
    """Revoke a key at once; requests with it get 401."""
    operate(db, "revoke_key", key_id=key_id)
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
