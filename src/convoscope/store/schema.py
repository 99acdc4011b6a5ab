"""How a DuckDB file reaches the schema of `tables`: the migrations from one version to the
next, and the keys every event row carries.

`database.Database` creates a new file from `tables.ddl()` and brings an older one up to date
with the migrations; nothing else writes DDL. A shipped migration is never edited.
"""

from __future__ import annotations

from convoscope import rollups
from convoscope.store import tables

SCHEMA_VERSION = 13


# Keys that make writes independent of history (schema 8). A thread key is a 64-bit digest of
# a thread's (workspace, channel, customer_id), an event key of an event's (workspace, event_id);
# MD5 rather than the engine's hash() so that stored keys never change with an upgrade. ART
# indexes on them let a write read only the rows of its threads and ids. Two threads may share
# a key: a write then re-derives both, which changes nothing.
def thread_key(alias: str = "") -> str:
    """SQL for the thread key of the row `alias` (a table alias, or none)."""
    a = f"{alias}." if alias else ""
    return f"md5_number_lower(concat_ws(chr(31), {a}workspace, {a}channel, {a}customer_id))"


def event_key(alias: str = "") -> str:
    """SQL for the event key of the row `alias`."""
    a = f"{alias}." if alias else ""
    return f"md5_number_lower(concat_ws(chr(31), {a}workspace, {a}event_id))"


