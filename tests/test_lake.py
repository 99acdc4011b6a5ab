"""A lake read by DuckDB (and by ClickHouse's embedded engine), without Spark: the layout
`lake.LakeTables` reads, the engine options (option, environment variable, config file) and the
errors a user can meet.

The lake here is written by DuckDB from a DuckDB file (the same Hive layout Spark writes), so
that `report --lake` can be compared with `report --db` in the main suite; Spark's own writing
of it is `tests/test_spark.py`'s."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from helpers import export_lake
from typer.testing import CliRunner

from convoscope import config, demo, ingest
from convoscope.cli import app
from convoscope.events import validate_batch
from convoscope.lake import Lake, LakeError
from convoscope.store import Store

runner = CliRunner()
REPORT = ["report", "-w", "shop", "--from", "2026-11-15", "--to", "2026-11-20", "--format", "json"]


@pytest.fixture(scope="module")
def lake_and_file(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("lake")
    db = root / "shop.duckdb"
    events = list(demo.generate(days=6, per_day=30, seed=5, end=date(2026, 11, 20)))
    with Store(db) as store:
        store.ensure_workspace("shop", "America/Toronto")
        ingest.store_events(store, "shop", validate_batch(events, "shop"))
        export_lake(store, root / "lake")
    return root / "lake", db


@pytest.mark.parametrize("engine", ["duckdb", "clickhouse"])
def test_report_from_the_lake_equals_the_file(lake_and_file, engine):
    lake, db = lake_and_file
    for page in ("overview", "team", "chatbot"):
        from_file = runner.invoke(app, [*REPORT, "--page", page, "--db", str(db)])
        from_lake = runner.invoke(
            app, [*REPORT, "--page", page, "--lake", str(lake), "--engine", engine]
        )
        assert from_file.exit_code == from_lake.exit_code == 0, from_lake.stderr
        assert json.loads(from_lake.stdout) == json.loads(from_file.stdout)
        assert (
            json.loads(from_lake.stdout)["tiles"][
                {"overview": "total_conversations", "team": "closed_conversations"}.get(
                    page, "handled"
                )
            ]
            > 0
        )


def test_engine_options_come_from_the_option_the_environment_or_the_config_file(
    lake_and_file, tmp_path, monkeypatch
):
    lake, db = lake_and_file
    expected = runner.invoke(app, [*REPORT, "--db", str(db)]).stdout
    settings = tmp_path / "config.toml"
    settings.write_text(f'engine = "duckdb"\nlake = "{lake}"\n')
    monkeypatch.setenv(config.CONFIG_ENV, str(settings))
    config._file.cache_clear()
    assert runner.invoke(app, REPORT).stdout == expected  # the lake, from the file
    monkeypatch.setenv("CONVOSCOPE_LAKE", str(tmp_path / "nowhere"))
    result = runner.invoke(app, REPORT)  # the environment wins over the file
    assert result.exit_code == 2 and "nowhere" in result.stderr
    assert runner.invoke(app, [*REPORT, "--lake", str(lake)]).stdout == expected  # the option wins
    settings.write_text('engine = "presto"\n')
    config._file.cache_clear()
    monkeypatch.delenv("CONVOSCOPE_LAKE")
    result = runner.invoke(app, REPORT)
    assert result.exit_code == 2 and "engine must be one of duckdb, spark" in result.stderr
    settings.write_text('engin = "spark"\n')
    config._file.cache_clear()
    result = runner.invoke(app, REPORT)
    assert result.exit_code == 2 and "unknown keys engin" in result.stderr
    config._file.cache_clear()


def test_errors_name_what_is_wrong(lake_and_file, tmp_path):
    lake, _ = lake_and_file
    result = runner.invoke(app, [*REPORT[:2], "nope", *REPORT[3:], "--lake", str(lake)])
    assert result.exit_code == 2 and "no workspace 'nope' in the lake" in result.stderr
    assert "(workspaces: shop)" in result.stderr
    result = runner.invoke(app, [*REPORT, "--lake", str(tmp_path)])
    assert result.exit_code == 2 and "no workspace 'shop'" in result.stderr
    result = runner.invoke(app, [*REPORT, "--engine", "spark"])
    assert result.exit_code == 2 and "give --lake" in result.stderr
    result = runner.invoke(app, [*REPORT, "--lake", str(lake), "--channels", "fax"])
    assert result.exit_code == 2 and "--channels: no data on fax" in result.stderr
    bad = tmp_path / "bad"
    bad.mkdir()
    for settings, message in [
        ("[1]", "expected an object of workspaces"),
        ('{"s": {"inactivity_seconds": -1}}', "bad inactivity_seconds: -1"),
        ('{"s": {"timezone": "Mars/Olympus"}}', "unknown IANA time zone"),
        ('{"s": {"inactivity_seconds": 900, "escalated_inactivity_seconds": 600}}', "below"),
        ('{"s": {"business_hours": {"monday": [["18:00", "09:00"]]}}}', "business_hours"),
        ('{"s": {"colour": "red"}}', "expected keys among"),
    ]:
        (bad / "workspaces.json").write_text(settings)
        with pytest.raises(LakeError, match=message):
            Lake(bad).settings()


def test_a_state_of_an_earlier_schema_is_not_read(lake_and_file, tmp_path):
    """A lake derived before the chatbot's facts existed lacks them: rather than answer with
    missing columns, readers ask for a `spark sessionize`, which runs in full."""
    lake, _ = lake_and_file
    old = tmp_path / "old"
    shutil.copytree(lake, old)
    manifest = json.loads((old / "derived" / "_manifest.json").read_text())
    manifest["schema_version"] = 9
    (old / "derived" / "_manifest.json").write_text(json.dumps(manifest))
    assert Lake(old).manifest() is None and Lake(old).outdated()
    assert not Lake(lake).outdated()
    result = runner.invoke(app, [*REPORT, "--lake", str(old)])
    assert result.exit_code == 2
    assert "was derived by an earlier convoscope; run `convoscope spark sessionize" in result.stderr


def test_a_lake_workspace_is_the_store_s_settings_model(tmp_path, store):
    (tmp_path / "workspaces.json").write_text(
        '{"s": {"csat_window_seconds": 3600, "business_hours": {"monday": [["09:00", "17:00"]]}}}'
    )
    found = Lake(tmp_path).workspace("s")
    assert found is not None and isinstance(found, type(store.workspace("w")))
    assert (found.timezone, found.csat_window_seconds, found.inactivity_seconds) == (
        "UTC",
        3600,
        600,
    )
    assert found.business_hours is not None and found.business_hours["monday"] == [
        ["09:00", "17:00"]
    ]
    assert store.workspace("w").csat_window_seconds == 604800  # the database's default
