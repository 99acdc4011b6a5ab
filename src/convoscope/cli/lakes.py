"""Lakes from the command line: `convoscope spark sessionize`, and the source a report reads
(the database, or a lake through DuckDB or Spark: `analytics_source`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from convoscope import config
from convoscope.cli.common import (
    DbOpt,
    EngineOpt,
    LakeOpt,
    MasterOpt,
    RemoteOpt,
    err,
    fail,
    open_store,
    say,
    workspace_or_fail,
)
from convoscope.engine import Engine, Tables
from convoscope.lake import Lake, LakeError, LakeTables
from convoscope.store import Workspace

spark_app = typer.Typer(help="Run convoscope on Apache Spark over a lake.", no_args_is_help=True)


def _setting(name: str, given: str | None, default: str | None = None) -> str | None:
    try:
        return config.setting(name, given, default)
    except config.ConfigError as exc:
        raise fail(str(exc), 2) from None


def _spark_session(master: str | None, remote: str | None):  # type: ignore[no-untyped-def]
    try:
        from convoscope import spark
    except ImportError:  # pragma: no cover - the test extras install PySpark
        raise fail("PySpark is not installed: pip install 'convoscope[spark]'") from None
    try:
        return spark.session(_setting("spark_master", master), _setting("spark_remote", remote))
    except spark.SparkSettingError as exc:
        raise fail(str(exc)) from None


def _lake(lake: Path | None) -> Lake:
    where = _setting("lake", str(lake) if lake else None)
    if where is None:
        raise fail("--lake: give the lake directory (or CONVOSCOPE_LAKE, or the config file)", 2)
    return Lake(Path(where))


@spark_app.command("sessionize")
def sessionize(
    lake: LakeOpt = None,
    master: MasterOpt = None,
    remote: RemoteOpt = None,
    full: Annotated[
        bool, typer.Option("--full", help="Recompute everything, not only new threads.")
    ] = False,
) -> None:
    """Derive conversations and every derived table of a lake from its events: only the
    threads with events in new files, unless --full."""
    from convoscope import spark

    where = _lake(lake)
    session = _spark_session(master, remote)
    try:
        done = spark.sessionize(session, where, full=full)
    except LakeError as exc:
        raise fail(str(exc), 2) from None
    say(json.dumps(done), err)


@dataclass
class Source:
    """What a report reads: an engine or tables, the workspace, and its channels with data."""

    tables: Tables | Engine
    workspace: Workspace
    channels: Callable[[], list[str]]


@contextmanager
def analytics_source(
    workspace: str,
    db: DbOpt,
    lake: LakeOpt,
    engine: EngineOpt,
    master: str | None,
    remote: str | None,
) -> Iterator[Source]:
    """The database (default), or a lake read by DuckDB, or by Spark (`--engine spark`)."""
    chosen = _setting("engine", engine, "duckdb")
    if chosen not in config.ENGINES:
        raise fail(f"--engine: {chosen!r} is not one of {', '.join(config.ENGINES)}", 2)
    lake_dir = _setting("lake", str(lake) if lake else None)
    if lake_dir is None:
        if chosen == "spark":
            raise fail("--engine spark reads a lake: give --lake (or CONVOSCOPE_LAKE)", 2)
        with open_store(db) as store:
            ws = workspace_or_fail(store, workspace)
            yield Source(store, ws, lambda: store.channels(workspace))
        return
    where = Lake(Path(lake_dir))
    try:
        found = where.workspace(workspace)
        if found is None:
            known = ", ".join(where.workspace_names()) or "none yet"
            raise fail(f"no workspace {workspace!r} in the lake {where.root} ({known})", 2)
        ws = found
        if chosen == "spark":
            from convoscope import spark

            spark_engine = spark.SparkEngine(_spark_session(master, remote), where, workspace)
            yield Source(spark_engine, ws, lambda: spark_engine.channels(workspace))
        else:
            tables = LakeTables(where, where.workspace)
            try:
                yield Source(tables, ws, lambda: tables.channels(workspace))
            finally:
                tables.close()
    except LakeError as exc:
        raise fail(str(exc), 2) from None
