"""The server process under uvicorn: what `serve` and `demo` run once their store is open.

The server refuses what would exhaust it: a request must arrive whole (headers and body)
within `CONVOSCOPE_REQUEST_TIMEOUT` seconds (default 30) of its first byte or of the
connection, idle keep-alive connections close after 5 s, at most `MAX_CONNECTIONS` are served
at once (503 beyond), and the process's open-file limit is raised to its hard limit so that
idle sockets do not starve the listener. asyncio's per-attempt "accept failed" messages are
logged once a minute at most.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
import signal
import sys
import time

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from convoscope.cli.running import announced
from convoscope.lake import LakeTables
from convoscope.store import Store

MAX_CONNECTIONS = 500
KEEP_ALIVE_SECONDS = 5
# A request line and headers are read up to this size (h11's default is 16 KiB): the longest
# query string the analytics parameters allow, every character percent-encoded, fits, so a
# valid request is always answered (a longer one gets uvicorn's 400). 500 connections at
# most: 128 MiB at worst, for 30 s (the request deadline).
MAX_REQUEST_HEAD = 256 * 1024


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


def run_server(
    store: Store,
    host: str,
    port: int,
    secure_cookies: bool = False,
    lake: LakeTables | None = None,
) -> None:
    from convoscope.web import create_app

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    logging.getLogger("asyncio").addFilter(_OncePerMinute())
    _raise_open_file_limit()
    # uvicorn drains on SIGTERM, then raises it again: exit through Python instead of dying
    # by the signal, so that the `with` blocks below clean up (the CLI's server file)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    in_memory = str(store.path) == ":memory:"
    with contextlib.nullcontext(None) if in_memory else announced(store.path, host, port) as token:
        uvicorn.run(
            create_app(store, secure_cookies=secure_cookies, lake=lake, operator_token=token),
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
