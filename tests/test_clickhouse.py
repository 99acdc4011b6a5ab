"""A third engine through the seam: ClickHouse's embedded engine (chDB) reads a lake and answers
every page exactly as DuckDB does.

Every hand-worked scenario of `tests/test_overview.py`, `tests/test_team.py` and
`tests/test_chatbot.py` runs with its
own assertions; each time one asks DuckDB for a page, the store's derived tables and settings
are written as a lake (`helpers.export_lake`) and `ClickHouseEngine` must give the same
result from it (the overview from the rollups and from the rows).
"""

from __future__ import annotations

import test_chatbot as chatbot_cases
import test_overview as overview_cases
import test_team as team_cases
from helpers import replay

from convoscope import engines
from convoscope.engines.clickhouse import ClickHouseEngine
from convoscope.lake import Lake
from convoscope.pages import chatbot, overview, runner, team


def test_overview_scenarios_report_alike_on_clickhouse(tmp_path, monkeypatch):
    asked = replay(overview_cases, overview, tmp_path, monkeypatch)
    assert len(asked) >= 10
    with_rollups = 0
    for root, query, expected in asked:
        with engines.lake_reader("clickhouse")(Lake(root), "w", engines.LakeOptions()) as ch:
            with_rollups += ch.rollups  # a lake of no conversation has no rollup file
            assert runner.run(overview.PAGE, ch, query) == expected, root
            assert runner.run(overview.PAGE, ch, query, rollups=False) == expected, root
    assert with_rollups >= len(asked) - 2


def test_team_scenarios_report_alike_on_clickhouse(tmp_path, monkeypatch):
    asked = replay(team_cases, team, tmp_path, monkeypatch)
    assert len(asked) >= 10
    for root, query, expected in asked:
        engine = ClickHouseEngine(Lake(root), "w")
        try:
            assert runner.run(team.PAGE, engine, query) == expected, root
        finally:
            engine.close()


def test_chatbot_scenarios_report_alike_on_clickhouse(tmp_path, monkeypatch):
    asked = replay(chatbot_cases, chatbot, tmp_path, monkeypatch)
    assert len(asked) >= 10
    for root, query, expected in asked:
        engine = ClickHouseEngine(Lake(root), "w")
        try:
            assert chatbot.run(engine, query) == expected, root
        finally:
            engine.close()
