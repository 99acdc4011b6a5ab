"""The schema as data: every table of the database with its columns, types and keys.

This is the one definition of the schema's current shape. From it come a new database's DDL
(`ddl`), the types the Spark lake is cast to (`engines.spark`), the DuckDB and ClickHouse
readers of a lake (`lake.LakeTables`, `engines.clickhouse`). Files written by older versions
reach the same shape through `schema.MIGRATIONS`; `tests/test_store.py` checks that a file
migrated from version 0 and a file created from this declaration are described alike (columns
in order, types, nullability, defaults, keys and indexes). A schema change is therefore two
edits: the column here and a migration there.
"""

from __future__ import annotations

from dataclasses import dataclass

from convoscope import rollups


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB's name for it: VARCHAR, TIMESTAMP (naive UTC), BIGINT, VARCHAR[], ...
    nullable: bool = True
    default: str | None = None  # SQL

    def ddl(self) -> str:
        null = "" if self.nullable else " NOT NULL"
        default = f" DEFAULT {self.default}" if self.default is not None else ""
        return f"{self.name} {self.type}{null}{default}"


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: str | None = None  # its column, or columns joined by ", "
    indexes: tuple[str, ...] = ()  # one column each, named <table>_<column>

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def ddl(self, exist_ok: bool = False) -> str:
        lines = [c.ddl() for c in self.columns]
        if self.primary_key:
            lines.append(f"PRIMARY KEY ({self.primary_key})")
        create = "CREATE TABLE IF NOT EXISTS" if exist_ok else "CREATE TABLE"
        create += f" {self.name} (\n    " + ",\n    ".join(lines) + "\n);\n"
        return create + "".join(
            f"CREATE INDEX {self.name}_{c} ON {self.name} ({c});\n" for c in self.indexes
        )


def _req(name: str, kind: str, default: str | None = None) -> Column:
    return Column(name, kind, nullable=False, default=default)


def _opt(name: str, kind: str) -> Column:
    return Column(name, kind)


THREAD = (_req("workspace", "VARCHAR"), _req("channel", "VARCHAR"), _req("customer_id", "VARCHAR"))
CONVERSATION = (*THREAD, _req("conversation_id", "VARCHAR"))
# The store's 64-bit digest of the thread (`schema.thread_key`); a lake's rows carry Spark's.
THREAD_KEY = _opt("thread_key", "UBIGINT")

META = Table("meta", (_req("key", "VARCHAR"), _opt("value", "VARCHAR")), primary_key="key")

# How far the derived tables are: every event with `seq <= derived_seq` is in them, the threads
# of later ones are pending (`conversations.derive`). One row, written only by the deriver, so
# that landing (which writes `events`) and deriving never update the same row.
DERIVATION = Table("derivation", (_req("derived_seq", "BIGINT"),))

ACCOUNT_TABLES = (
    Table(
        "workspaces",
        (
            _req("name", "VARCHAR"),
            _req("timezone", "VARCHAR"),
            _req("inactivity_seconds", "INTEGER", "600"),
            _req("escalated_inactivity_seconds", "INTEGER", "86400"),
            _req("created_at", "TIMESTAMP", "current_timestamp"),
            _opt("business_hours", "VARCHAR"),  # JSON, see `business_hours`
            _opt("whatsapp_app_secret", "VARCHAR"),  # sealed (`sealed`)
            _opt("whatsapp_verify_token", "VARCHAR"),  # hashed (`sealed.digest`)
            _req("csat_window_seconds", "INTEGER", "604800"),
            _opt("flow_types", "VARCHAR"),  # JSON: the flow catalogue, flow -> type
            Column("attribution_window_seconds", "INTEGER", default="1209600"),  # section 8
            _opt("shopify_secret", "VARCHAR"),  # sealed: the shop's webhook signing secret
        ),
        primary_key="name",
    ),
    Table(
        "users",
        (
            _req("email", "VARCHAR"),
            _req("workspace", "VARCHAR"),  # the one they sign in to; roles: `memberships`
            _req("password_hash", "VARCHAR"),
            _req("created_at", "TIMESTAMP", "current_timestamp"),
        ),
        primary_key="email",
    ),
    Table(
        "teammate_names",  # display names, where a platform gives them (or an admin sets them)
        (_req("workspace", "VARCHAR"), _req("teammate_id", "VARCHAR"), _req("name", "VARCHAR")),
        primary_key="workspace, teammate_id",
    ),
    Table(
        "memberships",
        (_req("email", "VARCHAR"), _req("workspace", "VARCHAR"), _req("role", "VARCHAR")),
        primary_key="email, workspace",
    ),
    Table(
        "api_keys",
        (
            _req("key_id", "VARCHAR"),
            _req("workspace", "VARCHAR"),
            _opt("name", "VARCHAR"),
            _req("key_hash", "VARCHAR"),
            _req("created_at", "TIMESTAMP", "current_timestamp"),
            _opt("revoked_at", "TIMESTAMP"),
            _req("scope", "VARCHAR", "'admin'"),
        ),
        primary_key="key_id",
    ),
    Table(
        "sessions",
        (
            _req("token_hash", "VARCHAR"),
            _req("email", "VARCHAR"),
            _req("expires_at", "TIMESTAMP"),
            _opt("workspace", "VARCHAR"),  # the workspace the session shows
        ),
        primary_key="token_hash",
    ),
    Table(
        "whatsapp_numbers",
        (_req("phone_number_id", "VARCHAR"), _req("workspace", "VARCHAR")),
        primary_key="phone_number_id",
    ),
    Table(
        "shopify_shops",
        (_req("shop_domain", "VARCHAR"), _req("workspace", "VARCHAR")),
        primary_key="shop_domain",
    ),
)

