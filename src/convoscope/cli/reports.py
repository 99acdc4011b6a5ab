"""`convoscope report` and `convoscope export`: every registered page and its CSVs, from the
same `QueryParams` as the HTTP API.

The query and source options are declared once (`query_command`): a command written against
`Options` gets them all, so `report` and every export take the same options with the same
help and the same errors.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated, Any

import typer

from convoscope import exports, pages
from convoscope.cli.common import (
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
from convoscope.cli.lakes import Source, analytics_source
from convoscope.cli.render import print_blocks
from convoscope.pages import runner
from convoscope.pages.common import Export
from convoscope.query import Query, QueryError

export_app = typer.Typer(help="Export reports as files.", no_args_is_help=True)
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
]


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

    @contextmanager
    def opened(self) -> Iterator[tuple[Source, Query]]:
        """The source (database or lake) and the query, with errors naming the option."""
        with analytics_source(
            self.workspace, self.db, self.lake, self.engine, self.master, self.remote
        ) as source:
            query = query_for(
                source.workspace,
                source.channels,
                period=self.period,
                date_from=self.date_from,
                date_to=self.date_to,
                tz=self.tz,
                channels=self.channels,
                departments=self.departments,
                teammates=self.teammates,
                flow_types=self.flow_types,
                flows=self.flows,
                currency=self.currency,
                granularity=self.granularity,
            )
            try:
                yield source, query
            except QueryError as exc:  # a filter the page does not take
                raise option_error(exc) from None


def query_command(command: Callable[..., None]) -> Callable[..., None]:
    """`command(options: Options, **own)` as a Typer command taking every `Options` field
    beside its own options."""
    own = [
        p
        for p in inspect.signature(command, eval_str=True).parameters.values()
        if p.name != "options"
    ]
    shared = [
        inspect.Parameter(
            f.name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=f.type if not isinstance(f.type, str) else _hints()[f.name],
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


@functools.cache
def _hints() -> dict[str, Any]:
    import typing

    return typing.get_type_hints(Options, include_extras=True)


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
    with options.opened() as (source, query):
        result = runner.run(unit, source.tables, query)
    if fmt == "json":
        sys.stdout.write(json.dumps(result.model_dump(), ensure_ascii=False, indent=2) + "\n")
    else:
        print_blocks(unit.text(result))


def _export_command(item: Export) -> Callable[..., None]:
    def export(options: Options, output: OutputOpt = None) -> None:
        with options.opened() as (source, query):
            values = runner.export(item, source.tables, query)
        text = exports.csv_text(item.columns, values)
        if output is None:
            sys.stdout.write(text)
            return
        try:
            output.write_text(text, encoding="utf-8", newline="")
        except OSError as exc:  # a missing folder, a directory, no permission
            raise fail(f"--output: cannot write {output}: {exc.strerror}", 2) from None
        say(f"wrote {output} ({len(values)} {item.name})", err)

    export.__doc__ = f"Export {item.summary[0].lower()}{item.summary[1:]} (CSV)"
    return query_command(export)


for _item in pages.EXPORTS.values():
    export_app.command(_item.name)(_export_command(_item))
