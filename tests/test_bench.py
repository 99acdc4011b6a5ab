"""The benchmark suite runs once at a tiny size, so that it keeps working (its figures are for
people, never assertions); its baselines must give our numbers, or it stops."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.server
def test_the_suite_runs_tiny_with_both_baselines_equal(tmp_path):
    out = tmp_path / "results.json"
    args = ["--events", "8k", "--runs", "1", "--batches", "2", "--ingest-batches", "2"]
    args += ["--mixed-seconds", "3"]
    done = subprocess.run(
        [sys.executable, "-m", "bench", *args, "--out", str(out), "--work", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(out.read_text())
    assert results["machine"]["cores"] and results["demo"]["events"] > 5000
    # each file imported into an empty database and into a copy of the demo's (the suite
    # stops unless every record was stored as a new event there)
    assert {"parquet", "parquet_into_demo", "jsonl", "jsonl_into_demo"} <= set(results["import"])
    assert "into the demo's copy |" in done.stdout
    assert set(results["overview"]) >= {"today", "last_7_days", "last_30_days", "one_year"}
    for period in ("today", "one_year"):
        assert {"convoscope", "postgres", "pandas"} <= set(results["overview"][period])
        assert results["http"][period]["warm"]["n"] == 1
        for page in ("team", "chatbot", "sales"):  # checked equal to PostgreSQL's before timed
            assert {"convoscope", "postgres"} <= set(results["overview"][page][period])
    assert set(results["http"]["pages"]) == {"overview", "team", "chatbot", "sales"}
    http = results["http"]
    assert all(http[f"ingest_{n}"]["errors"] == 0 for n in (1, 2, 4))
    assert http["ingest_4"]["events_per_s"] > 0 and http["mixed"]["overview_errors"] == 0
    assert http["mixed"]["ingest"]["errors"] == 0 and http["mixed"]["lag_s"]["max"] >= 0
    assert results["landing"]["large_derive"]["n"] == 2
    assert http["server_peak_rss_mb"] > 0
    assert results["report_ms"]["n"] == 9 and results["report_ms"]["first"] > 0
    assert "| one_year |" in done.stdout and "PG/ours" in done.stdout
    assert "| Chatbot Performance in process (ms) |" in done.stdout
    assert "| Sales Attribution in process (ms) |" in done.stdout
    assert "| page over HTTP, p50 ms (cold) | overview | team | chatbot | sales |" in done.stdout