# Each entry moves the schema from version i to i + 1; never edit one that has shipped.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE workspaces (
        name VARCHAR PRIMARY KEY,
        timezone VARCHAR NOT NULL,
        inactivity_seconds INTEGER NOT NULL DEFAULT 600,
        escalated_inactivity_seconds INTEGER NOT NULL DEFAULT 86400,
        created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
    );
    CREATE TABLE events (
        workspace VARCHAR NOT NULL,
        event_id VARCHAR NOT NULL,
        seq BIGINT NOT NULL,
        ts TIMESTAMP NOT NULL,
        channel VARCHAR NOT NULL,
        customer_id VARCHAR NOT NULL,
        type VARCHAR NOT NULL,
        sender VARCHAR,
        teammate_id VARCHAR,
        welcome BOOLEAN NOT NULL,
        department VARCHAR
    );
    CREATE TABLE conversations (
        workspace VARCHAR NOT NULL,
        channel VARCHAR NOT NULL,
        customer_id VARCHAR NOT NULL,
        conversation_id VARCHAR NOT NULL,
        started_at TIMESTAMP NOT NULL,
        ended_at TIMESTAMP NOT NULL,
        duration_us BIGINT NOT NULL,
        engaged BOOLEAN NOT NULL,
        escalated_at TIMESTAMP,
        transfer_requests INTEGER NOT NULL,
        support_type VARCHAR NOT NULL,
        closed_at TIMESTAMP,
        department VARCHAR,
        closed_by VARCHAR,
        first_response_at TIMESTAMP,
        resolution_us BIGINT,
        customer_messages INTEGER NOT NULL,
        chatbot_messages INTEGER NOT NULL,
        teammate_messages INTEGER NOT NULL
    );
    CREATE TABLE conversation_teammates (
        workspace VARCHAR NOT NULL,
        channel VARCHAR NOT NULL,
        customer_id VARCHAR NOT NULL,
        conversation_id VARCHAR NOT NULL,
        teammate_id VARCHAR NOT NULL
    );
    CREATE TABLE orphan_closes (
        workspace VARCHAR NOT NULL,
        channel VARCHAR NOT NULL,
        customer_id VARCHAR NOT NULL,
        event_id VARCHAR NOT NULL,
        ts TIMESTAMP NOT NULL
    );
    """,
    """
    ALTER TABLE workspaces ADD COLUMN business_hours VARCHAR;
    CREATE TABLE users (
        email VARCHAR PRIMARY KEY,
        workspace VARCHAR NOT NULL,
        role VARCHAR NOT NULL,
        password_hash VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
    );
    CREATE TABLE api_keys (
        key_id VARCHAR PRIMARY KEY,
        workspace VARCHAR NOT NULL,
        name VARCHAR,
        key_hash VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
        revoked_at TIMESTAMP
    );
    CREATE TABLE sessions (
        token_hash VARCHAR PRIMARY KEY,
        email VARCHAR NOT NULL,
        expires_at TIMESTAMP NOT NULL
    );
    """,
    """
    ALTER TABLE workspaces ADD COLUMN whatsapp_app_secret VARCHAR;
    ALTER TABLE workspaces ADD COLUMN whatsapp_verify_token VARCHAR;
    """,
    """
    ALTER TABLE api_keys ADD COLUMN scope VARCHAR NOT NULL DEFAULT 'admin';
    """,
    """
    CREATE TABLE whatsapp_numbers (
        phone_number_id VARCHAR PRIMARY KEY,
        workspace VARCHAR NOT NULL
    );
    """,
    """
    ALTER TABLE events ADD COLUMN score TINYINT;
    ALTER TABLE workspaces ADD COLUMN csat_window_seconds INTEGER NOT NULL DEFAULT 604800;
    CREATE TABLE surveys (
        workspace VARCHAR NOT NULL,
        channel VARCHAR NOT NULL,
        customer_id VARCHAR NOT NULL,
        event_id VARCHAR NOT NULL,
        ts TIMESTAMP NOT NULL,
        score TINYINT NOT NULL,
        conversation_id VARCHAR
    );
    ALTER TABLE conversations ADD COLUMN first_responder VARCHAR;
    ALTER TABLE conversations ADD COLUMN initial_response_from TIMESTAMP;
    ALTER TABLE conversations ADD COLUMN initial_response_us BIGINT;
    CREATE TABLE response_waits (
        workspace VARCHAR NOT NULL,
        channel VARCHAR NOT NULL,
        customer_id VARCHAR NOT NULL,
        conversation_id VARCHAR NOT NULL,
        waited_from TIMESTAMP NOT NULL,
        answered_at TIMESTAMP NOT NULL,
        teammate_id VARCHAR NOT NULL,
        response_us BIGINT NOT NULL
    );
    """,
    """
    ALTER TABLE conversations ADD COLUMN last_responder VARCHAR;
    ALTER TABLE conversations ADD COLUMN transferred BOOLEAN;
    CREATE TABLE conversation_events (
        workspace VARCHAR NOT NULL,
        channel VARCHAR NOT NULL,
        customer_id VARCHAR NOT NULL,
        conversation_id VARCHAR NOT NULL,
        ts TIMESTAMP NOT NULL,
        type VARCHAR NOT NULL,
        sender VARCHAR,
        teammate_id VARCHAR
    );
    """,
    # Rewritten rather than altered: DuckDB refuses an index over columns updated in the same
    # transaction. (Adding a column to an indexed table works; dropping one does not.)
    f"""
    CREATE TABLE events_v8 (
        workspace VARCHAR NOT NULL,
        event_id VARCHAR NOT NULL,
        seq BIGINT NOT NULL,
        ts TIMESTAMP NOT NULL,
        channel VARCHAR NOT NULL,
        customer_id VARCHAR NOT NULL,
        type VARCHAR NOT NULL,
        sender VARCHAR,
        teammate_id VARCHAR,
        welcome BOOLEAN NOT NULL,
        department VARCHAR,
        score TINYINT,
        thread_key UBIGINT NOT NULL,
        event_key UBIGINT NOT NULL
    );
    INSERT INTO events_v8 SELECT *, {thread_key()}, {event_key()} FROM events ORDER BY seq;
    DROP TABLE events;
    ALTER TABLE events_v8 RENAME TO events;
    CREATE INDEX events_thread_key ON events (thread_key);
    CREATE INDEX events_event_key ON events (event_key);
    """
    + "".join(
        f"""
    ALTER TABLE {table} ADD COLUMN thread_key UBIGINT;
    """
        for table in (
            "conversations",
            "conversation_teammates",
            "orphan_closes",
            "surveys",
            "response_waits",
            "conversation_events",
        )
    ),
    # Each conversation's teammates as a list (what the teammate filter and the teammates
    # involved read, without a join), and the rollups, filled from the derived tables (no
    # re-cut needed).
    """
    ALTER TABLE conversations ADD COLUMN teammates VARCHAR[];
    UPDATE conversations AS c SET teammates = t.teammates
    FROM (SELECT workspace, conversation_id, list_sort(list(DISTINCT teammate_id)) AS teammates
          FROM conversation_teammates GROUP BY ALL) AS t
    WHERE t.workspace = c.workspace AND t.conversation_id = c.conversation_id;
    UPDATE conversations SET teammates = [] WHERE teammates IS NULL;
    """
    + """
    CREATE TABLE event_slots (
        workspace VARCHAR NOT NULL, slot TIMESTAMP NOT NULL, channel VARCHAR NOT NULL,
        department VARCHAR, teammate_messages BIGINT NOT NULL, chatbot_messages BIGINT NOT NULL,
        customer_messages BIGINT NOT NULL, transfer_requests BIGINT NOT NULL
    );
    CREATE TABLE conversation_slots (
        workspace VARCHAR NOT NULL, slot TIMESTAMP NOT NULL, channel VARCHAR NOT NULL,
        department VARCHAR, conversations BIGINT NOT NULL, teammate_supported BIGINT NOT NULL,
        chatbot_supported BIGINT NOT NULL, engaged BIGINT NOT NULL,
        engaged_teammate BIGINT NOT NULL, engaged_chatbot BIGINT NOT NULL,
        engaged_duration_us BIGINT NOT NULL, engaged_teammate_duration_us BIGINT NOT NULL,
        engaged_chatbot_duration_us BIGINT NOT NULL, engaged_ends BIGINT NOT NULL
    );
    """
    # Filled by the rollups' current definition: when a later migration changes a rollup, it
    # rebuilds (DERIVED_MIGRATIONS) rather than relying on this fill.
    + "".join(rollups.fill(r) for r in rollups.ROLLUPS),
    # The chatbot's flows, fallbacks and surveys' subject (SPEC sections 1 and 7), the flow
    # catalogue setting, and the facts of Chatbot Performance (a rebuild fills them). Written
    # to run on a file that already has some of it (a test's stand-in for an older file).
    """
    ALTER TABLE events ADD COLUMN IF NOT EXISTS flow VARCHAR;
    ALTER TABLE events ADD COLUMN IF NOT EXISTS flow_type VARCHAR;
    ALTER TABLE events ADD COLUMN IF NOT EXISTS step VARCHAR;
    ALTER TABLE events ADD COLUMN IF NOT EXISTS flow_end BOOLEAN DEFAULT false;
    ALTER TABLE events ADD COLUMN IF NOT EXISTS fallback BOOLEAN DEFAULT false;
    ALTER TABLE events ADD COLUMN IF NOT EXISTS about VARCHAR;
    ALTER TABLE workspaces ADD COLUMN IF NOT EXISTS flow_types VARCHAR;
    ALTER TABLE conversations ADD COLUMN IF NOT EXISTS bot_involved BOOLEAN;
    ALTER TABLE conversations ADD COLUMN IF NOT EXISTS bot_messages INTEGER;
    ALTER TABLE conversations ADD COLUMN IF NOT EXISTS bot_fallbacks INTEGER;
    ALTER TABLE conversations ADD COLUMN IF NOT EXISTS bot_duration_us BIGINT;
    ALTER TABLE conversations ADD COLUMN IF NOT EXISTS flows_entered INTEGER;
    ALTER TABLE conversations ADD COLUMN IF NOT EXISTS first_flow VARCHAR;
    ALTER TABLE conversations ADD COLUMN IF NOT EXISTS first_flow_sent_type VARCHAR;
    ALTER TABLE conversations ADD COLUMN IF NOT EXISTS last_flow VARCHAR;
    ALTER TABLE conversations ADD COLUMN IF NOT EXISTS bot_outcome VARCHAR;
    ALTER TABLE surveys ADD COLUMN IF NOT EXISTS about VARCHAR;
    ALTER TABLE conversation_events ADD COLUMN IF NOT EXISTS bot_phase BOOLEAN;
    ALTER TABLE conversation_events ADD COLUMN IF NOT EXISTS fallback BOOLEAN;
    CREATE TABLE IF NOT EXISTS conversation_flows (
        workspace VARCHAR NOT NULL,
        channel VARCHAR NOT NULL,
        customer_id VARCHAR NOT NULL,
        conversation_id VARCHAR NOT NULL,
        flow VARCHAR NOT NULL,
        started_at TIMESTAMP NOT NULL,
        sent_type VARCHAR,
        completed BOOLEAN NOT NULL,
        first_at TIMESTAMP NOT NULL,
        last_at TIMESTAMP NOT NULL,
        last_step VARCHAR,
        fallbacks INTEGER NOT NULL,
        thread_key UBIGINT
    );
    """,
    # Landing and deriving decoupled: the derived tables' watermark (`tables.DERIVATION`);
    # everything stored so far was derived in the transaction that stored it.
    """
    CREATE TABLE derivation (derived_seq BIGINT NOT NULL);
    INSERT INTO derivation SELECT coalesce(max(seq), 0) FROM events;
    """,
    # Sales Attribution (SPEC section 8): the commerce events' fields, the messages' ids and
    # welcome flag beside their conversation, the commerce table, the attribution window and
    # the Shopify adapter's settings (a rebuild fills the derived parts). Written, like
    # version 10's, to run on a test's stand-in for an older file.
    """
    ALTER TABLE events ADD COLUMN IF NOT EXISTS customer_ref VARCHAR;
    ALTER TABLE events ADD COLUMN IF NOT EXISTS order_id VARCHAR;
    ALTER TABLE events ADD COLUMN IF NOT EXISTS amount VARCHAR;
    ALTER TABLE events ADD COLUMN IF NOT EXISTS currency VARCHAR;
    ALTER TABLE events ADD COLUMN IF NOT EXISTS source VARCHAR;
    ALTER TABLE events ADD COLUMN IF NOT EXISTS test BOOLEAN DEFAULT false;
    ALTER TABLE conversation_events ADD COLUMN IF NOT EXISTS event_id VARCHAR;
    ALTER TABLE conversation_events ADD COLUMN IF NOT EXISTS welcome BOOLEAN;
    CREATE TABLE IF NOT EXISTS commerce (
        workspace VARCHAR NOT NULL,
        channel VARCHAR,
        customer_id VARCHAR,
        event_id VARCHAR NOT NULL,
        seq BIGINT NOT NULL,
        ts TIMESTAMP NOT NULL,
        type VARCHAR NOT NULL,
        customer_ref VARCHAR,
        order_id VARCHAR,
        amount DECIMAL(18,4),
        amount_scale INTEGER,
        currency VARCHAR,
        source VARCHAR,
        test BOOLEAN,
        thread_key UBIGINT
    );
    ALTER TABLE workspaces
        ADD COLUMN IF NOT EXISTS attribution_window_seconds INTEGER DEFAULT 1209600;
    ALTER TABLE workspaces ADD COLUMN IF NOT EXISTS shopify_secret VARCHAR;
    CREATE TABLE IF NOT EXISTS shopify_shops (
        shop_domain VARCHAR PRIMARY KEY,
        workspace VARCHAR NOT NULL
    );
    """,
    # 13: a user may belong to several workspaces (a role in each); a user's own row keeps the
    # workspace they sign in to first, and a session the workspace it shows. Teammates' display
    # names, where a platform gives them.
    """
    CREATE TABLE teammate_names (
        workspace VARCHAR NOT NULL,
        teammate_id VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        PRIMARY KEY (workspace, teammate_id)
    );
    CREATE TABLE memberships (
        email VARCHAR NOT NULL,
        workspace VARCHAR NOT NULL,
        role VARCHAR NOT NULL,
        PRIMARY KEY (email, workspace)
    );
    INSERT INTO memberships SELECT email, workspace, role FROM users;
    ALTER TABLE users DROP COLUMN role;
    ALTER TABLE sessions ADD COLUMN workspace VARCHAR;
    UPDATE sessions SET workspace = u.workspace FROM users u WHERE u.email = sessions.email;
    """,
)
# Migrations that add derived facts: a database that had events before one of them ran must be
# rebuilt (`Store.derived_outdated`, kept in `meta` until a rebuild commits, so that an
# interrupted rebuild is done again), or the new facts stay empty for its old conversations.
DERIVED_MIGRATIONS = frozenset({6, 7, 8, 10, 12})
assert len(MIGRATIONS) == SCHEMA_VERSION
DERIVED_TABLES = tuple(t.name for t in tables.DERIVED)
ROLLUP_TABLES = tuple(t.name for t in tables.ROLLUPS)