EVENTS = Table(
    "events",
    (
        _req("workspace", "VARCHAR"),
        _req("event_id", "VARCHAR"),
        _req("seq", "BIGINT"),  # arrival order
        _req("ts", "TIMESTAMP"),
        _req("channel", "VARCHAR"),
        _req("customer_id", "VARCHAR"),
        _req("type", "VARCHAR"),
        _opt("sender", "VARCHAR"),
        _opt("teammate_id", "VARCHAR"),
        _req("welcome", "BOOLEAN"),
        _opt("department", "VARCHAR"),
        _opt("score", "TINYINT"),
        _req("thread_key", "UBIGINT"),
        _req("event_key", "UBIGINT"),
        # the chatbot's flows and the survey's subject (SPEC sections 1 and 7)
        _opt("flow", "VARCHAR"),
        _opt("flow_type", "VARCHAR"),
        _opt("step", "VARCHAR"),
        Column("flow_end", "BOOLEAN", default="false"),
        Column("fallback", "BOOLEAN", default="false"),
        _opt("about", "VARCHAR"),
        # the commerce events (SPEC sections 1 and 8); an order or refund without a thread
        # has '' for its channel and customer_id (one thread key for a workspace's such
        # events; a lake's are NULL)
        _opt("customer_ref", "VARCHAR"),
        _opt("order_id", "VARCHAR"),
        _opt("amount", "VARCHAR"),  # the decimal string as given: exact, and its scale
        _opt("currency", "VARCHAR"),
        _opt("source", "VARCHAR"),
        Column("test", "BOOLEAN", default="false"),
    ),
    indexes=("thread_key", "event_key"),
)

