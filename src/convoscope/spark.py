"""Apache Spark: a session pinned so that the shared SQL means on Spark what it means on DuckDB,
and the cut of SPEC section 2 run there from the very statements of `conversations`.

Two Spark defaults change numbers silently (measured; see issue 12): `DATEDIFF(MICROSECOND,
a, b)` counts local clock time in the session zone, so across a DST change a real 24 hours
counts 25 and the cut moves; and zone-less Python datetimes are read in the Python process's
zone. `pin` therefore sets and then asserts a UTC session computing on zone-less timestamps,
on whatever session it is given (local, a cluster, Spark Connect), and `derive` reads event
times as UTC instants whether they come zone-less (NTZ) or with a zone (LTZ).

PySpark is an optional dependency (`pip install 'convoscope[spark]'`): only this module and
the commands that use it import it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from convoscope import conversations

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

PINS = {"spark.sql.session.timeZone": "UTC", "spark.sql.timestampType": "TIMESTAMP_NTZ"}
MASTER_ENV, REMOTE_ENV = "CONVOSCOPE_SPARK_MASTER", "CONVOSCOPE_SPARK_REMOTE"

# The cut's statements in the order they build on each other: each result becomes a view of
# its name for the next (`assigned` feeds the rest; surveys read `derived_conversations`).
STATEMENTS = (
    ("assigned", conversations.ASSIGN_SQL),
    ("derived_conversations", conversations.CONVERSATIONS_SQL),
    ("conversation_teammates", conversations.TEAMMATES_SQL),
    ("orphan_closes", conversations.ORPHANS_SQL),
    ("surveys", conversations.SURVEYS_SQL),
    ("response_waits", conversations.WAITS_SQL),
    ("conversation_events", conversations.EVENTS_SQL),
)


class SparkSettingError(RuntimeError):
    """A session that refused a pin (e.g. a Connect server that forbids setting it)."""


def pin(session: SparkSession) -> SparkSession:
    """Set and check the settings the shared SQL relies on; returns the session."""
    for key, value in PINS.items():
        session.conf.set(key, value)
    for key, value in PINS.items():
        actual = session.conf.get(key)
        if actual != value:
            raise SparkSettingError(f"{key} is {actual!r} on this session, not {value!r}")
    return session


def session(master: str | None = None, remote: str | None = None) -> SparkSession:
    """A pinned session: Spark Connect at `remote` (or $CONVOSCOPE_SPARK_REMOTE), else a
    classic session on `master` (or $CONVOSCOPE_SPARK_MASTER, default `local[*]`)."""
    from pyspark.sql import SparkSession

    remote = remote or os.environ.get(REMOTE_ENV)
    builder = SparkSession.builder.appName("convoscope")
    if remote:
        builder = builder.remote(remote)
    else:
        builder = builder.master(master or os.environ.get(MASTER_ENV) or "local[*]")
    return pin(builder.getOrCreate())


def frame(session: SparkSession, table: pa.Table) -> DataFrame:
    """A DataFrame of an Arrow table, made in a pinned session: Spark reads zone-less Arrow
    timestamps in the session's zone when the session is not pinned yet, so a frame made
    before `pin` would carry shifted instants (measured: Toronto's five hours)."""
    return pin(session).createDataFrame(table)


def derive(session: SparkSession, events: DataFrame, workspaces: DataFrame) -> dict[str, DataFrame]:
    """Every derived table of the cut from `events` (the columns of the store's `events`,
    every thread whole; `ts` zone-less or an instant) and `workspaces` (name and limits), by
    the statements of `conversations` transpiled to Spark SQL. Keys are the store's table
    names (plus `assigned`, each event with its conversation)."""
    pin(session)
    from pyspark.sql import functions as F

    events.withColumn("ts", F.col("ts").cast("timestamp_ntz")).createOrReplaceTempView(
        "thread_events"
    )
    workspaces.createOrReplaceTempView("workspaces")
    out: dict[str, DataFrame] = {}
    for name, statement in STATEMENTS:
        frame = session.sql(conversations.sql(statement, "spark")).localCheckpoint()
        frame.createOrReplaceTempView(name)
        out["conversations" if name == "derived_conversations" else name] = frame
    return out
