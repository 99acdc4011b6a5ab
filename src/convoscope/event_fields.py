"""What an event's fields may hold (SPEC section 1), and the errors that name one.

The vocabulary every layer shares: the event types, the fields, their bounds (`LIMITS`, as the
model's and as SQL over a column), and the errors a rejected batch raises. Reading (a report, a
page) needs these but not the event model, whose construction is most of `events`' import.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, get_args

import pycountry
from pydantic import Field

EventType = Literal["message", "transfer_request", "close", "csat", "identify", "order", "refund"]
# The commerce events (SPEC sections 1 and 8): not activity, and not all of them in a thread.
COMMERCE_TYPES = ("identify", "order", "refund")
# Where an order was placed: in the chat (a direct sale) or elsewhere (section 8).
OrderSource = Literal["chat", "website", "store", "other"]
# ISO 4217's current codes, as pycountry ships them.
CURRENCIES = tuple(sorted(c.alpha_3 for c in pycountry.currencies))
# An amount of money as the events give it: a decimal string, at most 4 decimals, and small
# enough for the stores' DECIMAL(18, 4).
AMOUNT_PATTERN = "^[0-9]{1,14}([.][0-9]{1,4})?$"
# The vendor's five kinds of chatbot flow (SPEC section 1), and what a survey rates (section 7).
FlowType = Literal["campaign", "transfer", "sales", "support", "other"]
About = Literal["chatbot", "teammate"]
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
    "flow",
    "flow_type",
    "step",
    "flow_end",
    "fallback",
    "about",
    "customer_ref",
    "order_id",
    "amount",
    "currency",
    "source",
    "test",
)
# The fields that are true or false (absent: false).
BOOLEAN_FIELDS = ("welcome", "flow_end", "fallback", "test")


@cache
def whitespace() -> str:
    """What `str.strip()` removes (Unicode's white space, all of it in the first plane): a
    department that is only these is none, in Python and in SQL (`department_sql`). Found when
    a check's SQL first needs it: 3.5 ms that a report's start does not pay."""
    return "".join(chr(c) for c in range(0x10000) if chr(c).isspace())


# RFC 3339 date-time with its offset, as a POSIX class pattern (no backslash, so that its SQL
# literal means the same to every engine): what a lake's text timestamps must be.
RFC3339_PATTERN = (
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,9})?"
    "([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)


@dataclass(frozen=True)
class Limits:
    """What one field's value may be, written once: the model's bounds (`field`) and the same
    bounds over a column of values in DuckDB's SQL (`sql`, for the bulk and the lake checks)."""

    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    ge: int | None = None
    le: int | None = None
    choices: tuple[str, ...] = ()  # a Literal's values (the model takes them from its type)
    reserved: tuple[str, ...] = ()  # names refused whatever their case and surrounding space

    def field(self, **kwargs: Any) -> Any:
        """A pydantic `Field` with these bounds."""
        bounds = ("min_length", "max_length", "pattern", "ge", "le")
        return Field(
            **{b: getattr(self, b) for b in bounds if getattr(self, b) is not None}, **kwargs
        )

    def sql(self, column: str) -> str:
        """True when the value in `column` is allowed, NULL when it is absent."""
        terms = []
        if self.min_length is not None or self.max_length is not None:
            terms.append(f"length({column}) BETWEEN {self.min_length or 0} AND {self.max_length}")
        if self.pattern is not None:
            terms.append(f"regexp_matches({column}, '{self.pattern}')")
        if self.ge is not None or self.le is not None:
            terms.append(f"{column} BETWEEN {self.ge} AND {self.le}")
        if self.choices:
            terms.append(f"{column} IN (" + ", ".join(f"'{c}'" for c in self.choices) + ")")
        if self.reserved:
            names = ", ".join(f"'{r}'" for r in self.reserved)
            terms.append(f"lower(trim({column}, '{whitespace()}')) NOT IN ({names})")
        return "(" + " AND ".join(terms) + ")"


NAME = Limits(min_length=1, max_length=256)  # customer and teammate ids
LIMITS = {
    "event_id": Limits(min_length=1, max_length=128),
    "channel": Limits(pattern=CHANNEL_PATTERN),
    "customer_id": NAME,
    "type": Limits(choices=get_args(EventType)),
    "sender": Limits(choices=get_args(Sender)),
    "teammate_id": NAME,
    "department": Limits(min_length=1, max_length=256, reserved=RESERVED_DEPARTMENTS),
    "score": Limits(ge=1, le=5),
    "flow": Limits(min_length=1, max_length=128),
    "flow_type": Limits(choices=get_args(FlowType)),
    "step": Limits(min_length=1, max_length=128),
    "about": Limits(choices=get_args(About)),
    "customer_ref": NAME,
    "order_id": Limits(min_length=1, max_length=128),
    "amount": Limits(pattern=AMOUNT_PATTERN),
    "currency": Limits(choices=CURRENCIES),
    "source": Limits(choices=get_args(OrderSource)),
}


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
        super().__init__(f"{self.events} invalid event(s), nothing stored:\n{shown}{more}")

    @property
    def events(self) -> int:
        """How many events are at fault (an event may break several rules)."""
        return len({e.index for e in self.errors})


class ConflictError(ValueError):
    """An `event_id` re-sent with content other than what is stored (or earlier in the batch)."""

    def __init__(self, event_ids: list[str], key: str = "event_id", keys: list[str] | None = None):
        """`key`: what repeats (`order_id`: another order event for a stored order), `keys`
        its values when they are not the event ids."""
        self.event_ids = event_ids
        shown = ", ".join(f'"{i}"' for i in (keys or event_ids)[:10])
        super().__init__(
            f"{len(keys or event_ids)} {key}(s) already stored with different content: "
            f"{shown}; nothing stored"
        )


def department_sql(column: str) -> str:
    """The department an event's `column` gives, in SQL: none when it is blank (as
    `events._department` makes it)."""
    return f"CASE WHEN trim({column}, '{whitespace()}') = '' THEN NULL ELSE {column} END"


def value_rule(field: str, column: str) -> str:
    """`LIMITS[field]` over `column`."""
    return LIMITS[field].sql(column)
