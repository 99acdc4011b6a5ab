"""The `convoscope` command: import, report, export, demo.

A thin shell over the library: every command builds the same objects the HTTP API builds
(`Query`, validated event batches) and prints what `overview.run` returns.
"""

from __future__ import annotations

import json
import logging
import secrets
import sys
import time
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import rich.progress
import typer
from rich.console import Console
from rich.table import Table

from convoscope import accounts, conversations, demo, overview
from convoscope.adapters import mapped, rasa, twcs
from convoscope.adapters.files import BATCH_SIZE, guess_format, read_events
from convoscope.events import ConflictError, Event, EventError, validate_batch
from convoscope.query import Query, QueryError
from convoscope.store import DEFAULT_TIMEZONE, Store, StoreBusy

app = typer.Typer(
    help="Conversation analytics for customer messaging.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
export_app = typer.Typer(help="Export reports as files.", no_args_is_help=True)
app.add_typer(export_app, name="export")
workspace_app = typer.Typer(help="Manage workspaces.", no_args_is_help=True)
app.add_typer(workspace_app, name="workspace")
user_app = typer.Typer(help="Manage users (admins see analytics).", no_args_is_help=True)
app.add_typer(user_app, name="user")
key_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
app.add_typer(key_app, name="key")
err = Console(stderr=True)
out = Console()

DbOpt = Annotated[
    Path | None,
    typer.Option("--db", envvar="CONVOSCOPE_DB", help="Database file (default: user data dir)."),
]
WorkspaceOpt = Annotated[str, typer.Option("--workspace", "-w", help="Workspace name.")]
PeriodOpt = Annotated[
    str | None,
    typer.Option(help="today, yesterday, last_7_days, last_30_days, this_month, last_month."),
]
FromOpt = Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")]
ToOpt = Annotated[str | None, typer.Option("--to", help="Last day (included), YYYY-MM-DD.")]
TzOpt = Annotated[str | None, typer.Option("--tz", help="IANA zone (default: the workspace's).")]
ChannelsOpt = Annotated[str | None, typer.Option(help="Comma-separated channels (default all).")]
GranOpt = Annotated[str | None, typer.Option(help="hour, day, week or month (default: auto).")]


def _open(db: Path | None) -> Store:
    """The database, or a clear error when another process holds it."""
    try:
        return Store(db)
    except StoreBusy as exc:
        raise _fail(str(exc)) from None


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(code)


def _query(
    store: Store,
    workspace: str,
    period: str | None,
    date_from: str | None,
    date_to: str | None,
    tz: str | None,
    channels: str | None,
    granularity: str | None,
) -> Query:
    ws = store.workspace(workspace)
    if ws is None:
        raise _fail(f"no workspace {workspace!r} in {store.path}")
    if period is None and date_from is None and date_to is None:
        raise _fail("give --period or --from/--to", 2)
    try:
        return Query.build(
            workspace,
            timezone=tz or ws.timezone,
            period=period,
            date_from=date_from,
            date_to=date_to,
            granularity=granularity,
            channels=channels,
        )
    except QueryError as exc:
        option = {"tz": "--tz", "from": "--from", "to": "--to"}.get(exc.param, f"--{exc.param}")
        raise _fail(f"{option}: {exc.message}", 2) from None


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="File of events.")],
    workspace: Annotated[
        str | None, typer.Option("--workspace", "-w", help="Workspace (not for twcs).")
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="jsonl, csv, parquet, twcs or rasa (default: extension)."),
    ] = None,
    timezone: Annotated[
        str, typer.Option(help="Time zone of a workspace created by this import.")
    ] = DEFAULT_TIMEZONE,
    maps: Annotated[
        list[str] | None,
        typer.Option("--map", help="FIELD=COLUMN pairs (csv, parquet, jsonl), comma-separated."),
    ] = None,
    values: Annotated[
        list[str] | None,
        typer.Option("--value", help="FIELD.SOURCE=VALUE rewrites, e.g. sender.agent=teammate."),
    ] = None,
    constants: Annotated[
        list[str] | None, typer.Option("--set", help="FIELD=VALUE constants, e.g. channel=sms.")
    ] = None,
    rasa_handoff: Annotated[
        str, typer.Option(help="Rasa action that is a transfer request.")
    ] = "action_handoff",
    rasa_welcome: Annotated[
        bool, typer.Option(help="Rasa: the first bot message of a session is the welcome.")
    ] = False,
    rasa_channel: Annotated[
        str | None, typer.Option(help="Rasa: channel (default from latest_input_channel).")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Import a file of events; all of it, or nothing if any record is bad.

    jsonl/csv/parquet hold SPEC fields (or any columns, with --map/--value/--set); twcs is the
    Kaggle Customer Support on Twitter file (one workspace per brand); rasa is a Rasa tracker
    store export.
    """
    try:
        kind = fmt or guess_format(path)
    except ValueError as exc:
        raise _fail(str(exc), 2) from None
    if kind not in ("jsonl", "csv", "parquet", "twcs", "rasa"):
        raise _fail(f"--format: {kind!r} is not one of jsonl, csv, parquet, twcs, rasa", 2)
    try:
        transform = mapped.mapper(maps or (), values or (), constants or ())
    except ValueError as exc:
        raise _fail(str(exc), 2) from None
    if kind != "twcs" and workspace is None:
        raise _fail("--workspace is required for this format", 2)
    target = workspace or ""
    with _open(db) as store:
        started = time.perf_counter()
        try:
            with rich.progress.open(
                path, "rb", description=f"reading {path.name}", console=err, transient=True
            ) as stream:
                if kind == "twcs":
                    per_workspace = _read_twcs(stream)  # type: ignore[arg-type]
                elif kind == "rasa":
                    tracked = rasa.read(
                        stream,  # type: ignore[arg-type]
                        handoff_action=rasa_handoff,
                        welcome=rasa_welcome,
                        channel=rasa_channel,
                    )
                    per_workspace = {target: [validate_batch(tracked.events, target)]}
                else:
                    per_workspace = {
                        target: read_events(
                            stream,  # type: ignore[arg-type]
                            kind,  # type: ignore[arg-type]
                            target,
                            transform=transform,
                        )
                    }
                results = {}
                for name, batches in per_workspace.items():
                    store.ensure_workspace(name, timezone)
                    results[name] = conversations.ingest(store, name, batches)
        except (EventError, ConflictError, ValueError) as exc:
            raise _fail(f"{path}: {exc}") from None
    elapsed = time.perf_counter() - started
    for name, result in results.items():
        out.print(
            f"{path.name}: {result.accepted} accepted, {result.duplicates} duplicates "
            f"into workspace {name!r}",
            highlight=False,
        )
    out.print(f"({elapsed:.1f} s)", highlight=False)


def _read_twcs(stream: Any) -> dict[str, Iterable[list[Event]]]:
    """Validated events per brand; what was skipped is reported on stderr."""
    mapped = twcs.read(stream)
    for reason, count in mapped.skipped.most_common():
        examples = ", ".join(mapped.examples[reason])
        err.print(f"skipped {count} tweet(s): {reason} (e.g. tweet {examples})", highlight=False)
    return {
        brand: [validate_batch(records, brand)] for brand, records in sorted(mapped.events.items())
    }


@app.command()
def report(
    workspace: WorkspaceOpt,
    period: PeriodOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    tz: TzOpt = None,
    channels: ChannelsOpt = None,
    granularity: GranOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    db: DbOpt = None,
) -> None:
    """Print the Conversation Overview for a period."""
    if fmt not in ("table", "json"):
        raise _fail(f"--format: {fmt!r} is not one of table, json", 2)
    with _open(db) as store:
        query = _query(store, workspace, period, date_from, date_to, tz, channels, granularity)
        result = overview.run(store, query)
    if fmt == "json":
        sys.stdout.write(json.dumps(result.model_dump(), ensure_ascii=False, indent=2) + "\n")
    else:
        print_overview(result)


@export_app.command("departments")
def export_departments(
    workspace: WorkspaceOpt,
    period: PeriodOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    tz: TzOpt = None,
    channels: ChannelsOpt = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Export the department report (CSV) of SPEC section 4."""
    with _open(db) as store:
        query = _query(store, workspace, period, date_from, date_to, tz, channels, None)
        _, text, count = overview.department_report(store, query)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {output} ({count} departments)")


@app.command("demo")
def demo_(
    days: Annotated[int, typer.Option(min=1, max=3650, help="Days of history.")] = 60,
    per_day: Annotated[int, typer.Option(min=1, help="Average conversations a day.")] = 400,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 7,
    end: Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD (default today).")] = None,
    workspace: Annotated[str, typer.Option("--workspace", "-w")] = "demo",
    serve_: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the dashboard afterwards.")
    ] = True,
    host: Annotated[str, typer.Option(help="Address for the dashboard.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for the dashboard.")] = 8000,
    db: DbOpt = None,
) -> None:
    """Replace workspace `demo` with a generated retailer's history, print its last 7 days, and
    serve the dashboard with a demo admin (address and credentials are printed)."""
    with _open(db) as store:
        ws = store.ensure_workspace(workspace)
        with store.transaction() as con:
            for table in ("events", *conversations.DERIVED_TABLES):
                con.execute(f"DELETE FROM {table} WHERE workspace = ?", [workspace])
        started = time.perf_counter()
        records = demo.generate(
            days=days,
            per_day=per_day,
            seed=seed,
            timezone=ws.timezone,
            end=date.fromisoformat(end) if end else None,
        )
        result = conversations.ingest(store, workspace, _demo_batches(records, workspace))
        elapsed = time.perf_counter() - started
        out.print(
            f"demo: {result.accepted} events ({result.duplicates} re-sent duplicates) "
            f"into workspace {workspace!r} of {store.path} in {elapsed:.1f} s",
            highlight=False,
        )
        print_overview(
            overview.run(store, Query.build(workspace, timezone=ws.timezone, period="last_7_days"))
        )
        if not serve_:
            return
        email, password = f"admin@{workspace}.convoscope.local", secrets.token_urlsafe(12)
        try:
            accounts.create_user(store, email, workspace, "admin", password)
        except ValueError:  # kept from an earlier demo: give it the new password
            accounts.set_password(store, email, password)
        out.print(
            f"\n[bold]Dashboard:[/] http://{host}:{port}/\n"
            f"[bold]Sign in:[/] {email} / {password}\n(Ctrl+C to stop)",
            highlight=False,
        )
        _serve(store, host, port)


