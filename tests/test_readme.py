"""The README's commands, pasted in order as a newcomer would (issue 21): the tour's block
while the demo serves, then the blocks of "Your own data" once it has stopped. The demo is
smaller than the README's and listens on a free port; nothing else is changed."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from server import free_port

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[1]
BIN = str(Path(sys.executable).parent) + "/"


def blocks(section: str) -> list[str]:
    """The `sh` code blocks of a README section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", body, flags=re.S)


def paste(block: str, cwd: Path, env: dict[str, str], stdin: str = "") -> str:
    script = "set -euo pipefail\n" + block.replace(".venv/bin/", BIN)
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    return done.stdout


def test_the_readme_commands_work_in_order(tmp_path):
    assert blocks("The two commands")[0].count(".venv/bin/convoscope demo") == 1
    port = free_port()
    env = {**os.environ, "CONVOSCOPE_DB": str(tmp_path / "convoscope.duckdb")}
    demo = subprocess.Popen(
        [BIN + "convoscope", "demo", "--days", "7", "--per-day", "40", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert demo.stdout is not None
        for line in demo.stdout:  # the demo prints the address once it is about to serve
            if line.startswith("Dashboard:"):
                break
        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                continue
        (tour,) = blocks("A five-minute tour")
        out = paste(tour.replace("127.0.0.1:8000", f"127.0.0.1:{port}"), tmp_path, env)
        assert out.rstrip().endswith('{"accepted":1,"duplicates":0}')
        assert out.startswith("demo: ") and "amelie" in out
        assert (tmp_path / "teammates.csv").read_text().startswith("teammate_id,")
    finally:
        demo.send_signal(signal.SIGINT)  # Ctrl+C, as the README says
        demo.wait(timeout=60)
    data, access = blocks("Your own data")
    out = paste(data, tmp_path, env)
    assert "4 accepted" in out and "lea" in out
    paste(access, tmp_path, env, stdin="a long enough password\n")
