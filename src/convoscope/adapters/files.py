"""Files of events in SPEC fields: JSON Lines, CSV and Parquet, read in bounded batches.

Memory does not grow with the file: records are read and validated one batch at a time.
Record numbers in errors count from 0 across the whole file (the header line of a CSV and
blank lines of a JSONL file are not records).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, Literal

import pyarrow.parquet as pq

from convoscope.event_fields import EventError, FieldError
from convoscope.events import Event, validate_batch

FileFormat = Literal["jsonl", "csv", "parquet"]
BATCH_SIZE = 10_000
_EXTENSIONS: dict[str, FileFormat] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def guess_format(path: Path) -> FileFormat:
    """The format from the file's extension, or ValueError naming the choices."""
    fmt = _EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"cannot tell the format of {path.name} from its extension; "
            "pass --format jsonl, csv or parquet"
        )
    return fmt


def _chunks(records: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for record in records:
        batch.append(record)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _jsonl(stream: BinaryIO) -> Iterator[dict[str, Any]]:
    index = 0
    for line_no, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise EventError(
                [FieldError(index, None, "(json)", f"line {line_no}: {exc}")]
            ) from None
        index += 1
        yield record


def _csv(stream: BinaryIO) -> Iterator[dict[str, Any]]:
    """Empty cells are absent fields; `welcome` takes true/false (or 1/0)."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    for row in csv.DictReader(text):
        yield {k: v for k, v in row.items() if k is not None and v not in ("", None)}


def _parquet(stream: BinaryIO, size: int) -> Iterator[dict[str, Any]]:
    for batch in pq.ParquetFile(stream).iter_batches(batch_size=size):
        for row in batch.to_pylist():
            yield {k: v for k, v in row.items() if v is not None}


def read_events(
    stream: BinaryIO,
    fmt: FileFormat,
    workspace: str,
    batch_size: int = BATCH_SIZE,
    transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Iterator[list[Event]]:
    """Validated batches of events from an open binary file; raises EventError on a bad one.

    `transform` maps each source record to SPEC fields first (see `adapters.mapped`).
    """
    records = (
        _parquet(stream, batch_size)
        if fmt == "parquet"
        else (_csv(stream) if fmt == "csv" else _jsonl(stream))
    )
    if transform is not None:
        records = map(transform, records)
    offset = 0
    for chunk in _chunks(records, batch_size):
        yield validate_batch(chunk, workspace, offset)
        offset += len(chunk)