def _demo_batches(records: Any, workspace: str) -> Any:
    with rich.progress.Progress(
        *rich.progress.Progress.get_default_columns(),
        rich.progress.MofNCompleteColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("generating and importing", total=None)
        batch: list[dict[str, Any]] = []
        offset = 0
        for record in records:
            batch.append(record)
            if len(batch) == BATCH_SIZE:
                yield validate_batch(batch, workspace, offset)
                offset += len(batch)
                progress.update(task, completed=offset)
                batch = []
        yield validate_batch(batch, workspace, offset)


@workspace_app.command("create")
def workspace_create(
    name: Annotated[str, typer.Argument(help="Workspace name (one brand or store).")],
    timezone: Annotated[str, typer.Option(help="IANA time zone.")] = DEFAULT_TIMEZONE,
    db: DbOpt = None,
) -> None:
    """Create a workspace (no-op if it exists)."""
    with _open(db) as store:
        try:
            ws = store.ensure_workspace(name, timezone)
        except ValueError as exc:
            raise _fail(str(exc), 2) from None
    out.print(f"workspace {ws.name!r} ({ws.timezone})", highlight=False)


@workspace_app.command("whatsapp")
def workspace_whatsapp(
    name: Annotated[str, typer.Argument(help="Workspace name.")],
    verify_token: Annotated[
        str, typer.Option(help="The verify token entered in Meta's webhook settings.")
    ],
    db: DbOpt = None,
) -> None:
    """Set the WhatsApp Cloud API app secret (asked for, or read from stdin) and verify token."""
    if sys.stdin.isatty():
        secret = typer.prompt("Meta app secret", hide_input=True)
    else:
        secret = sys.stdin.readline().strip()
    if not secret:
        raise _fail("the app secret is empty", 2)
    with _open(db) as store:
        if store.workspace(name) is None:
            raise _fail(f"no workspace {name!r}", 2)
        store.set_whatsapp(name, secret, verify_token)
    out.print(f"WhatsApp webhook configured for workspace {name!r}", highlight=False)


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Argument(help="The user's email, used to log in.")],
    workspace: WorkspaceOpt,
    role: Annotated[str, typer.Option(help="admin or teammate.")] = "admin",
    db: DbOpt = None,
) -> None:
    """Create a user; the password is asked for, or read from standard input."""
    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    with _open(db) as store:
        try:
            accounts.create_user(store, email, workspace, role, password)
        except ValueError as exc:
            raise _fail(str(exc), 2) from None
    out.print(f"user {email} ({role}) in workspace {workspace!r}", highlight=False)


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
    with _open(db) as store:
        try:
            key = accounts.create_key(store, workspace, name, scope)
        except ValueError as exc:
            raise _fail(str(exc), 2) from None
    out.print(
        f"{scope} API key for workspace {workspace!r}; it is shown only now:", highlight=False
    )
    sys.stdout.write(key + "\n")


