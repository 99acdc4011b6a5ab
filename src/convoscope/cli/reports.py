"""`convoscope report` and `convoscope export`: the overview and its CSV, from the same
`QueryParams` as the HTTP API."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from convoscope import exports, overview
from convoscope.cli.common import (
    ChannelsOpt,
    DbOpt,
    FromOpt,
    GranOpt,
    PeriodOpt,
    ToOpt,
    TzOpt,
    WorkspaceOpt,
    analytics_query,
    err,
    fail,
    open_store,
    say,
)
from convoscope.cli.render import print_overview

export_app = typer.Typer(help="Export reports as files.", no_args_is_help=True)


def report(
    workspace: WorkspaceOpt,
    period: PeriodOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    tz: TzOpt = None,
    channels: ChannelsOpt = None,
    granularity: GranOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    db: DbOpt = None,
) -> None:
    """Print the Conversation Overview for a period (default: the last 7 days)."""
    if fmt not in ("table", "json"):
        raise fail(f"--format: {fmt!r} is not one of table, json", 2)
    with open_store(db) as store:
        query = analytics_query(
            store, workspace, period, date_from, date_to, tz, channels, granularity
        )
        result = overview.run(store, query)
    if fmt == "json":
        sys.stdout.write(json.dumps(result.model_dump(), ensure_ascii=False, indent=2) + "\n")
    else:
        print_overview(result)


@export_app.command("departments")
def export_departments(
    workspace: WorkspaceOpt,
    period: PeriodOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    tz: TzOpt = None,
    channels: ChannelsOpt = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Export the department report (CSV) of SPEC section 4."""
    with open_store(db) as store:
        query = analytics_query(store, workspace, period, date_from, date_to, tz, channels, None)
        rows = overview.departments(store, query)
    text = exports.csv_text(exports.DEPARTMENT_COLUMNS, exports.department_rows(rows))
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8", newline="")
        say(f"wrote {output} ({len(rows)} departments)", err)
