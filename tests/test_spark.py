"""The cut of SPEC section 2 on Apache Spark, for real (local mode), against DuckDB.

One Spark session serves the module, started under hostile settings: the JVM, the session and
this Python process all in America/Toronto. `convoscope.spark.pin` must undo them. Every
hand-worked scenario of `tests/test_conversations.py` is replayed, then its events are cut
again on Spark by the same statements (transpiled), with ANSI mode on and off and event times
given zone-less (NTZ) and as instants (LTZ); every derived row must be equal. Run alone with
`pytest -m spark`.
"""

from __future__ import annotations

import inspect
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pytest
import test_conversations as core
from conftest import Script, load
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyspark.sql import SparkSession
from test_properties import scripts

from convoscope import spark as engine
from convoscope.store import DERIVED_TABLES, Store

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]
HOSTILE_ZONE = "America/Toronto"
SCENARIOS = [
    name
    for name, fn in vars(core).items()
    if name.startswith("test_") and list(inspect.signature(fn).parameters) == ["store"]
]


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    previous = os.environ.get("TZ")
    os.environ["TZ"] = HOSTILE_ZONE
    time.tzset()
    session = (
        SparkSession.builder.master("local[1]")
        .appName("convoscope-tests")
        .config("spark.sql.session.timeZone", HOSTILE_ZONE)
        .config("spark.driver.extraJavaOptions", f"-Duser.timezone={HOSTILE_ZONE}")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    try:
        yield session
    finally:
        session.stop()
        if previous is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = previous
        time.tzset()


@dataclass
class Cut:
    """Stores' events, workspaces and DuckDB's derived rows, each store's workspace renamed
    (scenarios all use "w"; the cut partitions by workspace, so one Spark pass cuts them all)."""

    events: list[pa.Table] = field(default_factory=list)
    workspaces: list[pa.Table] = field(default_factory=list)
    derived: dict[str, list[tuple]] = field(default_factory=dict)
    columns: dict[str, list[str]] = field(default_factory=dict)

    def add(self, store: Store, name: str) -> None:
        rename = {"name": name}
        self.events.append(
            store.con.sql(
                "SELECT * REPLACE ($name AS workspace, CAST(thread_key AS VARCHAR) AS thread_key,"
                " CAST(event_key AS VARCHAR) AS event_key) FROM events",
                params=rename,
            ).to_arrow_table()
        )
        self.workspaces.append(
            store.con.sql(
                "SELECT $name AS name, inactivity_seconds, escalated_inactivity_seconds, "
                "csat_window_seconds FROM workspaces",
                params=rename,
            ).to_arrow_table()
        )
        for table in DERIVED_TABLES:
            rows = store.con.execute(
                f"SELECT * REPLACE ($name AS workspace, CAST(thread_key AS VARCHAR) AS thread_key)"
                f" FROM {table}",
                rename,
            ).fetchall()
            self.derived[table] = sorted(self.derived.get(table, []) + rows, key=repr)
        self.columns = {
            table: [d[0] for d in store.con.sql(f"SELECT * FROM {table} LIMIT 0").description]
            for table in DERIVED_TABLES
        }

    def on_spark(self, spark: SparkSession, *, zoned: bool) -> dict[str, list[tuple]]:
        """The same tables cut by Spark, event times zone-less (NTZ) or as instants (LTZ)."""
        events = pa.concat_tables(self.events)
        if zoned:
            ts = events.column("ts").cast(pa.timestamp("us", "UTC"))
            events = events.set_column(events.schema.get_field_index("ts"), "ts", ts)
        derived = engine.derive(
            spark,
            engine.frame(spark, events),
            engine.frame(spark, pa.concat_tables(self.workspaces)),
        )
        return {
            table: sorted(
                (tuple(_plain(v) for v in row) for row in frame.select(*cols).collect()),
                key=repr,
            )
            for table, cols in self.columns.items()
            for frame in [derived[table]]
        }


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, list | tuple) else value


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory) -> Cut:
    """Every hand-worked scenario of the core, run on DuckDB (its own assertions included)."""
    cut = Cut()
    for name in SCENARIOS:
        with Store(tmp_path_factory.mktemp("scenario") / "s.duckdb") as store:
            store.ensure_workspace("w", "America/Toronto")
            getattr(core, name)(store)
            cut.add(store, name)
    return cut


@pytest.mark.parametrize(("ansi", "zoned"), [(True, False), (False, True), (True, True)])
def test_hand_worked_scenarios_cut_alike_on_spark(spark, scenarios, ansi, zoned):
    spark.conf.set("spark.sql.ansi.enabled", str(ansi).lower())
    assert scenarios.on_spark(spark, zoned=zoned) == scenarios.derived


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(scripts(), min_size=1, max_size=4), st.booleans(), st.booleans())
def test_random_scripts_cut_alike_on_spark(spark, tmp_path_factory, batch, ansi, zoned):
    """A Hypothesis sample of random scripts (`test_properties.scripts`), several per pass."""
    cut = Cut()
    for i, events in enumerate(batch):
        with Store(tmp_path_factory.mktemp("random") / "r.duckdb") as store:
            store.ensure_workspace("w", "America/Toronto")
            load(store, events)
            cut.add(store, f"w{i}")
    spark.conf.set("spark.sql.ansi.enabled", str(ansi).lower())
    assert cut.on_spark(spark, zoned=zoned) == cut.derived


def dst_script() -> list[dict[str, Any]]:
    """An escalated conversation whose next message comes exactly 24 real hours later, across
    Toronto's spring-forward (2026-03-08): 25 hours on Toronto's clocks."""
    s = Script()
    s.customer_msg("2026-03-07T12:00:00-05:00").transfer("2026-03-07T12:01:00-05:00")
    s.customer_msg("2026-03-08T13:01:00-04:00")
    return s.events


def test_the_pins_keep_a_real_day_across_spring_forward_one_conversation(spark, tmp_path):
    with Store(tmp_path / "dst.duckdb") as store:
        store.ensure_workspace("w", "America/Toronto")
        load(store, dst_script())
        # 24 real hours are not more than the escalated limit: one conversation.
        assert store.con.execute("SELECT count(*) FROM conversations").fetchall() == [(1,)]
        # Without the pins (zoned timestamps in a Toronto session, as a cluster's JVM would
        # have it), Spark counts that gap on local clocks: 25 hours, more than the limit.
        spark.conf.set("spark.sql.session.timeZone", HOSTILE_ZONE)
        spark.conf.set("spark.sql.timestampType", "TIMESTAMP_LTZ")
        gap = spark.sql(
            "SELECT DATEDIFF(MICROSECOND, TIMESTAMP'2026-03-07 12:01:00', "
            "TIMESTAMP'2026-03-08 13:01:00') AS us"
        ).first()
        assert gap is not None and gap.us == 25 * 3600 * 1_000_000
        cut = Cut()
        cut.add(store, "w")
        assert cut.on_spark(spark, zoned=True) == cut.derived  # `derive` pins the session
        assert spark.conf.get("spark.sql.session.timeZone") == "UTC"


def test_a_session_that_refuses_a_pin_is_an_error():
    class Stubborn:  # e.g. a Connect server whose administrator fixed the zone
        def set(self, key: str, value: str) -> None:
            pass

        def get(self, key: str) -> str:
            return HOSTILE_ZONE

    class Session:
        conf = Stubborn()

    with pytest.raises(engine.SparkSettingError, match="timeZone"):
        engine.pin(Session())  # type: ignore[arg-type]
