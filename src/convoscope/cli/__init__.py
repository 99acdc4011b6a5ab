"""The `convoscope` command: imports, reports and exports, administration, serving.

A thin shell over the library, one module per concern: every command builds the same objects
the HTTP API builds (`QueryParams`, validated event batches through `ingest`) and prints
what `overview.run` returns, as plain text.

The command modules (this one, admin, imports, lakes, reports, serve) do without
`from __future__ import annotations`: Typer reads every command's signature at each start,
and evaluating them from strings was half of that (10 of 20 ms; issue 19's start).
"""

import gc
from typing import Annotated

import typer

import convoscope
from convoscope.cli import admin, imports, lakes, reports, serve

app = typer.Typer(
    help="Conversation analytics for customer messaging.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Click's plain help: paragraphs reflowed to the terminal, no type beside a flag
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"convoscope {convoscope.__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Conversation analytics for customer messaging."""


app.command("import")(imports.import_)
app.command("report")(reports.report)
app.command("demo")(serve.demo_)
app.command("serve")(serve.serve)
app.command("rebuild")(admin.rebuild_)
app.add_typer(reports.export_app, name="export")
app.add_typer(lakes.spark_app, name="spark")
app.add_typer(admin.workspace_app, name="workspace")
app.add_typer(admin.user_app, name="user")
app.add_typer(admin.key_app, name="key")


def run() -> None:
    """The `convoscope` command (`python -m convoscope` too). Once a command is done, the
    interpreter's objects are frozen (`gc.freeze`) so that its exit does not collect them
    one by one: about 40 ms of a 0.5 s report (issue 19). Nothing relies on that collection:
    a command closes what it opened (its database, its files) itself."""
    try:
        app(prog_name="convoscope")
    finally:
        gc.freeze()
