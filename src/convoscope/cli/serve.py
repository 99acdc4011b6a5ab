"""`convoscope serve` and `convoscope demo`: the dashboard and API under uvicorn.

The server refuses what would exhaust it: a request must arrive whole (headers and body)
within `CONVOSCOPE_REQUEST_TIMEOUT` seconds (default 30) of its first byte or of the
connection, idle keep-alive connections close after 5 s, at most `MAX_CONNECTIONS` are served
at once (503 beyond), and the process's open-file limit is raised to its hard limit so that
idle sockets do not starve the listener. asyncio's per-attempt "accept failed" messages are
logged once a minute at most.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import resource
import secrets
import socket
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import rich.progress
import typer
from uvicorn.protocols.http.h11_impl import H11Protocol

from convoscope import accounts, bulk, demo, ingest
from convoscope.cli.common import DbOpt, err, fail, lake_at, open_store, say
from convoscope.cli.render import print_blocks
from convoscope.lake import LakeError, LakeTables
from convoscope.pages import overview
from convoscope.query import QueryParams
from convoscope.store import Staging, Store

MAX_CONNECTIONS = 500
KEEP_ALIVE_SECONDS = 5
# A request line and headers are read up to this size (h11's default is 16 KiB): the longest
# query string the analytics parameters allow, every character percent-encoded, fits, so a
# valid request is always answered (a longer one gets uvicorn's 400). 500 connections at
# most: 128 MiB at worst, for 30 s (the request deadline).
MAX_REQUEST_HEAD = 256 * 1024

HostOpt = Annotated[str, typer.Option(help="Address to listen on.")]
PortOpt = Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")]


def _request_timeout() -> float:
    return float(os.environ.get("CONVOSCOPE_REQUEST_TIMEOUT", "30"))


class GuardedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for receiving each whole request."""

    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self.cycle is None or self.cycle.response_complete:
            self._arm()  # the first bytes of a new request
        super().data_received(data)
        if self.cycle is not None and not self.cycle.more_body:
            self._disarm()  # the request is in whole

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(_request_timeout(), self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()


class _OncePerMinute(logging.Filter):
    """Lets one record of each message through per minute."""

    def __init__(self) -> None:
        super().__init__()
        self._last: dict[str, float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key, now = str(record.msg)[:80], time.monotonic()
        if now - self._last.get(key, -60.0) < 60:
            return False
        self._last[key] = now
        return True


def _raise_open_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


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


def run_server(
    store: Store,
    host: str,
    port: int,
    secure_cookies: bool = False,
    lake: LakeTables | None = None,
) -> None:
    import uvicorn

    from convoscope.web import create_app

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    logging.getLogger("asyncio").addFilter(_OncePerMinute())
    _raise_open_file_limit()
    uvicorn.run(
        create_app(store, secure_cookies=secure_cookies, lake=lake),
        host=host,
        port=port,
        http=GuardedH11Protocol,
        access_log=False,  # ours logs route templates without query strings (api.boundary)
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        limit_concurrency=MAX_CONNECTIONS,
        h11_max_incomplete_event_size=MAX_REQUEST_HEAD,
        timeout_graceful_shutdown=30,
        log_level="info",
    )


def serve(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    secure_cookies: Annotated[
        bool, typer.Option(help="Mark cookies Secure (when served over HTTPS).")
    ] = False,
    db: DbOpt = None,
    lake: Annotated[
        Path | None,
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
            try:
                tables = LakeTables(lake_at(str(lake)), store.workspace)
            except LakeError as exc:
                raise fail(str(exc), 2) from None
        run_server(store, host, port, secure_cookies, tables)


DEMO_CHUNK = 100_000  # records checked set-based at a time


def _demo_stage(records: Iterator[dict[str, Any]], workspace: str) -> Callable[[Staging], None]:
    """Stage the generated records in chunks checked set-based (`bulk.stage_records`)."""

    def stage(staging: Staging) -> None:
        with rich.progress.Progress(
            *rich.progress.Progress.get_default_columns(),
            rich.progress.MofNCompleteColumn(),
            console=err,
            transient=True,
        ) as progress:
            task = progress.add_task("generating and checking", total=None)
            offset = 0
            while chunk := list(itertools.islice(records, DEMO_CHUNK)):
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
        stage = _demo_stage(records, workspace)
        result = ingest.store_staged(store, [workspace], stage)[workspace]
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
        run_server(store, host, port)
