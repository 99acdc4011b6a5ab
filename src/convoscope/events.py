"""The event model of SPEC section 1 and its validation.

Every way in (file import, HTTP ingestion, platform adapters) turns its input into plain
dicts and calls `validate_batch`; nothing else decides what a valid event is. Errors name the
event (its index in the batch and its `event_id`) and the field, and a batch with any bad event
is rejected whole. This module knows nothing about storage.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)

EventType = Literal["message", "transfer_request", "close", "csat"]
# A close's department cannot be one of the names outputs use for "closed without one".
RESERVED_DEPARTMENTS = ("no department", "(none)")
FIRST_YEAR, LAST_YEAR = 1900, 2999
CHANNEL_PATTERN = r"^[a-z0-9_]{1,40}$"  # a channel slug, in events and in filters
Sender = Literal["customer", "chatbot", "teammate"]
# What an event says, beyond its id and workspace: two events with one id are duplicates when
# these are equal, a conflict otherwise.
CONTENT_FIELDS = (
    "ts",
    "channel",
    "customer_id",
    "type",
    "sender",
    "teammate_id",
    "welcome",
    "department",
    "score",
)

# RFC 3339 date-time; the offset is checked by AwareDatetime so its error can say so plainly.
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})?$"
)


def _rfc3339(value: Any) -> Any:
    """Refuse the other inputs pydantic would coerce (unix numbers, bare dates)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise ValueError("not an RFC 3339 timestamp (e.g. 2026-11-01T09:30:00-04:00)")
    return value


def _in_range(value: datetime) -> datetime:
    try:
        year = value.astimezone(UTC).year
    except OverflowError:
        year = value.year
    if not FIRST_YEAR <= year <= LAST_YEAR or not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"the year must be between {FIRST_YEAR} and {LAST_YEAR}")
    return value


def _department(value: Any) -> Any:
    """A blank department is no department (as an empty CSV cell is); reserved names are
    refused."""
    if isinstance(value, str) and not value.strip():
        return None
    if isinstance(value, str) and value.strip().lower() in RESERVED_DEPARTMENTS:
        raise ValueError(f"{value!r} is reserved for closes without a department; omit it")
    return value


def _score(value: Any) -> Any:
    """Whole numbers only (5, "5", 5.0); not true/false, which pydantic would take as 1/0."""
    if isinstance(value, bool):
        raise ValueError("must be a whole number from 1 to 5")
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


Timestamp = Annotated[AwareDatetime, BeforeValidator(_rfc3339), AfterValidator(_in_range)]


