"""`convoscope report` and `convoscope export`: both pages and their CSVs, from the same
`QueryParams` as the HTTP API."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from convoscope import exports, overview, team
from convoscope.cli.common import (
    ChannelsOpt,
    DbOpt,
    DepartmentsOpt,
    EngineOpt,
    FromOpt,
    GranOpt,
    LakeOpt,
    MasterOpt,
    PeriodOpt,
    RemoteOpt,
    TeammatesOpt,
    ToOpt,
    TzOpt,
    WorkspaceOpt,
    analytics_query,
    err,
    fail,
    open_store,
    query_for,
    say,
)
from convoscope.cli.lakes import analytics_source
from convoscope.cli.render import print_overview, print_team

export_app = typer.Typer(help="Export reports as files.", no_args_is_help=True)
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
]


class Page(StrEnum):
    overview = "overview"
    team = "team"


def report(
    workspace: WorkspaceOpt,
    page: Annotated[Page, typer.Option(help="overview or team (Team Performance).")] = (
        Page.overview
    ),
    period: PeriodOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    tz: TzOpt = None,
    channels: ChannelsOpt = None,
    departments: DepartmentsOpt = None,
    teammates: TeammatesOpt = None,
    granularity: GranOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    db: DbOpt = None,
    lake: LakeOpt = None,
    engine: EngineOpt = None,
    master: MasterOpt = None,
    remote: RemoteOpt = None,
) -> None:
    """Print the Conversation Overview, or Team Performance, for a period (default: the
    last 7 days), from the database or from a lake (DuckDB, or Spark with --engine spark)."""
    if fmt not in ("table", "json"):
        raise fail(f"--format: {fmt!r} is not one of table, json", 2)
    with analytics_source(workspace, db, lake, engine, master, remote) as source:
        query = query_for(
            source.workspace,
            source.channels,
            period=period,
            date_from=date_from,
            date_to=date_to,
            tz=tz,
            channels=channels,
            departments=departments,
            teammates=teammates,
            granularity=granularity,
        )
        tables = source.tables
        result = team.run(tables, query) if page is Page.team else overview.run(tables, query)
    if fmt == "json":
        sys.stdout.write(json.dumps(result.model_dump(), ensure_ascii=False, indent=2) + "\n")
    elif isinstance(result, team.TeamResult):
        print_team(result)
    else:
        print_overview(result)


def _write(
    output: Path | None, header: Sequence[str], rows: Iterable[Sequence[Any]], what: str
) -> None:
    values = list(rows)
    text = exports.csv_text(header, values)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8", newline="")
        say(f"wrote {output} ({len(values)} {what})", err)


@export_app.command("departments")
def export_departments(
    workspace: WorkspaceOpt,
    period: PeriodOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    tz: TzOpt = None,
    channels: ChannelsOpt = None,
    departments: DepartmentsOpt = None,
    teammates: TeammatesOpt = None,
    output: OutputOpt = None,
    db: DbOpt = None,
) -> None:
    """Export the department report (CSV) of SPEC section 4."""
    with open_store(db) as store:
        query = analytics_query(
            store,
            workspace,
            period=period,
            date_from=date_from,
            date_to=date_to,
            tz=tz,
            channels=channels,
            departments=departments,
            teammates=teammates,
        )
        rows = overview.departments(store, query)
    _write(output, exports.DEPARTMENT_COLUMNS, exports.department_rows(rows), "departments")


@export_app.command("teammates")
def export_teammates(
    workspace: WorkspaceOpt,
    period: PeriodOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    tz: TzOpt = None,
    channels: ChannelsOpt = None,
    departments: DepartmentsOpt = None,
    teammates: TeammatesOpt = None,
    output: OutputOpt = None,
    db: DbOpt = None,
) -> None:
    """Export the Team Performance teammates table (CSV) of SPEC section 5."""
    with open_store(db) as store:
        query = analytics_query(
            store,
            workspace,
            period=period,
            date_from=date_from,
            date_to=date_to,
            tz=tz,
            channels=channels,
            departments=departments,
            teammates=teammates,
        )
        rows = team.run(store, query).by_teammate
    _write(output, exports.TEAMMATE_COLUMNS, exports.teammate_rows(rows), "teammates")
