"""What every command shares: the options, opening the database, errors, plain-text output.

User data (workspace, department and channel names, event ids, error messages quoting them)
is printed as plain text: Rich's markup is never applied to it, so `[/]` or `[link=...]` in a
department name prints as typed instead of crashing or hiding a link.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.console import Console
from rich.text import Text

from convoscope import conversations, operations
from convoscope.query import Query, QueryError
from convoscope.store import (
    MEMORY_LIMIT,
    Store,
    StoreBusy,
    Workspace,
    default_db_path,
    memory_limit,
)

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)

DbOpt = Annotated[
    Path | None,
    typer.Option("--db", envvar="CONVOSCOPE_DB", help="Database file (default: user data dir)."),
]
WorkspaceOpt = Annotated[str, typer.Option("--workspace", "-w", help="Workspace name.")]
PeriodOpt = Annotated[
    str | None,
    typer.Option(
        help="today, yesterday, last_7_days, last_30_days, this_month, last_month "
        "(default: last_7_days, unless --from/--to)."
    ),
]
FromOpt = Annotated[str | None, typer.Option("--from", metavar="YYYY-MM-DD", help="First day.")]
ToOpt = Annotated[
    str | None, typer.Option("--to", metavar="YYYY-MM-DD", help="Last day (included).")
]
TzOpt = Annotated[str | None, typer.Option("--tz", help="IANA zone (default: the workspace's).")]
ChannelsOpt = Annotated[str | None, typer.Option(help="Comma-separated channels (default all).")]
DepartmentsOpt = Annotated[
    str | None,
    typer.Option(help="Comma-separated departments, (none) for none (default all; \\, = a comma)."),
]
TeammatesOpt = Annotated[
    str | None, typer.Option(help="Comma-separated teammate ids (default all; \\, = a comma).")
]
FlowTypesOpt = Annotated[
    str | None,
    typer.Option(
        help="Chatbot Performance: comma-separated flow types (campaign, transfer, sales, "
        "support, other), (none) for no flow (default all)."
    ),
]
FlowsOpt = Annotated[
    str | None,
    typer.Option(
        help="Chatbot Performance: comma-separated flows, (none) for no flow (default all; "
        "\\, = a comma)."
    ),
]
CurrencyOpt = Annotated[
    str | None,
    typer.Option(
        help="Sales Attribution: the currency shown, ISO 4217 (default: the one with the "
        "most attributed orders)."
    ),
]
GranOpt = Annotated[str | None, typer.Option(help="hour, day, week or month (default: auto).")]
EngineOpt = Annotated[
    str | None,
    typer.Option(
        "--engine",
        envvar="CONVOSCOPE_ENGINE",
        help="duckdb, spark or clickhouse (the last two read a --lake; default duckdb, or the "
        "config file's).",
    ),
]
LakeOpt = Annotated[
    str | None,
    typer.Option(
        "--lake",
        envvar="CONVOSCOPE_LAKE",
        help="Lake directory, or a URL Hadoop reads (hdfs://, s3a://) for Spark's commands: "
        "events/ and what Spark derives; instead of the database.",
    ),
]
MasterOpt = Annotated[
    str | None,
    typer.Option(
        "--master",
        envvar="CONVOSCOPE_SPARK_MASTER",
        help="Spark master, e.g. local[*] (default) or spark://host:7077.",
    ),
]
RemoteOpt = Annotated[
    str | None,
    typer.Option(
        "--remote", envvar="CONVOSCOPE_SPARK_REMOTE", help="Spark Connect, e.g. sc://host:15002."
    ),
]
OPTION_NAMES = {"tz": "--tz", "from": "--from", "to": "--to", "date_from": "--from"}
OPTION_PARAMS = {"date_from": "from", "date_to": "to"}  # CLI option name -> query parameter


def option_error(exc: QueryError) -> typer.Exit:
    """A bad query parameter, named as the CLI option that gave it (exit 2)."""
    option = OPTION_NAMES.get(exc.param, "--" + exc.param.replace("_", "-"))
    return fail(f"{option}: {exc.message}", 2)


def say(message: str, console: Console = out) -> None:
    """Print one line that may hold user data, as plain text."""
    console.print(Text(message), soft_wrap=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print `error: message` on stderr (plain text) and return the exit to raise."""
    err.print(Text.assemble(("error: ", "bold red"), message), soft_wrap=True)
    return typer.Exit(code)


def open_store(db: Path | None, *, create: bool = False) -> Store:
    """The database; a missing file is created only by commands that create (`create`)."""
    try:
        return open_local(db, create=create)
    except StoreBusy as exc:
        raise fail(str(exc)) from None


def open_local(db: Path | None, *, create: bool = False) -> Store:
    """`open_store`, raising `StoreBusy` when another process holds the file (`cli.running`
    then asks the server that holds it)."""
    path = db if db is not None else default_db_path()
    if not create and str(path) != ":memory:" and not path.exists():
        raise fail(
            f"no database at {path}; create one with `convoscope workspace create`, "
            "`convoscope import` or `convoscope demo`",
            2,
        )
    try:
        store = Store(path)
    except StoreBusy:
        raise
    except Exception as exc:  # a corrupted or unreadable file: say so, no traceback
        raise fail(f"cannot open {path} as a convoscope database: {exc}") from None
    if store.derived_outdated:  # an upgrade added conversation facts: derive them for old data
        err.print("Upgrading the database: recomputing conversations...")
        rebuild(store)
    conversations.settle(store)  # what a crash left pending, before anything reads
    return store


def rebuild(store: Store) -> None:
    """Recompute every conversation and rollup from the events, or fail with a message (the
    database is left as it was: the rebuild is one transaction)."""
    try:
        with store.bulk_memory():
            conversations.rebuild(store)
    except duckdb.OutOfMemoryException:
        store.close()
        if MEMORY_LIMIT not in os.environ:  # DuckDB's own limit (`Store.bulk_memory`)
            raise fail(
                "not enough memory to recompute the conversations (DuckDB may use 80 % of "
                "the memory it sees); nothing was lost: free memory and run the command again"
            ) from None
        raise fail(
            "not enough memory to recompute the conversations within "
            f"{MEMORY_LIMIT} ({memory_limit()}); "
            "nothing was lost: run the command again with a higher limit, "
            f"e.g. {MEMORY_LIMIT}=4GB"
        ) from None
    store.checkpoint()


def query_for(ws: Workspace, known: Callable[[], list[str]], **options: str | None) -> Query:
    """The same `QueryParams` as the HTTP API, from the CLI's options (period, date_from,
    date_to, tz, channels, departments, teammates, ...), with errors naming the CLI option;
    `known` lists the channels with data (`operations.query_of`)."""
    try:
        return operations.query_of(
            ws, known, {OPTION_PARAMS.get(k, k): v for k, v in options.items()}
        )
    except QueryError as exc:
        raise option_error(exc) from None
