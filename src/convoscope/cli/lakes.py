"""Lakes from the command line: `convoscope spark sessionize`, and the source a report reads
(a lake through DuckDB, Spark or ClickHouse: `lake_source`)."""

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from convoscope import config, engines
from convoscope.cli.common import (
    LakeOpt,
    MasterOpt,
    RemoteOpt,
    err,
    fail,
    say,
)
from convoscope.engines import Engine, LakeOptions, Tables
from convoscope.engines.base import EngineError
from convoscope.operations import known_workspaces
from convoscope.store import Workspace

if TYPE_CHECKING:  # the lake module (and Arrow) load when a command reads a lake
    from convoscope.lake import Lake

spark_app = typer.Typer(
    help="Run convoscope on Apache Spark over a lake.", no_args_is_help=True, rich_markup_mode=None
)


def _setting(name: str, given: str | None, default: str | None = None) -> str | None:
    try:
        return config.setting(name, given, default)
    except config.ConfigError as exc:
        raise fail(str(exc), 2) from None


def _options(master: str | None, remote: str | None) -> LakeOptions:
    return LakeOptions(_setting("spark_master", master), _setting("spark_remote", remote))


def _lake(lake: str | None) -> "Lake":
    from convoscope.lake import Lake

    where = _setting("lake", lake)
    if where is None:
        raise fail("--lake: give the lake directory (or CONVOSCOPE_LAKE, or the config file)", 2)
    return Lake.at(where)


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
    from convoscope.lake import LakeError

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
    except OSError as exc:  # the storage failed under the run (`engines.hadoop`)
        raise fail(f"the lake's storage failed, nothing was published: {exc}") from None
    except Exception as exc:  # Spark's own failures: a message, not a JVM stack
        if not type(exc).__module__.startswith(("pyspark", "py4j")):
            raise
        raise fail(f"Spark stopped the run, nothing was published: {_first_line(exc)}") from None
    say(json.dumps(done), err)


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:500]


@dataclass
class Source:
    """What a report reads from a lake: an engine or tables, the workspace, and its channels
    with data."""

    tables: Tables | Engine
    workspace: Workspace
    channels: Callable[[], list[str]]


def chosen_lake(lake: str | None, engine: str | None) -> str | None:
    """The lake a report reads (`--lake`, the environment or the config file), or None for
    the database; the engine must be a lake reader, and one other than DuckDB needs a lake."""
    chosen = _setting("engine", engine, "duckdb") or "duckdb"
    if chosen not in engines.LAKE_READERS:
        raise fail(f"--engine: {chosen!r} is not one of {', '.join(engines.LAKE_READERS)}", 2)
    where = _setting("lake", lake)
    if where is None and chosen != "duckdb":
        raise fail(f"--engine {chosen} reads a lake: give --lake (or CONVOSCOPE_LAKE)", 2)
    return where


@contextmanager
def lake_source(
    workspace: str, lake_dir: str, engine: str | None, master: str | None, remote: str | None
) -> Iterator[Source]:
    """A lake's workspace read by one of the lake engines (`--engine`: DuckDB by default,
    Spark, ClickHouse)."""
    from convoscope.lake import Lake, LakeError

    chosen = _setting("engine", engine, "duckdb") or "duckdb"
    where = Lake.at(lake_dir)
    options = _options(master, remote)
    try:
        if chosen == "spark":  # its files through Hadoop, as the executors see them
            from convoscope.engines import hadoop, spark

            where = hadoop.on_hadoop(spark.session(options.master, options.remote), where)
        found = where.workspace(workspace)
        if found is None:
            known = known_workspaces(workspace, where.workspace_names())
            raise fail(f"no workspace {workspace!r} in the lake {where.root} ({known})", 2)
        try:
            opened = engines.lake_reader(chosen)(where, workspace, options)
        except ImportError as exc:
            raise fail(
                f"--engine {chosen} needs a package that is not installed ({exc.name}): "
                f"pip install 'convoscope[{chosen}]'"
            ) from None
        with opened as reader:
            yield Source(reader, found, lambda: reader.channels(workspace))
    except (EngineError, OSError) as exc:
        raise fail(str(exc)) from None
    except LakeError as exc:
        raise fail(str(exc), 2) from None