@key_app.command("list")
def key_list(workspace: WorkspaceOpt, db: DbOpt = None) -> None:
    """List a workspace's keys (ids and scopes; the keys themselves are never stored)."""
    with _open(db) as store:
        keys = accounts.list_keys(store, workspace)
    table = Table(title=f"API keys of {workspace}")
    for col in ("key id", "name", "scope", "created", "revoked"):
        table.add_column(col)
    for key_id, name, scope, created, revoked in keys:
        table.add_row(
            key_id,
            name or "",
            scope,
            f"{created:%Y-%m-%d %H:%M}",
            f"{revoked:%Y-%m-%d %H:%M}" if revoked else "",
        )
    out.print(table)


@key_app.command("revoke")
def key_revoke(
    key_id: Annotated[str, typer.Argument(help="The key id: the 12 hex digits after csk_.")],
    db: DbOpt = None,
) -> None:
    """Revoke a key at once; requests with it get 401."""
    with _open(db) as store:
        if not accounts.revoke_key(store, key_id):
            raise _fail(f"no active key {key_id!r}", 2)
    out.print(f"key {key_id} revoked", highlight=False)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    secure_cookies: Annotated[
        bool, typer.Option(help="Mark cookies Secure (when served over HTTPS).")
    ] = False,
    db: DbOpt = None,
) -> None:
    """Serve the HTTP API (and the dashboard) with uvicorn."""
    with _open(db) as store:
        _serve(store, host, port, secure_cookies)


