"""Start a real `convoscope serve` process on a free loopback port, for the API and browser
tests, and stop it (SIGTERM, or SIGKILL for the durability test)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(
        self, db: Path, log: Path, env: dict[str, str] | None = None, args: tuple[str, ...] = ()
    ):
        self.db, self.log, self.port = db, log, free_port()
        self.env = env or {}
        self.args = args  # more options of `convoscope serve`
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> Server:
        log = self.log.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "convoscope",
                "serve",
                "--port",
                str(self.port),
                "--db",
                str(self.db),
                *self.args,
            ],
            stdout=log,
            stderr=log,
            env={**os.environ, "CONVOSCOPE_MEMORY_LIMIT": "512MB", **self.env},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def wait_for_log(self, text: str, timeout: float = 10) -> str:
        """The log once it holds `text`: the access line is written after the response is
        sent, so a test that reads the log right after a request must wait for it."""
        deadline = time.monotonic() + timeout
        while True:
            log = self.log.read_text()
            if text in log or time.monotonic() > deadline:
                return log
            time.sleep(0.05)

    def peak_rss_mb(self) -> float:
        """The server process's peak resident memory so far (VmHWM), in MB."""
        assert self.proc is not None
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        (line,) = [ln for ln in status.splitlines() if ln.startswith("VmHWM:")]
        return int(line.split()[1]) / 1024

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=60)
        self.proc = None
        return code


def convoscope(*args: str, db: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it, as a process, on the database `db`."""
    return subprocess.run(
        [sys.executable, "-m", "convoscope", *args, "--db", str(db)],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "120"},
        timeout=120,
    )
