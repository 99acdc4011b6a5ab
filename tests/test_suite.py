"""The suite's own tiers (tests/conftest.py): the development tier collects neither the
browser nor the Spark folder, so it needs neither Playwright nor a JVM; a marker selects its
folder alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent

PROBE = """
import sys, pytest
code = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", *sys.argv[1:]])
print("IMPORTED", "playwright" in sys.modules, "pyspark" in sys.modules)
sys.exit(code)
"""


def collect(*args: str) -> tuple[list[str], str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=HERE.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    items = [line for line in done.stdout.splitlines() if "::" in line]
    (imported,) = [line for line in done.stdout.splitlines() if line.startswith("IMPORTED")]
    return items, imported


def test_the_development_tier_collects_no_browser_and_no_spark_test():
    items, imported = collect("-m", "not browser and not spark and not slow")
    assert items and not any(i.startswith(("tests/browser/", "tests/spark/")) for i in items)
    assert imported == "IMPORTED False False"


def test_the_browser_and_spark_markers_select_their_folders():
    items, _ = collect("-m", "browser or spark")
    folders = {i.split("/")[1] for i in items}
    assert folders == {"browser", "spark"}