class Event(BaseModel):
    """One immutable fact about one customer's thread on one channel (SPEC section 1)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)

    event_id: str = Field(min_length=1, max_length=128)
    workspace: str | None = Field(
        default=None, description="Ignored unless it differs from the target workspace."
    )
    ts: Timestamp = Field(description="RFC 3339 with offset; stored as UTC, microseconds.")
    channel: str = Field(pattern=CHANNEL_PATTERN)
    customer_id: str = Field(min_length=1, max_length=256)
    type: EventType
    sender: Sender | None = None
    teammate_id: str | None = Field(default=None, min_length=1, max_length=256)
    welcome: bool = False
    department: Annotated[
        Annotated[str, Field(min_length=1, max_length=256)] | None, BeforeValidator(_department)
    ] = None
    score: Annotated[Annotated[int, Field(ge=1, le=5)] | None, BeforeValidator(_score)] = Field(
        default=None, description="1-5, the customer's answer to a survey (csat)."
    )

    @property
    def ts_utc(self) -> datetime:
        """The timestamp as naive UTC, the form the store keeps."""
        return self.ts.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class FieldError:
    """One problem with one event, addressed by its index in the batch and its id."""

    index: int
    event_id: str | None
    field: str
    message: str

    def __str__(self) -> str:
        ident = f' (id "{self.event_id}")' if self.event_id else ""
        return f"event {self.index}{ident}: {self.field}: {self.message}"


class EventError(ValueError):
    """A rejected batch: every problem found, so one fix-and-resend is enough."""

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        shown = "\n".join(str(e) for e in errors[:20])
        more = f"\n... and {len(errors) - 20} more" if len(errors) > 20 else ""
        super().__init__(f"{len(errors)} invalid event(s), nothing stored:\n{shown}{more}")


class ConflictError(ValueError):
    """An `event_id` re-sent with content other than what is stored (or earlier in the batch)."""

    def __init__(self, event_ids: list[str]):
        self.event_ids = event_ids
        shown = ", ".join(f'"{i}"' for i in event_ids[:10])
        super().__init__(
            f"{len(event_ids)} event_id(s) already stored with different content: {shown}; "
            "nothing stored"
        )


_MESSAGES = {
    "timezone_aware": "timestamp has no UTC offset",
    "missing": "is required",
    "extra_forbidden": "unknown field",
}


@dataclass(frozen=True)
class Rule:
    """A cross-field rule of SPEC section 1, written once for every way in: the field it
    names when broken and the message (`{type}`: the event's type), the rule over a validated
    `Event` (`validate_batch`), and the same rule over an event's columns, in DuckDB's SQL
    (true when it holds; a NULL proves nothing), for the checks that run on whole files: the
    bulk check (`bulk`) and the lake's (`engines.spark.check_events`)."""

    field: str
    message: str
    holds: Callable[[Event], bool]
    sql: str


RULES = (
    Rule(
        "sender",
        "is required for a message",
        lambda e: e.type != "message" or e.sender is not None,
        "type <> 'message' OR sender IS NOT NULL",
    ),
    Rule(
        "sender",
        "is only allowed on a message, not on {type}",
        lambda e: e.type == "message" or e.sender is None,
        "type = 'message' OR sender IS NULL",
    ),
    Rule(
        "teammate_id",
        "is required when sender is teammate",
        lambda e: e.sender != "teammate" or e.teammate_id is not None,
        "sender IS DISTINCT FROM 'teammate' OR teammate_id IS NOT NULL",
    ),
    Rule(
        "teammate_id",
        "is only allowed on a teammate message or a close",
        lambda e: e.teammate_id is None or e.sender == "teammate" or e.type == "close",
        "teammate_id IS NULL OR sender = 'teammate' OR type = 'close'",
    ),
    Rule(
        "welcome",
        "is only allowed on a chatbot message",
        lambda e: not e.welcome or e.sender == "chatbot",
        "NOT welcome OR sender = 'chatbot'",
    ),
    Rule(
        "department",
        "is only allowed on a close",
        lambda e: e.department is None or e.type == "close",
        "department IS NULL OR type = 'close'",
    ),
    Rule(
        "score",
        "is required on a csat (1 to 5)",
        lambda e: e.type != "csat" or e.score is not None,
        "type <> 'csat' OR score IS NOT NULL",
    ),
    Rule(
        "score",
        "is only allowed on a csat, not on {type}",
        lambda e: e.type == "csat" or e.score is None,
        "type = 'csat' OR score IS NULL",
    ),
)

# Each field's own rule over a column of converted values, in DuckDB's SQL (`{c}` the
# column; true when the value is allowed, NULL when the value is absent): what the model's
# types and bounds accept, for the checks that run on columns. A department's blank and
# reserved names are decided per record by the model (see `bulk`).
VALUE_RULES = {
    "event_id": "length({c}) BETWEEN 1 AND 128",
    "channel": f"regexp_matches({{c}}, '{CHANNEL_PATTERN}')",
    "customer_id": "length({c}) BETWEEN 1 AND 256",
    "type": "{c} IN (" + ", ".join(f"'{t}'" for t in get_args(EventType)) + ")",
    "sender": "{c} IN (" + ", ".join(f"'{s}'" for s in get_args(Sender)) + ")",
    "teammate_id": "length({c}) BETWEEN 1 AND 256",
    "department": "length({c}) BETWEEN 1 AND 256",
    "score": "{c} BETWEEN 1 AND 5",
}


def value_rule(field: str, column: str) -> str:
    """`VALUE_RULES[field]` over `column`."""
    return "(" + VALUE_RULES[field].replace("{c}", column) + ")"


def _rule_errors(event: Event) -> list[tuple[str, str]]:
    """The cross-field rules broken by `event`, each naming the field at fault."""
    return [
        (rule.field, rule.message.format(type=event.type))
        for rule in RULES
        if not rule.holds(event)
    ]


_NOT_UNICODE = "is not valid Unicode text (a lone surrogate)"


def _unicode(value: Any) -> bool:
    """False for strings that cannot be UTF-8 (lone surrogates from JSON `\\ud800`)."""
    if not isinstance(value, str):
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate_batch(
    records: Iterable[Mapping[str, Any]], workspace: str, offset: int = 0
) -> list[Event]:
    """Validate raw records for `workspace`; return events or raise EventError with all problems.

    `offset` is the position of the first record in its file, so that errors name the
    record's place in the whole input. Repeats of an `event_id` are the store's business
    (duplicate or conflict), since only it sees what was sent before.
    """
    events: list[Event] = []
    errors: list[FieldError] = []
    for index, record in enumerate(records, start=offset):
        raw_id = record.get("event_id") if isinstance(record, Mapping) else None
        event_id = raw_id if isinstance(raw_id, str) and 0 < len(raw_id) <= 128 else None
        if not isinstance(record, Mapping):
            errors.append(FieldError(index, None, "(event)", "must be an object"))
            continue
        broken = [k for k, v in record.items() if not _unicode(k) or not _unicode(v)]
        if broken:
            event_id = event_id if event_id is not None and _unicode(event_id) else None
            errors.extend(
                FieldError(index, event_id, k if _unicode(k) else "(field name)", _NOT_UNICODE)
                for k in broken
            )
            continue
        try:
            event = Event.model_validate(record)
        except ValidationError as exc:
            for err in exc.errors():
                field = ".".join(str(p) for p in err["loc"]) or "(event)"
                message = _MESSAGES.get(err["type"], err["msg"].removeprefix("Value error, "))
                errors.append(FieldError(index, event_id, field, message))
            continue
        if event.workspace is not None and event.workspace != workspace:
            errors.append(
                FieldError(index, event_id, "workspace", f"differs from the target {workspace!r}")
            )
        errors.extend(FieldError(index, event_id, f, m) for f, m in _rule_errors(event))
        events.append(event)
    if errors:
        raise EventError(errors)
    return events
