"""Import benchmark: time and peak memory of `convoscope import` for growing JSONL files.

Run by hand: `.venv/bin/python bench/bench_import.py [--sizes 200000,1000000,2000000]
[--memory-limit 256MB]`. Each import runs in its own process so its peak RSS is its own. The
point to read: with a fixed `CONVOSCOPE_MEMORY_LIMIT`, peak memory stays flat as files grow.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from common import machine

from convoscope import demo


def write_events(path: Path, events: int) -> int:
    """About `events` demo events (2,100 conversations a day give ~11,300 events a day)."""
    days = max(1, round(events / 11_300))
    n = 0
    with path.open("w", encoding="utf-8") as f:
        for record in demo.generate(days=days, per_day=2100, seed=1, end=date(2026, 11, 1)):
            f.write(json.dumps(record) + "\n")
            n += 1
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="200000,1000000,2000000")
    parser.add_argument("--memory-limit", default="256MB")
    args = parser.parse_args()
    print(f"{machine()}; CONVOSCOPE_MEMORY_LIMIT={args.memory_limit}")
    env = {**os.environ, "CONVOSCOPE_MEMORY_LIMIT": args.memory_limit}
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "events.jsonl"
            n = write_events(path, size)
            cmd = [
                sys.executable,
                "-m",
                "convoscope",
                "import",
                str(path),
                "-w",
                "bench",
                "--db",
                str(Path(tmp) / "bench.duckdb"),
            ]
            started = time.perf_counter()
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            subprocess.run(cmd, check=True, env=env, capture_output=True)
            elapsed = time.perf_counter() - started
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            note = "" if peak > before else " (peak not above an earlier run's)"
            print(
                f"{n:>10,} events ({path.stat().st_size / 1e6:,.0f} MB): {elapsed:5.1f} s, "
                f"{n / elapsed:,.0f} events/s, peak RSS {peak / 1024:,.0f} MB{note}"
            )


if __name__ == "__main__":
    main()
