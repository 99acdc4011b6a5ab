"""What the benchmarks share: the machine they ran on, percentiles, and a server on loopback."""

from __future__ import annotations

import argparse
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib.metadata import version
from pathlib import Path

import duckdb
import httpx


def machine() -> dict[str, object]:
    """Cores, memory, CPU and versions, for the printed header and the JSON."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    meminfo = Path("/proc/meminfo").read_text().split()
    memory_gib = int(meminfo[meminfo.index("MemTotal:") + 1]) / 1024 / 1024
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_gib, 1),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "convoscope": version("convoscope"),
    }


def machine_line(info: dict[str, object]) -> str:
    return (
        f"machine: {info['platform']}, {info['cpu']}, {info['cores']} cores, "
        f"{info['memory_gib']} GiB, Python {info['python']}, DuckDB {info['duckdb']}"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spread(times_ms: list[float]) -> dict[str, float]:
    """p50/p95/p99 of a list of milliseconds (the highest value stands in for short lists)."""
    ordered = sorted(times_ms)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {
        "p50": round(statistics.median(ordered), 1),
        "p95": round(at(0.95), 1),
        "p99": round(at(0.99), 1),
        "n": len(ordered),
    }


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    """Milliseconds of each of `runs` calls."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


@dataclass(frozen=True)
class Server:
    url: str
    pid: int

    def peak_rss_mb(self) -> float:
        """The process's peak resident memory so far (VmHWM)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmHWM")


@contextmanager
def serving(db: Path) -> Iterator[Server]:
    """`convoscope serve` on a free loopback port for the block."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "convoscope", "serve", "--port", str(port), "--db", str(db)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                break
            except httpx.TransportError:
                if server.poll() is not None:
                    raise RuntimeError("the server exited") from None
                time.sleep(0.1)
        yield Server(url, server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)


def step_parser(doc: str, *, periods: bool = True) -> argparse.ArgumentParser:
    """The arguments of a step of the suite run alone against an existing demo database:
    `--db`, and with `periods` the warm runs per period and the demo's last day."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True)
    if periods:
        parser.add_argument("--runs", type=int, default=10)
        parser.add_argument("--end", type=date.fromisoformat, default=datetime.now(UTC).date())
    return parser


def demo_key(db: Path) -> str:
    """A new API key of the demo workspace of `db`, once the machine and the database's size
    are printed (the header of a step run alone)."""
    from convoscope import accounts
    from convoscope.store import Store

    print(machine_line(machine()))
    with Store(db) as store:
        (events,) = store.con.execute("SELECT count(*) FROM events").fetchone() or (0,)
        key = accounts.create_key(store, "demo", "bench")
    print(f"database: {events:,} events")
    return key
