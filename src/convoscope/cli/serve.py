"""`convoscope serve` and `convoscope demo`: the dashboard and API (the server process itself,
uvicorn and its limits, is `cli.server`, imported only when a command serves). The lake, the
generator and the bulk path load in the command that uses them, so that every other command
starts without them (and without Arrow).
"""

import itertools
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Annotated, Any

import typer

from convoscope.cli.common import DbOpt, err, fail, open_store, say
from convoscope.cli.render import print_blocks
from convoscope.pages import overview
from convoscope.query import QueryParams
from convoscope.store import Staging

HostOpt = Annotated[str, typer.Option(help="Address to listen on.")]
PortOpt = Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")]


def port_free(host: str, port: int) -> bool:
    """Whether a server could listen on host:port (SO_REUSEADDR, as uvicorn binds, so that
    connections still closing from an earlier server do not count)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def serve(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    secure_cookies: Annotated[
        bool, typer.Option(help="Mark cookies Secure (when served over HTTPS).")
    ] = False,
    db: DbOpt = None,
    lake: Annotated[
        str | None,
        typer.Option(
            "--lake",
            envvar="CONVOSCOPE_LAKE",
            help="Serve a lake's derived tables, read-only (accounts stay in --db).",
        ),
    ] = None,
) -> None:
    """Serve the HTTP API and the dashboard with uvicorn: over the database, or read-only
    over what `convoscope spark sessionize` derived in a lake (--lake)."""
    if not port_free(host, port):
        raise fail(f"{host}:{port} is in use; stop what runs there or pick another --port", 2)
    with open_store(db) as store:
        tables = None
        if lake is not None:
            from convoscope.lake import Lake, LakeError, LakeTables

            try:
                tables = LakeTables(Lake.at(lake), store.workspace)
            except LakeError as exc:
                raise fail(str(exc), 2) from None
        from convoscope.cli.server import run_server

        run_server(store, host, port, secure_cookies, tables)


DEMO_CHUNK = 100_000  # records checked set-based at a time


def _demo_stage(records: Iterator[dict[str, Any]], workspace: str) -> Callable[[Staging], None]:
    """Stage the generated records in chunks checked set-based (`bulk.stage_records`), the
    next chunk generated in a thread while DuckDB checks this one: the generator is Python
    and holds the interpreter, DuckDB's statements release it, so the two overlap on two
    cores (one chunk ahead, generated in order by that one thread)."""

    import rich.progress

    from convoscope import bulk

    def stage(staging: Staging) -> None:
        with (
            rich.progress.Progress(
                *rich.progress.Progress.get_default_columns(),
                rich.progress.MofNCompleteColumn(),
                console=err,
                transient=True,
            ) as progress,
            ThreadPoolExecutor(1, thread_name_prefix="demo") as generator,
        ):
            task = progress.add_task("generating and checking", total=None)
            offset = 0
            ahead = generator.submit(list, itertools.islice(records, DEMO_CHUNK))
            while chunk := ahead.result():
                ahead = generator.submit(list, itertools.islice(records, DEMO_CHUNK))
                bulk.stage_records(staging, workspace, chunk, offset)
                offset += len(chunk)
                progress.update(task, completed=offset)

    return stage


def demo_(
    days: Annotated[int, typer.Option(min=1, max=3650, help="Days of history.")] = 60,
    per_day: Annotated[int, typer.Option(min=1, help="Average conversations a day.")] = 400,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 7,
    end: Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD (default today).")] = None,
    workspace: Annotated[str, typer.Option("--workspace", "-w")] = "demo",
    serve_: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the dashboard afterwards.")
    ] = True,
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    db: DbOpt = None,
) -> None:
    """Replace workspace `demo` with a generated retailer's history, print its last 7 days, and
    serve the dashboard on --host/--port with a demo admin (address and credentials are
    printed)."""
    from convoscope import accounts, demo, ingest

    if serve_ and not port_free(host, port):
        raise fail(f"{host}:{port} is in use; stop what runs there or pick another --port", 2)
    try:
        last = date.fromisoformat(end) if end else None
    except ValueError:
        raise fail(f"--end: {end!r} is not a date (YYYY-MM-DD)", 2) from None
    with open_store(db, create=True) as store:
        ws = store.ensure_workspace(workspace)
        store.update_workspace(workspace, business_hours=demo.BUSINESS_HOURS)
        store.clear_workspace(workspace)
        started = time.perf_counter()
        records = demo.generate(
            days=days, per_day=per_day, seed=seed, timezone=ws.timezone, end=last
        )
        with store.bulk_memory():
            stored = ingest.store_staged(store, [workspace], _demo_stage(records, workspace))
        result = stored[workspace]
        say(
            f"demo: {result.accepted} events ({result.duplicates} re-sent duplicates) "
            f"into workspace {workspace!r} of {store.path} in {time.perf_counter() - started:.1f} s"
        )
        last_7_days = overview.run(store, QueryParams().resolve(workspace, ws.timezone))
        print_blocks(overview.text(last_7_days))
        if not serve_:
            return
        email, password = f"admin@{workspace}.convoscope.local", secrets.token_urlsafe(12)
        try:
            accounts.create_user(store, email, workspace, "admin", password)
        except ValueError:  # kept from an earlier demo: give it the new password
            accounts.set_password(store, email, password)
        say(f"\nDashboard: http://{host}:{port}/\nSign in: {email} / {password}\n(Ctrl+C to stop)")
        from convoscope.cli.server import run_server

        run_server(store, host, port)
