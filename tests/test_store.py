"""The database file: where it lives, schema versions and migrations, accepted data kept."""

from __future__ import annotations

import duckdb
import pytest
from helpers import Script, at, convs, load

from convoscope import ingest
from convoscope.store import ROLLUP_TABLES, SCHEMA_VERSION, Store, database, default_db_path, tables
from convoscope.store.database import bound
from convoscope.store.schema import MIGRATIONS


def test_default_location_and_override(monkeypatch, tmp_path):
    monkeypatch.delenv("CONVOSCOPE_DB", raising=False)
    assert default_db_path().name == "convoscope.duckdb"
    assert "convoscope" in str(default_db_path().parent)
    monkeypatch.setenv("CONVOSCOPE_DB", str(tmp_path / "x.duckdb"))
    assert default_db_path() == tmp_path / "x.duckdb"


def test_a_version_1_file_is_migrated_with_its_data(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute(MIGRATIONS[0])
    con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    con.execute("INSERT INTO workspaces (name, timezone) VALUES ('w', 'America/Toronto')")
    con.close()
    with Store(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.workspace("w").business_hours is None
        load(store, Script().customer_msg(at(0)).events)
    with Store(path) as store:  # reopened: nothing lost, nothing migrated twice
        assert store.schema_version() == SCHEMA_VERSION and len(convs(store)) == 1


def test_a_newer_file_is_refused(tmp_path):
    path = tmp_path / "new.duckdb"
    with Store(path) as store:
        store.con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(RuntimeError, match="newer than this convoscope"):
        Store(path)


def test_a_version_6_file_gets_its_new_facts_when_the_cli_opens_it(tmp_path):
    from convoscope.cli.common import open_store

    path = tmp_path / "v6.duckdb"
    con = duckdb.connect(str(path))  # a file as version 6 left it, with one thread's events
    con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    for migration in MIGRATIONS[:6]:
        con.execute(migration)
    con.execute("INSERT INTO meta VALUES ('schema_version', '6')")
    con.execute("INSERT INTO workspaces (name, timezone) VALUES ('w', 'America/Toronto')")
    con.execute(  # a derived row of version 6 (no thread key): the rebuild replaces it
        "INSERT INTO conversation_teammates VALUES ('w', 'web_chat', 'c1', 'e0', 'ana')"
    )
    for seq, (kind, sender, teammate) in enumerate(
        [
            ("message", "customer", None),
            ("transfer_request", None, None),
            ("message", "teammate", "ana"),
        ]
    ):
        con.execute(
            "INSERT INTO events (workspace, event_id, seq, ts, channel, customer_id, type, sender,"
            " teammate_id, welcome) VALUES ('w', ?, ?, TIMESTAMP '2026-11-10 15:00:00' + ?"
            " * INTERVAL 1 MINUTE, 'web_chat', 'c1', ?, ?, ?, false)",
            [f"e{seq}", seq + 1, seq, kind, sender, teammate],
        )
    con.close()
    with Store(path) as store:  # migrated, then closed before the rebuild (a crash, say)
        assert store.derived_outdated
    with open_store(path) as store:  # so the next open still rebuilds
        assert store.schema_version() == SCHEMA_VERSION
        (c,) = convs(store)
        assert c["transferred"] is True and c["last_responder"] == "ana"
        assert store.con.execute("SELECT count(*) FROM conversation_events").fetchall() == [(3,)]
        assert store.con.execute("SELECT count(*) FROM conversation_teammates").fetchall() == [(1,)]
        load(store, Script().customer_msg(at(3)).events)  # the thread keys of old events work
        assert len(convs(store)) == 1
    with Store(path) as store:
        assert not store.derived_outdated  # rebuilt once, not at every start


def test_erasing_a_customer_leaves_no_row_of_theirs_in_any_table(store):
    s = Script("gone", "web_chat").customer_msg(at(0)).transfer(at(1)).teammate(at(2), "amy")
    s.customer_msg(at(3)).teammate(at(4), "amy").close(at(5), "Returns", "amy").csat(at(6), 4)
    load(store, s.events + Script("stays").customer_msg(at(0)).events)
    ingest.erase_customer(store, "w", "gone")
    tables = [
        r[0]
        for r in store.con.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'customer_id'"
        ).fetchall()
    ]
    assert "conversation_events" in tables and "events" in tables
    for table in tables:
        rows = store.con.execute(f"SELECT customer_id FROM {table}").fetchall()
        assert ("gone",) not in rows, table
    assert store.con.execute("SELECT count(*) FROM events").fetchall() == [(1,)]


def test_a_version_8_file_gets_its_rollups_from_its_conversations(tmp_path):
    path = tmp_path / "v8.duckdb"
    s = Script("c1", "web_chat").customer_msg(at(0)).transfer(at(1)).teammate(at(2), "amy")
    s.customer_msg(at(3)).close(at(5), "Returns", "amy")
    with Store(path) as store:
        store.ensure_workspace("w")
        load(store, s.events + Script("c2").customer_msg(at(0)).events)
        expected = [
            store.con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in ROLLUP_TABLES
        ]
        for table in ROLLUP_TABLES:  # as version 8 left the file
            store.con.execute(f"DROP TABLE {table}")
        store.con.execute("ALTER TABLE conversations DROP COLUMN teammates")
        store.con.execute("DROP TABLE derivation")
        store.con.execute("DROP TABLE memberships")  # version 13's
        store.con.execute("DROP TABLE teammate_names")
        store.con.execute("ALTER TABLE users ADD COLUMN role VARCHAR")
        store.con.execute("ALTER TABLE sessions DROP COLUMN workspace")
        store.con.execute("UPDATE meta SET value = '8' WHERE key = 'schema_version'")
    with Store(path) as store:
        # filled from the derived tables by migration 9, before any re-cut (version 10's
        # chatbot facts ask for one, which the CLI and the server run when they open it)
        assert store.derived_outdated
        rows = [
            store.con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in ROLLUP_TABLES
        ]
        teammates = store.con.execute(
            "SELECT customer_id, teammates FROM conversations ORDER BY 1"
        ).fetchall()
    assert rows == expected and all(rows)
    assert teammates == [("c1", ["amy"]), ("c2", [])]


def _described(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """A database's schema as data: columns in order with types, nullability and defaults,
    keys and indexes."""
    return {
        "columns": con.execute(
            "SELECT table_name, column_index, column_name, data_type, is_nullable, "
            "column_default FROM duckdb_columns() WHERE NOT internal ORDER BY ALL"
        ).fetchall(),
        "keys": con.execute(
            "SELECT table_name, constraint_type, constraint_column_names FROM "
            "duckdb_constraints() WHERE constraint_type IN ('PRIMARY KEY', 'UNIQUE') "
            "ORDER BY ALL"
        ).fetchall(),
        "indexes": con.execute(
            "SELECT index_name, table_name, expressions FROM duckdb_indexes() ORDER BY ALL"
        ).fetchall(),
    }


def test_the_migrations_reach_the_declared_schema(tmp_path):
    """A file migrated from version 0 and a new file (made from `tables`) are alike."""
    old = duckdb.connect(str(tmp_path / "migrated.duckdb"))
    old.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    for migration in MIGRATIONS:
        old.execute(migration)
    with Store(tmp_path / "new.duckdb") as store:
        assert _described(old) == _described(store.con)
        assert set(tables.TABLES) == {r[0] for r in _described(store.con)["columns"]}


def test_a_workspace_is_read_once_and_read_again_when_it_changes(tmp_path):
    """Every request reads its workspace's settings: kept after the first read (no statement
    runs for the second), replaced by the changed ones as soon as this store changes them,
    and never kept from a read that a change overtook."""
    with Store(tmp_path / "w.duckdb") as store:
        first = store.ensure_workspace("shop", "America/Toronto")
        kept = store.workspace("shop")
        assert kept == first and store.workspace("shop") is kept
        changed = store.update_workspace("shop", timezone="Europe/Paris")
        assert changed.timezone == "Europe/Paris"
        assert store.workspace("shop") == changed
        assert store.workspace("nowhere") is None
        store.ensure_workspace("nowhere")
        assert store.workspace("nowhere") is not None
        # a workspace made in a transaction that is rolled back is not kept (a rejected file
        # creates none)
        with pytest.raises(RuntimeError), store.transaction():
            assert store.ensure_workspace("ghost").name == "ghost"
            raise RuntimeError
        assert store.workspace("ghost") is None
        # a read that a change overtakes gives what it read, and keeps nothing
        read = store._read_workspace

        def overtaken(name: str):
            found = read(name)
            store._read_workspace = read  # type: ignore[method-assign]
            store.update_workspace(name, timezone="Asia/Tokyo")
            return found

        store._kept_workspaces.clear()
        store._read_workspace = overtaken  # type: ignore[method-assign]
        assert store.workspace("shop").timezone == "Europe/Paris"
        assert store.workspace("shop").timezone == "Asia/Tokyo"


@pytest.mark.parametrize("given", [None, "512MB"])
def test_a_bulk_job_lifts_the_default_memory_cap_only_while_it_runs(tmp_path, monkeypatch, given):
    # the default cap (1 GB) is a server's; a foreground bulk job lets DuckDB size its memory
    # itself, unless CONVOSCOPE_MEMORY_LIMIT says otherwise, which then holds throughout
    if given is None:
        monkeypatch.delenv("CONVOSCOPE_MEMORY_LIMIT", raising=False)
    else:
        monkeypatch.setenv("CONVOSCOPE_MEMORY_LIMIT", given)
    setting = "SELECT current_setting('memory_limit')"
    duckdb_default = duckdb.connect().execute(setting).fetchall()
    with Store(tmp_path / "m.duckdb") as store:
        capped = store.con.execute(setting).fetchall()
        with store.bulk_memory():
            during = store.con.execute(setting).fetchall()
        after = store.con.execute(setting).fetchall()
    assert capped == after == [("488.2 MiB",) if given else ("953.6 MiB",)]
    assert during == (capped if given else duckdb_default)
    assert duckdb_default != capped


def test_a_statement_is_given_the_parameters_it_names_only():
    """Statements share one parameter set (`scope`) and DuckDB refuses a parameter a statement
    does not name: `bound` keeps the ones DuckDB's parser finds, through the connection at hand
    (a `$name` in a string or a comment is none)."""
    con = duckdb.connect()
    sql = "SELECT $a + $b AS s, '$c' AS text -- $d"
    assert bound(con, sql, {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}) == {"a": 1, "b": 2}
    assert con.execute(sql, bound(con, sql, {"a": 1, "b": 2, "c": 3})).fetchall() == [(3, "$c")]
    assert bound(con, "SELECT 1", {"a": 1}) == {}


def test_the_statements_parameter_names_stay_bounded(monkeypatch):
    """Past `_KEPT_STATEMENTS` texts the table starts over: statements built with values in
    their text (none today) could not grow a server's memory."""
    monkeypatch.setattr(database, "_KEPT_STATEMENTS", 3)
    monkeypatch.setattr(database, "_PARAMETERS", {})
    con = duckdb.connect()
    for n in range(10):
        assert bound(con, f"SELECT $a + {n}", {"a": 1, "b": 2}) == {"a": 1}
        assert len(database._PARAMETERS) <= 3
