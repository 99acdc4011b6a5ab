"""Ways in from files and platforms, behind one contract.

Every adapter turns its source into SPEC records (plain dicts) and nothing else: it never
writes to the store. `read_file` is the one dispatch from a file and its format to an
`Inbound`: validated event batches per workspace (lazy, so a large file is read in bounded
batches), plus what the source held that is not an event, counted by kind, and notes for the
person importing (what was skipped and why). The CLI and the HTTP API both hand an `Inbound`
to `convoscope.ingest.store_batches`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO, Literal

from convoscope.events import Event, validate_batch

Format = Literal["jsonl", "csv", "parquet", "twcs", "rasa", "shopify"]
FORMATS: tuple[Format, ...] = ("jsonl", "csv", "parquet", "twcs", "rasa", "shopify")
Record = dict[str, Any]


@dataclass
class Inbound:
    """What one source holds: event batches per workspace, ignored items, notes."""

    batches: Mapping[str, Iterable[Sequence[Event]]] = field(default_factory=dict)
    ignored: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)


def unix_time(value: Any) -> str:
    """A unix time in seconds as RFC 3339; anything unreadable or out of range is passed on
    as text, for event validation to reject with the record and the `ts` field named."""
    try:
        return datetime.fromtimestamp(float(value), UTC).isoformat()
    except (TypeError, ValueError, OverflowError, OSError):
        return str(value)


@dataclass(frozen=True)
class FileOptions:
    """Per-format options of `convoscope import` (ignored by formats they do not concern)."""

    transform: Callable[[Record], Record] | None = None
    rasa_handoff: str = "action_handoff"
    rasa_welcome: bool = False
    rasa_channel: str | None = None


def read_file(stream: BinaryIO, fmt: Format, workspace: str | None, opts: FileOptions) -> Inbound:
    """The events of a file. `workspace` is required except for twcs (one per brand)."""
    from convoscope.adapters import files, rasa, shopify, twcs

    if fmt == "twcs":
        mapped = twcs.read(stream)
        notes = [
            f"skipped {count} tweet(s): {reason} (e.g. tweet {', '.join(mapped.examples[reason])})"
            for reason, count in mapped.skipped.most_common()
        ]
        batches = {
            brand: [validate_batch(records, brand)]
            for brand, records in sorted(mapped.events.items())
        }
        return Inbound(batches, Counter(mapped.skipped), notes)
    if workspace is None:
        raise ValueError("--workspace is required for this format")
    if fmt == "rasa":
        tracked = rasa.read(
            stream,
            handoff_action=opts.rasa_handoff,
            welcome=opts.rasa_welcome,
            channel=opts.rasa_channel,
        )
        return Inbound({workspace: [validate_batch(tracked.events, workspace)]}, tracked.ignored)
    if fmt == "shopify":
        orders = shopify.read_export(stream)
        return Inbound({workspace: [validate_batch(orders.events, workspace)]}, orders.ignored)
    return Inbound({workspace: files.read_events(stream, fmt, workspace, transform=opts.transform)})
