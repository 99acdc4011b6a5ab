"""`convoscope report` and `convoscope export`: every registered page and its CSVs, from the
same `QueryParams` as the HTTP API.

The query and source options are declared once (`query_command`): a command written against
`Options` gets them all, so `report` and every export take the same options with the same
help and the same errors.
"""

import functools
import inspect
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated, Any

import typer

from convoscope import operations, pages
from convoscope.cli.common import (
    OPTION_PARAMS,
    ChannelsOpt,
    CurrencyOpt,
    DbOpt,
    DepartmentsOpt,
    EngineOpt,
    FlowsOpt,
    FlowTypesOpt,
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
    err,
    fail,
    option_error,
    query_for,
    say,
)
from convoscope.cli.lakes import chosen_lake, lake_source
from convoscope.cli.render import print_blocks
from convoscope.cli.running import operate
from convoscope.pages.common import Export
from convoscope.query import QueryError

export_app = typer.Typer(
    help="Export reports as files.", no_args_is_help=True, rich_markup_mode=None
)
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
]


# the options that make the query (`QueryParams`), by their field names
QUERY_OPTIONS = (
    "period",
    "date_from",
    "date_to",
    "tz",
    "channels",
    "departments",
    "teammates",
    "flow_types",
    "flows",
    "currency",
    "granularity",
)


@dataclass(frozen=True)
class Options:
    """The options every report and export shares: the workspace, the query, the source."""

    workspace: WorkspaceOpt
    period: PeriodOpt = None
    date_from: FromOpt = None
    date_to: ToOpt = None
    tz: TzOpt = None
    channels: ChannelsOpt = None
    departments: DepartmentsOpt = None
    teammates: TeammatesOpt = None
    flow_types: FlowTypesOpt = None
    flows: FlowsOpt = None
    currency: CurrencyOpt = None
    granularity: GranOpt = None
    db: DbOpt = None
    lake: LakeOpt = None
    engine: EngineOpt = None
    master: MasterOpt = None
    remote: RemoteOpt = None

    def read(self, what: str, name: str) -> Any:
        """`operations.READS[what]` (a page's result, or a CSV) for these options: from a lake,
        or from the database (here, or in the server that holds it)."""
        query = {name: getattr(self, name) for name in QUERY_OPTIONS}
        where = chosen_lake(self.lake, self.engine)
        if where is None:
            params = {OPTION_PARAMS.get(k, k): v for k, v in query.items()}
            return operate(
                self.db, "read", what=what, name=name, workspace_name=self.workspace, params=params
            )
        with lake_source(self.workspace, where, self.engine, self.master, self.remote) as source:
            resolved = query_for(source.workspace, source.channels, **query)
            try:
                return operations.READS[what](source.tables, resolved, name)
            except QueryError as exc:  # a filter the page does not take
                raise option_error(exc) from None


def query_command(command: Callable[..., None]) -> Callable[..., None]:
    """`command(options: Options, **own)` as a Typer command taking every `Options` field
    beside its own options."""
    own = [p for p in inspect.signature(command).parameters.values() if p.name != "options"]
    shared = [
        inspect.Parameter(
            f.name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=f.type,
            default=inspect.Parameter.empty if f.name == "workspace" else f.default,
        )
        for f in fields(Options)
    ]
    names = {f.name for f in fields(Options)}

    @functools.wraps(command)
    def wrapper(**given: Any) -> None:
        options = Options(**{k: v for k, v in given.items() if k in names})
        command(options, **{k: v for k, v in given.items() if k not in names})

    parameters = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + shared
    parameters.sort(key=lambda p: p.default is not inspect.Parameter.empty)
    wrapper.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {}
    del wrapper.__wrapped__  # Typer reads the signature above, not the command's
    return wrapper


PageOpt = Annotated[
    str,
    typer.Option(
        help="The page: " + ", ".join(f"{p.name} ({p.title})" for p in pages.PAGES.values()) + "."
    ),
]
FormatOpt = Annotated[str, typer.Option("--format", help="table or json.")]


@query_command
def report(options: Options, page: PageOpt = "overview", fmt: FormatOpt = "table") -> None:
    """Print a page (default: the Conversation Overview) for a period (default: the last 7
    days), from the database or from a lake (DuckDB, or Spark with --engine spark)."""
    unit = pages.PAGES.get(page)
    if unit is None:
        raise fail(f"--page: {page!r} is not one of {', '.join(pages.PAGES)}", 2)
    if fmt not in ("table", "json"):
        raise fail(f"--format: {fmt!r} is not one of table, json", 2)
    result = options.read("report", page)
    if fmt == "json":
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    else:
        print_blocks(unit.text(unit.result.model_validate(result)))


def _export_command(item: Export) -> Callable[..., None]:
    def export(options: Options, output: OutputOpt = None) -> None:
        done = options.read("export", item.name)
        if output is None:
            sys.stdout.write(done["csv"])
            return
        try:
            output.write_text(done["csv"], encoding="utf-8", newline="")
        except OSError as exc:  # a missing folder, a directory, no permission
            raise fail(f"--output: cannot write {output}: {exc.strerror}", 2) from None
        say(f"wrote {output} ({done['lines']} {item.name})", err)

    export.__doc__ = f"Export {item.summary[0].lower()}{item.summary[1:].rstrip('.')}, as CSV."
    return query_command(export)


for _item in pages.EXPORTS.values():
    export_app.command(_item.name)(_export_command(_item))
