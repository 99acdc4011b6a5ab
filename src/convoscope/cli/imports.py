"""`convoscope import`: a file of events, stored whole or not at all."""

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO

import typer

from convoscope.cli.common import DbOpt, err, fail, open_store, say
from convoscope.event_fields import ConflictError, EventError
from convoscope.store import DEFAULT_TIMEZONE, AppendResult, Staging, Store, check_timezone

if TYPE_CHECKING:
    from convoscope.events import Event


def import_(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="File of events.")],
    workspace: Annotated[
        str | None, typer.Option("--workspace", "-w", help="Workspace (not for twcs).")
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="jsonl, csv, parquet, twcs, rasa or shopify (default: extension).",
        ),
    ] = None,
    timezone: Annotated[
        str, typer.Option(help="Time zone of a workspace created by this import.")
    ] = DEFAULT_TIMEZONE,
    maps: Annotated[
        list[str] | None,
        typer.Option("--map", help="FIELD=COLUMN pairs (csv, parquet, jsonl), comma-separated."),
    ] = None,
    values: Annotated[
        list[str] | None,
        typer.Option("--value", help="FIELD.SOURCE=VALUE rewrites, e.g. sender.agent=teammate."),
    ] = None,
    constants: Annotated[
        list[str] | None, typer.Option("--set", help="FIELD=VALUE constants, e.g. channel=sms.")
    ] = None,
    rasa_handoff: Annotated[
        str, typer.Option(help="Rasa action that is a transfer request.")
    ] = "action_handoff",
    rasa_welcome: Annotated[
        bool, typer.Option(help="Rasa: the first bot message of a session is the welcome.")
    ] = False,
    rasa_channel: Annotated[
        str | None, typer.Option(help="Rasa: channel (default from latest_input_channel).")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Import a file of events; all of it, or nothing if any record is bad.

    jsonl, csv and parquet files hold convoscope's event fields (event_id, ts, channel,
    customer_id, type, sender, ...), or any columns renamed with --map, --value and --set. twcs
    is Kaggle's Customer Support on Twitter file (a workspace per brand), rasa a Rasa tracker
    store export, shopify a Shopify order export. Workspaces the file names are created (with
    --timezone) when it is stored.
    """
    # the adapters and the bulk path (Arrow, Parquet) load here, not for every command
    from convoscope import bulk, ingest
    from convoscope.adapters import FORMATS, FileOptions, mapped, read_file, twcs
    from convoscope.adapters.files import guess_format

    try:
        kind = fmt or guess_format(path)
        if kind not in FORMATS:
            raise ValueError(f"--format: {kind!r} is not one of {', '.join(FORMATS)}")
        check_timezone(timezone)
        options = FileOptions(
            transform=mapped.mapper(maps or (), values or (), constants or ()),
            rasa_handoff=rasa_handoff,
            rasa_welcome=rasa_welcome,
            rasa_channel=rasa_channel,
        )
    except ValueError as exc:
        raise fail(str(exc), 2) from None
    if fmt is None and kind == "csv" and path.is_file():
        with path.open("rb") as f:
            if twcs.is_twcs_header(f.readline()):
                raise fail(
                    f"{path.name} has the header of Kaggle's twcs file: add --format twcs "
                    "(a CSV of SPEC fields has event_id, ts, channel, ... columns)",
                    2,
                )
    if kind != "twcs" and workspace is None:
        raise fail("--workspace is required for this format", 2)
    with open_store(db, create=True) as store, store.bulk_memory():
        started = time.perf_counter()
        try:
            if kind in bulk.FILE_FORMATS and options.transform is None and workspace:
                results = {workspace: _store_spec_file(store, path, kind, workspace, timezone)}
            else:
                with _reading(path) as stream:
                    inbound = read_file(stream, kind, workspace, options)  # type: ignore[arg-type]
                    for note in inbound.notes:
                        say(note, err)
                    results = ingest.store_batches(store, inbound.batches, create_timezone=timezone)
        except (EventError, ConflictError, ValueError) as exc:
            raise fail(f"{path}: {exc}") from None
    for name, result in results.items():
        say(
            f"{path.name}: {result.accepted} accepted, {result.duplicates} duplicates "
            f"into workspace {name!r}"
        )
    say(f"({time.perf_counter() - started:.1f} s)")


def _reading(path: Path) -> AbstractContextManager[BinaryIO]:
    import rich.progress  # as the bulk path: loaded when a file is read, not for every command

    return rich.progress.open(
        path, "rb", description=f"reading {path.name}", console=err, transient=True
    )


def _store_spec_file(
    store: Store, path: Path, kind: str, workspace: str, timezone: str
) -> AppendResult:
    """A Parquet or JSON Lines file in SPEC fields: checked set-based, per record if need be
    (with a progress bar, since that is the slow way)."""
    from convoscope import bulk, ingest
    from convoscope.adapters.files import read_events

    status = err.status(f"checking {path.name}")

    def per_record() -> Iterator[list["Event"]]:
        status.stop()
        with _reading(path) as stream:
            yield from read_events(stream, kind, workspace)  # type: ignore[arg-type]

    def stage(staging: Staging) -> None:
        status.start()
        try:
            bulk.stage_file(staging, path, kind, workspace, per_record)
        finally:
            status.stop()

    results = ingest.store_staged(store, [workspace], stage, create_timezone=timezone)
    return results[workspace]
