"""Every file the product writes: CSV cells, CSV documents, their names and download headers.

This module is the one output boundary for files. User data (department names, customer and
teammate ids, workspace names) reaches a spreadsheet through `cell`, which neutralises
formula injection as OWASP recommends: a value starting with `=`, `+`, `-`, `@`, a tab or a
carriage return is prefixed with a single quote, so Excel, LibreOffice and Google Sheets show
it as text instead of evaluating it. Numbers we compute are written as numbers, never
prefixed, so a negative value stays a number. Quoting is the `csv` module's (`QUOTE_MINIMAL`
quotes any cell holding a comma, a quote or a line-end character), so a department containing
a bare CR reads back as one cell: lines end in CRLF as RFC 4180 says, which is also what
makes the `csv` module quote a bare CR. It does not know where a file goes (HTTP response,
stdout or disk).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from convoscope.query import Query

NO_DEPARTMENT = "No department"
UNKNOWN_TEAMMATE = "Unknown teammate"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str | int | float:
    """One CSV cell: text neutralised against formulas, numbers as they are, None as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """A CSV document line by line (for streaming): the header, then one line per row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for values in rows:
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        writer.writerow([cell(v) for v in values])
    yield out.getvalue()


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    return "".join(csv_lines(header, rows))


MAX_NAME = 180  # characters before ".csv": file systems refuse names over 255 bytes


def filename(kind: str, query: Query, *more: str) -> str:
    """`<kind>_<workspace>_<from>_<to>[_<channels>][_departments-<d>][_teammates-<t>]
    [_flow-types-<t>][_flows-<f>][_<more>...].csv`, filters joined with `+` (`more`: a
    download's own filters, already named); any character is kept (the
    header helper encodes it), except path separators and controls. Very long filter lists are
    cut, ending in `...`."""
    parts = [kind, query.workspace, str(query.period.first), str(query.period.last)]
    if query.channels:
        parts.append("+".join(query.channels))
    for label, chosen in (
        ("departments", query.departments),
        ("teammates", query.teammates),
        ("flow-types", query.flow_types),
        ("flows", query.flows),
    ):
        if chosen:
            parts.append(f"{label}-" + "+".join(chosen))
    parts.extend(more)
    name = "".join("-" if ch in '/\\"' or not ch.isprintable() else ch for ch in "_".join(parts))
    return (name if len(name) <= MAX_NAME else name[: MAX_NAME - 3] + "...") + ".csv"


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII fallback name and the exact name as RFC 6266 `filename*`."""
    fallback = "".join(
        ch if ch.isascii() and (ch.isalnum() or ch in "-_+.") else "_" for ch in name
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
