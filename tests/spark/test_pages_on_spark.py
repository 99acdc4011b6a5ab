"""Team Performance, Chatbot Performance and Sales Attribution on Apache Spark, for real
(local mode): every hand-worked scenario of `tests/test_team.py`, `tests/test_chatbot.py` and
`tests/test_sales.py` runs on DuckDB with
its own assertions, and each question asked there is asked of Spark over the same derived
tables and settings written as a lake (`helpers.replay`). A module of its own so that it runs
beside the cut's tests (`test_spark.py`) on another worker.
"""

from __future__ import annotations

import test_chatbot as chatbot_cases
import test_sales as sales_cases
import test_team as team_cases
from helpers import replay, scenario_names

from convoscope.engines import spark as engine
from convoscope.lake import Lake
from convoscope.pages import chatbot, sales, team


def test_team_hand_worked_scenarios_report_alike_on_spark(spark, tmp_path, monkeypatch):
    """Every hand-worked scenario of `tests/test_team.py`, its own assertions included; each
    time one asks DuckDB for Team Performance, the file's derived tables and settings are
    written as a lake, and Spark's report from that lake must be the same."""
    asked = replay(team_cases, team, tmp_path, monkeypatch)
    assert len(asked) >= len(scenario_names(team_cases)) - 2  # three scenarios share one question
    for root, query, expected in asked:
        assert team.run(engine.SparkEngine(spark, Lake(root), "w"), query) == expected, root


def test_chatbot_hand_worked_scenarios_report_alike_on_spark(spark, tmp_path, monkeypatch):
    """Every hand-worked scenario of `tests/test_chatbot.py`, its own assertions included;
    the questions asked of DuckDB are asked of Spark over the same derived tables and settings
    (the flow catalogue among them), and must get the same page."""
    asked = replay(chatbot_cases, chatbot, tmp_path, monkeypatch)
    assert len(asked) >= 20
    # Spark costs seconds a question: every other one (each scenario's first among them),
    # in every scenario; DuckDB over the same lakes answers all of them (test_clickhouse
    # and test_lake ask the other engines)
    for root, query, expected in asked[::2]:
        assert chatbot.run(engine.SparkEngine(spark, Lake(root), "w"), query) == expected, root


def test_sales_hand_worked_scenarios_report_alike_on_spark(spark, tmp_path, monkeypatch):
    """Every hand-worked scenario of `tests/test_sales.py` that asks for the page: the same
    attributions, to the cent, from Spark over the same commerce, messages and settings."""
    asked = replay(sales_cases, sales, tmp_path, monkeypatch)
    assert len(asked) >= 5
    for root, query, expected in asked:
        assert sales.run(engine.SparkEngine(spark, Lake(root), "w"), query) == expected, root
