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
from decimal import Decimal
from typing import Annotated, Any, get_args

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)

from convoscope.event_fields import (
    AMOUNT_PATTERN,
    CURRENCIES,
    FIRST_YEAR,
    LAST_YEAR,
    LIMITS,
    RESERVED_DEPARTMENTS,
    About,
    EventError,
    EventType,
    FieldError,
    FlowType,
    OrderSource,
    Sender,
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


def _amount(value: Any) -> Any:
    """Money is a decimal string, never a JSON number (a float would not be exact); null is
    absent, as for every optional field."""
    if value is None or isinstance(value, Decimal):
        return value
    if not isinstance(value, str) or not re.match(AMOUNT_PATTERN, value):
        raise ValueError('must be a decimal string, >= 0, at most 4 decimals (e.g. "120.00")')
    return Decimal(value)


def _currency(value: str | None) -> str | None:
    if value is not None and value not in CURRENCIES:
        raise ValueError("is not an ISO 4217 currency code (e.g. CAD, EUR)")
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

    event_id: str = LIMITS["event_id"].field()
    workspace: str | None = Field(
        default=None, description="Ignored unless it differs from the target workspace."
    )
    ts: Timestamp = Field(description="RFC 3339 with offset; stored as UTC, microseconds.")
    channel: str | None = LIMITS["channel"].field(default=None)
    customer_id: str | None = LIMITS["customer_id"].field(default=None)
    type: EventType
    sender: Sender | None = None
    teammate_id: str | None = LIMITS["teammate_id"].field(default=None)
    welcome: bool = False
    department: Annotated[
        Annotated[str, LIMITS["department"].field()] | None, BeforeValidator(_department)
    ] = None
    score: Annotated[Annotated[int, LIMITS["score"].field()] | None, BeforeValidator(_score)] = (
        Field(default=None, description="1-5, the customer's answer to a survey (csat).")
    )
    flow: str | None = LIMITS["flow"].field(
        default=None, description="The chatbot flow this chatbot message belongs to."
    )
    flow_type: FlowType | None = None
    step: str | None = LIMITS["step"].field(default=None, description="The flow's node.")
    flow_end: bool = Field(default=False, description="A terminal node of its flow.")
    fallback: bool = Field(default=False, description="The chatbot did not understand.")
    about: About | None = Field(default=None, description="What a csat survey rates.")
    customer_ref: str | None = LIMITS["customer_ref"].field(
        default=None, description="The shop's customer (identify, order)."
    )
    order_id: str | None = LIMITS["order_id"].field(default=None)
    amount: Annotated[Decimal | None, BeforeValidator(_amount)] = Field(
        default=None, description='A decimal string such as "120.00" (order, refund).'
    )
    currency: Annotated[str | None, AfterValidator(_currency)] = Field(
        default=None, description="ISO 4217, e.g. CAD."
    )
    source: OrderSource | None = Field(default=None, description="Where an order was placed.")
    test: bool = Field(default=False, description="A test order, left out everywhere.")


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
    types: tuple[str, ...] = ()  # the only types it can fail on (none: any)


# The fields that say more about a flow, and their SQL for "not given".
FLOW_DETAILS = (
    ("flow_type", "flow_type IS NULL"),
    ("step", "step IS NULL"),
    ("flow_end", "NOT flow_end"),
)


def _with_flow(name: str, absent: str) -> Rule:
    def holds(e: Event) -> bool:
        return getattr(e, name) in (None, False) or e.flow is not None

    return Rule(name, "is only allowed with a flow", holds, f"{absent} OR flow IS NOT NULL")


def _other_than(*types: str) -> tuple[str, ...]:
    """Every event type but `types`."""
    return tuple(t for t in get_args(EventType) if t not in types)


def _only_on(name: str, types: tuple[str, ...], absent: str) -> Rule:
    """`name` is allowed on `types` only (`absent`: its SQL for "not given")."""
    listed = ", ".join(f"'{t}'" for t in types)
    return Rule(
        name,
        "is not allowed on {type}",
        lambda e: e.type in types or getattr(e, name) is None or getattr(e, name) is False,
        f"type IN ({listed}) OR {absent}",
        _other_than(*types),
    )


def _required_on(name: str, types: tuple[str, ...]) -> Rule:
    listed = ", ".join(f"'{t}'" for t in types)
    return Rule(
        name,
        "is required on {type}",
        lambda e: e.type not in types or getattr(e, name) is not None,
        f"type NOT IN ({listed}) OR {name} IS NOT NULL",
        types,
    )


# What the commerce events carry (SPEC section 1): an order's thread is optional (both
# channel and customer_id, or neither), a refund has none.
_THREADED = ("message", "transfer_request", "close", "csat", "identify")
_PURCHASES = ("order", "refund")
COMMERCE_RULES = (
    _required_on("channel", _THREADED),
    _required_on("customer_id", _THREADED),
    _only_on(
        "channel",
        ("message", "transfer_request", "close", "csat", "identify", "order"),
        "channel IS NULL",
    ),
    _only_on("customer_id", (*_THREADED, "order"), "customer_id IS NULL"),
    Rule(
        "customer_id",
        "is required with channel (an order's thread is both, or neither)",
        lambda e: e.channel is None or e.customer_id is not None,
        "channel IS NULL OR customer_id IS NOT NULL",
    ),
    Rule(
        "channel",
        "is required with customer_id (an order's thread is both, or neither)",
        lambda e: e.customer_id is None or e.channel is not None,
        "customer_id IS NULL OR channel IS NOT NULL",
    ),
    _required_on("customer_ref", ("identify",)),
    _only_on("customer_ref", ("identify", "order"), "customer_ref IS NULL"),
    *(_required_on(name, _PURCHASES) for name in ("order_id", "amount", "currency")),
    *(_only_on(name, _PURCHASES, f"{name} IS NULL") for name in ("order_id", "amount", "currency")),
    Rule(
        "amount",
        "must be above 0 on a refund",
        lambda e: e.type != "refund" or e.amount is None or e.amount > 0,
        "type <> 'refund' OR amount IS NULL OR TRY_CAST(amount AS DECIMAL(18, 4)) > 0",
        ("refund",),
    ),
    _only_on("source", ("order",), "source IS NULL"),
    _only_on("test", ("order",), "NOT test"),
)

RULES = (
    *COMMERCE_RULES,
    Rule(
        "sender",
        "is required for a message",
        lambda e: e.type != "message" or e.sender is not None,
        "type <> 'message' OR sender IS NOT NULL",
        ("message",),
    ),
    Rule(
        "sender",
        "is only allowed on a message, not on {type}",
        lambda e: e.type == "message" or e.sender is None,
        "type = 'message' OR sender IS NULL",
        _other_than("message"),
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
        _other_than("close"),
    ),
    Rule(
        "score",
        "is required on a csat (1 to 5)",
        lambda e: e.type != "csat" or e.score is not None,
        "type <> 'csat' OR score IS NOT NULL",
        ("csat",),
    ),
    Rule(
        "score",
        "is only allowed on a csat, not on {type}",
        lambda e: e.type == "csat" or e.score is None,
        "type = 'csat' OR score IS NULL",
        _other_than("csat"),
    ),
    Rule(
        "flow",
        "is only allowed on a chatbot message",
        lambda e: e.flow is None or e.sender == "chatbot",
        "flow IS NULL OR sender = 'chatbot'",
    ),
    *(_with_flow(name, sql) for name, sql in FLOW_DETAILS),
    Rule(
        "fallback",
        "is only allowed on a chatbot message",
        lambda e: not e.fallback or e.sender == "chatbot",
        "NOT fallback OR sender = 'chatbot'",
    ),
    Rule(
        "about",
        "is only allowed on a csat, not on {type}",
        lambda e: e.type == "csat" or e.about is None,
        "type = 'csat' OR about IS NULL",
        _other_than("csat"),
    ),
)


# The rules that can fail on each type of event (`Rule.types`): an event is checked against
# those only (a message against 22 of 31).
_RULES_OF = {t: tuple(r for r in RULES if not r.types or t in r.types) for t in get_args(EventType)}


def _rule_errors(event: Event) -> list[tuple[str, str]]:
    """The cross-field rules broken by `event`, each naming the field at fault."""
    return [
        (rule.field, rule.message.format(type=event.type))
        for rule in _RULES_OF[event.type]
        if not rule.holds(event)
    ]


_NOT_UNICODE = "is not valid Unicode text (a lone surrogate)"


def _unicode(value: Any) -> bool:
    """False for strings that cannot be UTF-8 (lone surrogates from JSON `\\ud800`)."""
    if not isinstance(value, str) or value.isascii():  # no surrogate in ASCII
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