def _serve(store: Store, host: str, port: int, secure_cookies: bool = False) -> None:
    import uvicorn

    from convoscope.web import create_app

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    uvicorn.run(
        create_app(store, secure_cookies=secure_cookies),
        host=host,
        port=port,
        access_log=False,  # ours logs paths without query strings (see api._access_log)
        timeout_graceful_shutdown=30,
        log_level="info",
    )


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min {secs} s"


def _change(now: float | None, before: float | None) -> str:
    if now is None or before is None or before == 0:
        return "-"
    return f"{(now - before) / before:+.1%}"


def print_overview(result: overview.OverviewResult) -> None:
    """The overview as terminal tables: tiles, the per-bucket charts, departments, support."""
    p = result.period
    channels = ", ".join(result.channels) if result.channels else "all channels"
    out.print(
        f"[bold]{result.workspace}[/]: {p['from']} to {p['to']} ({p['timezone']}), "
        f"{channels}, by {result.granularity}"
    )
    t, prev = result.tiles, result.tiles.previous
    tiles = Table(title="Conversation overview (previous period in brackets)")
    for col in ("tile", "value", "previous", "change"):
        tiles.add_column(col, justify="left" if col == "tile" else "right")
    d, pd = t.average_conversation_duration_seconds, prev.average_conversation_duration_seconds
    rows = [
        ("Average conversation duration", d.all, pd.all, True),
        ("  with teammates", d.teammate, pd.teammate, True),
        ("  with the chatbot", d.chatbot, pd.chatbot, True),
        ("Total conversations", t.total_conversations, prev.total_conversations, False),
        ("Engaged conversations", t.engaged_conversations, prev.engaged_conversations, False),
        ("Unique customers", t.unique_customers, prev.unique_customers, False),
    ]
    for name, now, before, is_duration in rows:
        fmt = _duration if is_duration else str
        tiles.add_row(name, fmt(now), fmt(before), _change(now, before))
    out.print(tiles)

    series = Table(title="Per bucket: conversations, messages, traffic")
    columns = {
        "engaged": result.engagement.engaged,
        "not eng.": result.engagement.non_engaged,
        "msg team": result.messages.teammate,
        "msg bot": result.messages.chatbot,
        "msg cust": result.messages.customer,
        "transfers": result.traffic.transfer_requests,
        "eng. live": result.traffic.engaged_conversations,
    }
    series.add_column("bucket")
    for name in columns:
        series.add_column(name, justify="right")
    for i, label in enumerate(result.buckets):
        series.add_row(label[:16].replace("T", " "), *(str(v[i]) for v in columns.values()))
    out.print(series)

    depts = Table(title="Closed conversations by department")
    for col in ("department", "closed", "teammates", "avg resolution"):
        depts.add_column(col, justify="left" if col == "department" else "right")
    for row in result.closed_by_department:
        depts.add_row(
            row.department or overview.NO_DEPARTMENT,
            str(row.conversations),
            str(row.teammates_involved),
            _duration(row.avg_resolution_seconds),
        )
    out.print(depts)
    s = result.support_type
    out.print(
        f"Handled by teammates / chatbot: all {s.all.teammate} / {s.all.chatbot}, "
        f"engaged {s.engaged.teammate} / {s.engaged.chatbot}; "
        f"orphan closes: {result.data_quality.orphan_closes}",
        highlight=False,
    )