# Derived from `events` (see `conversations`), each keyed by thread: re-cut, erased and
# rebuilt together; on a lake, partitioned by workspace and day (`lake.DAY_OF`).
DERIVED = (
    Table(
        "conversations",
        (
            *CONVERSATION,
            _req("started_at", "TIMESTAMP"),
            _req("ended_at", "TIMESTAMP"),
            _req("duration_us", "BIGINT"),
            _req("engaged", "BOOLEAN"),
            _opt("escalated_at", "TIMESTAMP"),
            _req("transfer_requests", "INTEGER"),
            _req("support_type", "VARCHAR"),
            _opt("closed_at", "TIMESTAMP"),
            _opt("department", "VARCHAR"),
            _opt("closed_by", "VARCHAR"),
            _opt("first_response_at", "TIMESTAMP"),
            _opt("resolution_us", "BIGINT"),
            _req("customer_messages", "INTEGER"),
            _req("chatbot_messages", "INTEGER"),
            _req("teammate_messages", "INTEGER"),
            _opt("first_responder", "VARCHAR"),
            _opt("initial_response_from", "TIMESTAMP"),
            _opt("initial_response_us", "BIGINT"),
            _opt("last_responder", "VARCHAR"),
            _opt("transferred", "BOOLEAN"),
            THREAD_KEY,
            _opt("teammates", "VARCHAR[]"),
            # the chatbot's part (SPEC section 7): its phase is the events before escalation
            _opt("bot_involved", "BOOLEAN"),
            _opt("bot_messages", "INTEGER"),
            _opt("bot_fallbacks", "INTEGER"),
            _opt("bot_duration_us", "BIGINT"),
            _opt("flows_entered", "INTEGER"),
            _opt("first_flow", "VARCHAR"),
            _opt("first_flow_sent_type", "VARCHAR"),  # the type its messages gave it
            _opt("last_flow", "VARCHAR"),
            # transferred, not_engaged, abandoned_in_flow or automated (null: no chatbot);
            # `in_progress` depends on the time of the request, so it is decided when read
            _opt("bot_outcome", "VARCHAR"),
        ),
    ),
    Table("conversation_teammates", (*CONVERSATION, _req("teammate_id", "VARCHAR"), THREAD_KEY)),
    Table(
        "orphan_closes",
        (*THREAD, _req("event_id", "VARCHAR"), _req("ts", "TIMESTAMP"), THREAD_KEY),
    ),
    Table(
        "surveys",
        (
            *THREAD,
            _req("event_id", "VARCHAR"),
            _req("ts", "TIMESTAMP"),
            _req("score", "TINYINT"),
            _opt("conversation_id", "VARCHAR"),
            THREAD_KEY,
            _opt("about", "VARCHAR"),  # chatbot or teammate (SPEC section 7)
        ),
    ),
    Table(
        "response_waits",
        (
            *CONVERSATION,
            _req("waited_from", "TIMESTAMP"),
            _req("answered_at", "TIMESTAMP"),
            _req("teammate_id", "VARCHAR"),
            _req("response_us", "BIGINT"),
            THREAD_KEY,
        ),
    ),
    Table(
        "conversation_events",
        (
            *CONVERSATION,
            _req("ts", "TIMESTAMP"),
            _req("type", "VARCHAR"),
            _opt("sender", "VARCHAR"),
            _opt("teammate_id", "VARCHAR"),
            THREAD_KEY,
            _opt("bot_phase", "BOOLEAN"),  # before the conversation's escalating event
            _opt("fallback", "BOOLEAN"),
            _opt("event_id", "VARCHAR"),  # what breaks ties between messages (section 8)
            _opt("welcome", "BOOLEAN"),
        ),
    ),
    # The commerce events, as read by Sales Attribution (SPEC section 8): money as an exact
    # DECIMAL with the scale it was given in (so sums print as they were written).
    Table(
        "commerce",
        (
            _req("workspace", "VARCHAR"),
            _opt("channel", "VARCHAR"),
            _opt("customer_id", "VARCHAR"),
            _req("event_id", "VARCHAR"),
            _req("seq", "BIGINT"),
            _req("ts", "TIMESTAMP"),
            _req("type", "VARCHAR"),
            _opt("customer_ref", "VARCHAR"),
            _opt("order_id", "VARCHAR"),
            _opt("amount", "DECIMAL(18,4)"),
            _opt("amount_scale", "INTEGER"),
            _opt("currency", "VARCHAR"),
            _opt("source", "VARCHAR"),
            _opt("test", "BOOLEAN"),
            THREAD_KEY,
        ),
    ),
    # Each flow a conversation's chatbot phase entered (SPEC section 7).
    Table(
        "conversation_flows",
        (
            *CONVERSATION,
            _req("flow", "VARCHAR"),
            _req("started_at", "TIMESTAMP"),  # the conversation's: what places it in a period
            _opt("sent_type", "VARCHAR"),  # the flow_type its first typed message gave
            _req("completed", "BOOLEAN"),
            _req("first_at", "TIMESTAMP"),
            _req("last_at", "TIMESTAMP"),
            _opt("last_step", "VARCHAR"),
            _req("fallbacks", "INTEGER"),
            THREAD_KEY,
        ),
    ),
)

# Summed from the derived tables (see `rollups`), keyed by workspace but not by thread.
ROLLUPS = tuple(
    Table(
        r.table,
        (
            _req("workspace", "VARCHAR"),
            _req("slot", "TIMESTAMP"),
            _req("channel", "VARCHAR"),
            _opt("department", "VARCHAR"),
            *(_req(m, "BIGINT") for m in r.measures),
        ),
    )
    for r in rollups.ROLLUPS
)

TABLES = {t.name: t for t in (META, DERIVATION, *ACCOUNT_TABLES, EVENTS, *DERIVED, *ROLLUPS)}


def ddl() -> str:
    """The DDL of a new database, every table at its current shape (`meta`, where the version
    is kept, exists by then)."""
    return "".join(t.ddl() for t in TABLES.values() if t is not META)
