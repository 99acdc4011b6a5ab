"""The benchmarks run once at a tiny size, so that they keep working (their figures are for
people, never assertions); the PostgreSQL baseline also checks its numbers equal ours."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from convoscope import demo, ingest
from convoscope.events import validate_batch
from convoscope.store import Store

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("bench") / "tiny.duckdb"
    with Store(db) as store:
        store.ensure_workspace("demo")
        records = list(demo.generate(days=40, per_day=60, seed=3, end=date(2026, 12, 2)))
        ingest.store_events(store, "demo", validate_batch(records, "demo"))
    return db


def bench(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_postgres_baseline_gives_our_numbers(tiny):
    out = bench("bench_postgres.py", str(tiny), "--runs", "1", "--year", "2025-12-03:2026-12-02")
    lines = out.splitlines()
    assert lines[0].startswith("machine:") and "PostgreSQL loaded" in lines[1]
    periods = [line.split()[0] for line in lines[3:]]
    assert periods == ["today", "last_7_days", "last_30_days", "last_month", "one"]


def test_batch_landing(tiny):
    out = bench("bench_write.py", str(tiny), "--batches", "2")
    assert "into an empty database: p50" in out and "ratio:" in out
