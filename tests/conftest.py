"""Fixtures every test shares, the Hypothesis profiles, and the tiers of the suite.

Tiers are markers: `server` (starts a real server process on a loopback port), `browser`
(everything under `tests/browser/`: Debian's Chromium through Playwright), `spark` (everything
under `tests/spark/`: a JVM), `slow` (over about ten seconds each: durability under SIGKILL,
API fuzzing, the benchmark suite's tiny run, the wheel). The development tier is
`pytest -m "not browser and not spark and not slow" -n 2`; a `-m` expression that rules out a
folder's marker does not even collect that folder, so that tier needs neither Playwright nor a
JVM. CI runs everything.

Hypothesis profiles: `CONVOSCOPE_HYPOTHESIS=dev` (few examples, for quick runs), `ci` (the
counts CI has always run), `nightly` (ten times that, for a deep run); the default is `ci`
under CI (the `CI` variable set) and `dev` elsewhere. Properties ask for a share of the
profile's count (`helpers.examples`), never for a fixed number.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _pytest.mark.expression import Expression
from hypothesis import HealthCheck, is_hypothesis_test, settings

from convoscope.store import Store

HERE = Path(__file__).resolve().parent
# A folder of tests and the markers every test in it carries.
FOLDERS = {HERE / "browser": ("browser", "server"), HERE / "spark": ("spark",)}

_QUIET = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
settings.register_profile("dev", max_examples=8, deadline=None, suppress_health_check=_QUIET)
settings.register_profile("ci", max_examples=30, deadline=None, suppress_health_check=_QUIET)
settings.register_profile("nightly", max_examples=300, deadline=None, suppress_health_check=_QUIET)
settings.load_profile(
    os.environ.get("CONVOSCOPE_HYPOTHESIS") or ("ci" if os.environ.get("CI") else "dev")
)


def pytest_report_header() -> str:
    return f"hypothesis profile: {settings.get_current_profile_name()}"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Skip a marked folder when the `-m` expression rules out its markers (no import of
    Playwright or PySpark for a run that does not want them)."""
    marks = FOLDERS.get(collection_path.resolve())
    expression = config.option.markexpr
    if marks is None or not expression:
        return None
    return not Expression.compile(expression).evaluate(lambda name, **_: name in marks)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by these markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each folder's tests, then put the longest modules first (`_longest_first`)."""
    for item in items:
        for folder, marks in FOLDERS.items():
            if folder in item.path.resolve().parents:
                for mark in marks:
                    item.add_marker(mark)
    _longest_first(items)


def _longest_first(items: list[pytest.Item]) -> None:
    """The longest modules first, so that two workers given whole modules (`--dist loadfile
    --no-loadscope-reorder`, `.ci/run`) finish together rather than one waiting out a long
    module picked up last: the Spark and slow tiers, then the modules with the most
    properties (Hypothesis runs each many times), then by number of tests."""
    modules: dict[Path, list[pytest.Item]] = {}
    for item in items:
        modules.setdefault(item.path, []).append(item)

    def weight(tests: list[pytest.Item]) -> tuple[int, int, int]:
        tier = any(t.get_closest_marker("spark") or t.get_closest_marker("slow") for t in tests)
        properties = sum(is_hypothesis_test(getattr(t, "obj", None)) for t in tests)
        return (-tier, -properties, -len(tests))

    ordered = sorted(modules.values(), key=weight)
    items[:] = [item for tests in ordered for item in tests]


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "test.duckdb") as s:
        s.ensure_workspace("w", "America/Toronto")
        yield s
