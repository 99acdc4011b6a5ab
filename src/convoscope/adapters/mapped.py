"""Any CSV or Parquet file -> SPEC events, through a column mapping given on the command line.

`--map ts=created_at,customer_id=user` names the source column of each SPEC field (fields not
mapped are read from a column of their own name); `--value sender.agent=teammate` rewrites a
source value; `--set channel=web_chat` gives a field a constant. Records are then validated like
any other, so errors still name the record and the SPEC field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from convoscope.event_fields import CONTENT_FIELDS

SPEC_FIELDS = ("event_id", *CONTENT_FIELDS)
Record = dict[str, Any]


def _pairs(option: str, items: Iterable[str]) -> list[tuple[str, str]]:
    pairs = []
    for item in items:
        for part in (p for p in item.split(",") if p.strip()):
            key, sep, value = part.partition("=")
            if not sep or not key.strip():
                raise ValueError(f"{option}: {part!r} is not KEY=VALUE")
            pairs.append((key.strip(), value.strip()))
    return pairs


def _field(option: str, name: str) -> str:
    if name not in SPEC_FIELDS:
        raise ValueError(f"{option}: {name!r} is not an event field ({', '.join(SPEC_FIELDS)})")
    return name


def mapper(
    maps: Iterable[str] = (), values: Iterable[str] = (), constants: Iterable[str] = ()
) -> Callable[[Record], Record] | None:
    """A record transform from the three options, or None when all are empty."""
    columns = {_field("--map", k): v for k, v in _pairs("--map", maps)}
    rewrites: dict[str, dict[str, str]] = {}
    for key, spec in _pairs("--value", values):
        name, dot, raw = key.partition(".")
        if not dot:
            raise ValueError(f"--value: {key!r} is not FIELD.SOURCE_VALUE")
        rewrites.setdefault(_field("--value", name), {})[raw] = spec
    fixed = {_field("--set", k): v for k, v in _pairs("--set", constants)}
    if not (columns or rewrites or fixed):
        return None

    def transform(source: Record) -> Record:
        record: Record = {}
        for name in SPEC_FIELDS:
            if name in fixed:
                record[name] = fixed[name]
                continue
            value = source.get(columns.get(name, name))
            if value is None:
                continue
            record[name] = rewrites.get(name, {}).get(str(value), value)
        return record

    return transform
