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

from convoscope import config, engines
from convoscope.cli.common import (
    DbOpt,
    EngineOpt,
    LakeOpt,
    MasterOpt,
    RemoteOpt,
    err,
    fail,
    known_workspaces,
    lake_at,
    open_store,
    say,
    workspace_or_fail,
)
from convoscope.engines import Engine, LakeOptions, Tables
from convoscope.engines.base import EngineError
from convoscope.lake import Lake, LakeError
from convoscope.store import Workspace

spark_app = typer.Typer(help="Run convoscope on Apache Spark over a lake.", no_args_is_help=True)


def _setting(name: str, given: str | None, default: str | None = None) -> str | None:
    try:
        return config.setting(name, given, default)
    except config.ConfigError as exc:
        raise fail(str(exc), 2) from None


def _options(master: str | None, remote: str | None) -> LakeOptions:
    return LakeOptions(_setting("spark_master", master), _setting("spark_remote", remote))


def _lake(lake: Path | None) -> Lake:
    where = _setting("lake", str(lake) if lake else None)
    if where is None:
        raise fail("--lake: give the lake directory (or CONVOSCOPE_LAKE, or the config file)", 2)
    return lake_at(where)


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
    where = _lake(lake)
    options = _options(master, remote)
    try:
        from convoscope.engines import spark

        done = spark.sessionize(spark.session(options.master, options.remote), where, full=full)
    except ImportError:  # pragma: no cover - the test extras install PySpark
        raise fail("PySpark is not installed: pip install 'convoscope[spark]'") from None
    except EngineError as exc:
        raise fail(str(exc)) from None
    except LakeError as exc:
        raise fail(str(exc), 2) from None
    except Exception as exc:  # Spark's own failures: a message, not a JVM stack
        if not type(exc).__module__.startswith(("pyspark", "py4j")):
            raise
        raise fail(f"Spark stopped the run, nothing was published: {_first_line(exc)}") from None
    say(json.dumps(done), err)


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:500]


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
    """The database (default), or a lake read by one of the lake engines (`--engine`:
    DuckDB by default, Spark, ClickHouse)."""
    chosen = _setting("engine", engine, "duckdb") or "duckdb"
    if chosen not in engines.LAKE_READERS:
        raise fail(f"--engine: {chosen!r} is not one of {', '.join(engines.LAKE_READERS)}", 2)
    lake_dir = _setting("lake", str(lake) if lake else None)
    if lake_dir is None:
        if chosen != "duckdb":
            raise fail(f"--engine {chosen} reads a lake: give --lake (or CONVOSCOPE_LAKE)", 2)
        with open_store(db) as store:
            ws = workspace_or_fail(store, workspace)
            yield Source(store, ws, lambda: store.channels(workspace))
        return
    where = lake_at(lake_dir)
    try:
        found = where.workspace(workspace)
        if found is None:
            known = known_workspaces(workspace, where.workspace_names())
            raise fail(f"no workspace {workspace!r} in the lake {where.root} ({known})", 2)
        try:
            opened = engines.lake_reader(chosen)(where, workspace, _options(master, remote))
        except ImportError as exc:
            raise fail(
                f"--engine {chosen} needs a package that is not installed ({exc.name}): "
                f"pip install 'convoscope[{chosen}]'"
            ) from None
        with opened as reader:
            yield Source(reader, found, lambda: reader.channels(workspace))
    except EngineError as exc:
        raise fail(str(exc)) from None
    except LakeError as exc:
        raise fail(str(exc), 2) from None
