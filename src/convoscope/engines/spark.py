"""Apache Spark: a session pinned so that the shared SQL means on Spark what it means on DuckDB,
the cut of SPEC section 2 run there from the very statements of `conversations` over a lake
(`sessionize`), and `SparkEngine`, the pages' statements on the lake's derived tables.

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

import hashlib
import json
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cache
from pathlib import PurePath, PurePosixPath
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar
from urllib.parse import unquote, urlparse

from convoscope import conversations, rollups
from convoscope.engines import dialects
from convoscope.engines.base import EngineError, Frame, LakeOptions, Row
from convoscope.engines.hadoop import on_hadoop
from convoscope.event_fields import (
    BOOLEAN_FIELDS,
    CONTENT_FIELDS,
    FIRST_YEAR,
    LAST_YEAR,
    LIMITS,
    RFC3339_PATTERN,
    department_sql,
    value_rule,
)
from convoscope.events import RULES
from convoscope.lake import (
    CHANNELS_SQL,
    DAY_OF,
    DEFAULTS,
    PARTITIONS,
    EventFile,
    Lake,
    LakeError,
    Manifest,
    Part,
    event_files,
    underived,
)
from convoscope.store import DERIVED_TABLES, ROLLUP_TABLES, SCHEMA_VERSION, Workspace
from convoscope.store.tables import TABLES

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import Column, DataFrame, SparkSession, WindowSpec

PINS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    # partition values as written (a workspace "007" stays "007")
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
}
MASTER_ENV, REMOTE_ENV = "CONVOSCOPE_SPARK_MASTER", "CONVOSCOPE_SPARK_REMOTE"
# Settings of a classic session convoscope starts (static: they take effect only when its JVM
# starts; a Spark Connect server has its own). A run compiles 400-500 generated classes
# (Janino), many of them more than once, and Spark's default cache holds 100: with room for
# them, a run compiles about half as many and a second run in the same session almost none
# (measured on the tests' small lake, CodegenMetrics: an incremental run 510 -> 229
# compilations, again 502 -> 16; a full run again 388 -> 0, 9.6 -> 7.1 s).
BUILDER_SETTINGS: dict[str, Any] = {"spark.sql.codegen.cache.maxEntries": "2000"}
# Shuffle partitions per core of a local session convoscope starts when nothing set them:
# Spark's 200 are sized for a cluster, and on a machine's few cores every shuffle of a run
# then writes and reads 200 blocks per task (a 1M-event lake on `local[2]`, warm rounds of an
# incremental day: 28.5-32.8 s at 200, 20.1-27.7 s at 8, the same at 4 and 16; bench/README.md).
LOCAL_SHUFFLE_PER_CORE = 4
SHUFFLE_PARTITIONS = "spark.sql.shuffle.partitions"
SPARK_SHUFFLE_PARTITIONS = "200"  # Spark's default


class SparkSettingError(EngineError):
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
    builder = SparkSession.builder.appName("convoscope").config(
        "spark.ui.showConsoleProgress", "false"
    )
    if remote:
        return pin(builder.remote(remote).getOrCreate())
    master = master or os.environ.get(MASTER_ENV) or "local[*]"
    return _local_shuffle(pin(builder.master(master).config(map=BUILDER_SETTINGS).getOrCreate()))


def _local_shuffle(session: SparkSession) -> SparkSession:
    """A local session's shuffle partitions as a few per core (`LOCAL_SHUFFLE_PER_CORE`),
    unless they were set where Spark reads its configuration (`spark-defaults.conf`,
    `--conf`) or on the session already (an application that embeds convoscope and set them
    to other than Spark's default). A cluster's session keeps Spark's default or its own: its
    number of cores is the cluster's to size."""
    context = session.sparkContext
    local = (context.master or "").startswith("local")
    configured = context.getConf().contains(SHUFFLE_PARTITIONS) or (
        session.conf.get(SHUFFLE_PARTITIONS) != SPARK_SHUFFLE_PARTITIONS
    )
    if local and not configured:
        session.conf.set(
            SHUFFLE_PARTITIONS, str(LOCAL_SHUFFLE_PER_CORE * context.defaultParallelism)
        )
    return session


def frame(session: SparkSession, table: pa.Table) -> DataFrame:
    """A DataFrame of an Arrow table, made in a pinned session: Spark reads zone-less Arrow
    timestamps in the session's zone when the session is not pinned yet, so a frame made
    before `pin` would carry shifted instants (measured: Toronto's five hours)."""
    return pin(session).createDataFrame(table)


def kept(frame: DataFrame) -> DataFrame:
    """`frame` computed now and kept, its lineage cut (later statements do not recompute
    it): in the session's checkpoint directory when it has one (`sessionize` gives it one in
    the lake, which every executor sees, so an executor lost mid-run costs a retry, not the
    run), else on the executors (`localCheckpoint`: a Spark Connect session)."""
    try:
        has_directory = frame.sparkSession.sparkContext.getCheckpointDir() is not None
    except Exception:  # Spark Connect: no SparkContext on this side
        has_directory = False
    return frame.checkpoint(eager=True) if has_directory else frame.localCheckpoint()


_P = ParamSpec("_P")
_T = TypeVar("_T")


class _Threads(ThreadPoolExecutor):
    """A pool for a run's jobs at once: each task runs with the job group and the local
    properties of the thread that made the pool (pyspark's `inheritable_thread_target`), so
    that a run's jobs are cancelled and counted as one."""

    def __init__(self, session: SparkSession, workers: int):
        from pyspark.util import inheritable_thread_target

        super().__init__(workers)
        self._inherit = inheritable_thread_target(session)  # captured now, in this thread

    def submit(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_T]:
        return super().submit(self._inherit(fn), *args, **kwargs)


def derive(session: SparkSession, events: DataFrame, workspaces: DataFrame) -> dict[str, DataFrame]:
    """Every derived table of the cut from `events` (the columns of the store's `events`,
    every thread whole; `ts` zone-less or an instant) and `workspaces` (name and limits), by
    the statements of `conversations` transpiled to Spark SQL. Keys are the store's table
    names (plus `assigned`, each event with its conversation).

    Each statement's frame is kept (`kept`) in a thread of its own once the frames it reads
    are: of the ten, four steps deep, the independent ones overlap their jobs' planning and
    their files' writing instead of waiting in line."""
    pin(session)
    from pyspark.sql import functions as F

    events.withColumn("ts", F.col("ts").cast("timestamp_ntz")).createOrReplaceTempView(
        "thread_events"
    )
    workspaces.createOrReplaceTempView("workspaces")
    for name, _ in conversations.CUT:  # a statement reads this run's views, never a past run's
        session.catalog.dropTempView(name)
    made: dict[str, Future[DataFrame]] = {}

    def keep(name: str, sql: str, needs: list[Future[DataFrame]]) -> DataFrame:
        for need in needs:
            need.result()
        frame = kept(session.sql(statement(sql, {})))
        frame.createOrReplaceTempView(name)
        return frame

    with _Threads(session, len(conversations.CUT)) as pool:
        for name, sql in conversations.CUT:  # in order: a statement reads earlier ones only
            needs = [made[t] for t in sorted(dialects.tables_read(sql)) if t in made]
            made[name] = pool.submit(keep, name, sql, needs)
    return {
        "conversations" if name == "derived_conversations" else name: frame.result()
        for name, frame in made.items()
    }


class SparkEngine:
    """The statements of `overview` and `team` on Spark (`engine.Engine`), over the derived
    tables of a lake: each statement is transpiled from DuckDB's dialect by SQLGlot with its
    parameters bound as typed literals (timestamps as zone-less UTC, which the pins make
    mean the same on Spark; lists typed, `dialects.SPARK`). The tables are
    read from the lake's Parquet for one workspace (its partitions only), rollups included
    (a lake derived before they were has none: the rows answer)."""

    def __init__(self, session: SparkSession, lake: Lake, workspace: str):
        from pyspark.sql import functions as F

        self.session = pin(session)
        self.lake = lake = on_hadoop(self.session, lake)
        manifest = lake.manifest()  # one committed state for the whole report
        if manifest is None:
            raise LakeError(underived(lake))
        self.rollups = all(manifest.tables.get(t) for t in ROLLUP_TABLES)
        for table in (*DERIVED_TABLES, *ROLLUP_TABLES):
            frame = read_derived(self.session, lake, manifest, table)
            frame.where(F.col("workspace") == F.lit(workspace)).createOrReplaceTempView(table)

    def workspace(self, name: str) -> Workspace | None:
        return self.lake.workspace(name)

    def rows(self, sql: str, params: Mapping[str, Any]) -> list[Row]:
        return [row.asDict() for row in self.session.sql(statement(sql, params)).collect()]

    def channels(self, workspace: str) -> list[str]:
        return [r["channel"] for r in self.rows(CHANNELS_SQL, {"ws": workspace})]

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        yield  # the lake's files do not change under a report (sessionize runs apart)

    def register(self, name: str, table: Frame) -> None:
        frame(self.session, table.arrow()).createOrReplaceTempView(name)


@contextmanager
def open_lake(lake: Lake, workspace: str, options: LakeOptions) -> Iterator[SparkEngine]:
    """Spark over the lake's derived tables for one workspace (the session stays up for the
    process: starting one costs seconds)."""
    yield SparkEngine(session(options.master, options.remote), lake, workspace)


def statement(sql: str, params: Mapping[str, Any]) -> str:
    """`sql` (DuckDB's dialect, `$name` parameters) as Spark SQL with `params` bound."""
    return dialects.transpile(sql, params, dialects.SPARK)


# The columns of the lake's events: (name, Spark type, required). `ts` is read apart.
EVENT_COLUMNS = (
    ("workspace", "string", True),
    ("event_id", "string", True),
    ("channel", "string", False),  # required but on orders and refunds (`events.RULES`)
    ("customer_id", "string", False),
    ("type", "string", True),
    ("sender", "string", False),
    ("teammate_id", "string", False),
    ("welcome", "boolean", False),
    ("department", "string", False),
    ("score", "int", False),
    ("flow", "string", False),
    ("flow_type", "string", False),
    ("step", "string", False),
    ("flow_end", "boolean", False),
    ("fallback", "boolean", False),
    ("about", "string", False),
    ("customer_ref", "string", False),
    ("order_id", "string", False),
    ("amount", "string", False),  # a decimal string, or a DECIMAL column read as one
    ("currency", "string", False),
    ("source", "string", False),
    ("test", "boolean", False),
)


def literal_path(lake: Lake, path: PurePath) -> str:
    """A file of the lake for Spark's readers, which take paths as Hadoop glob patterns: its
    URI with the glob characters escaped, so that `x[1].parquet` names that file and not
    `x1.parquet`."""
    return re.sub(r"([\\\[\]{}*?])", r"\\\1", lake.uri(path))


def read_events(
    session: SparkSession, lake: Lake, files: list[EventFile], only: set[str] | None = None
) -> DataFrame:
    """The events of `files` (`lake.event_files`: all of the lake's, in arrival order), or
    of those among them whose relative path is in `only`, with the columns the cut reads:
    `ts` as a zone-less UTC instant, `seq` (arrival order on the lake: the file's rank among
    all files, then the row), `thread_key` (the lake's own hash of the thread), `file` (the
    file's path as Spark names it) and `source` (its path relative to the lake). Spark reads
    exactly those files: it lists no directory of its own."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType

    if not files:
        raise LakeError(f"{lake.events}: no event file (*.parquet) yet")
    ranked_files = [(i, f) for i, f in enumerate(files) if only is None or f.relative in only]
    # mergeSchema: files written over the years need not carry the same optional columns
    raw = session.read.option("mergeSchema", "true").parquet(
        *(literal_path(lake, f.path) for _, f in ranked_files)
    )
    names = {f.name: f.dataType for f in raw.schema.fields}
    if "ts" not in names:
        raise LakeError(f"{lake.events}: the events have no ts column")
    ts_text = F.lit(None).cast("string")
    if isinstance(names["ts"], StringType):
        ts_text = F.col("ts")  # parsed only when well formed: `check_events` names the others
        ts = F.when(
            ts_text.rlike(RFC3339_PATTERN), F.to_timestamp_ltz(ts_text).cast("timestamp_ntz")
        )
    else:
        ts = F.col("ts").cast("timestamp_ntz")  # an instant, in the pinned UTC session
    columns = [ts.alias("ts"), ts_text.alias("ts_text")]
    for name, kind, required in EVENT_COLUMNS:
        if name in names:
            columns.append(F.col(name).cast(kind).alias(name))
        elif required and name != "workspace":
            raise LakeError(f"{lake.events}: the events have no {name} column")
        else:
            columns.append(F.lit(False if kind == "boolean" else None).cast(kind).alias(name))
    events = raw.select(
        *columns,
        F.col("_metadata.file_path").alias("file"),
        F.col("_metadata.row_index").alias("row_index"),
    ).withColumns(
        {
            **{name: F.coalesce(F.col(name), F.lit(False)) for name in BOOLEAN_FIELDS},
            "department": F.expr(statement(department_sql("department"), {})),
            # an order or refund without a thread: '' as in the store, so that a workspace's
            # such events are one thread that equality finds (`check_events` reads NULL)
            **{name: F.coalesce(F.col(name), F.lit("")) for name in THREAD[1:]},
        }
    )
    # each file's rank (arrival order) and the workspace its directory names, by Spark's name
    # for the file (a URI)
    uris = {relative(lake, r[0]): r[0] for r in events.select("file").distinct().collect()}
    ranks = session.createDataFrame(
        [
            (uris[f.relative], f.relative, i, f.workspace)
            for i, f in ranked_files
            if f.relative in uris  # a file of no row has no name in the frame
        ],
        "file string, source_file string, rank long, dir_workspace string",
    )
    ranked = (
        events.join(F.broadcast(ranks), "file")
        .withColumn("column_workspace", F.col("workspace"))
        .withColumn("workspace", F.coalesce("dir_workspace", "column_workspace"))
        .withColumn("seq", F.col("rank") * F.lit(1 << 32) + F.col("row_index"))
        .withColumn("thread_key", F.xxhash64("workspace", "channel", "customer_id"))
        .drop("rank")
    )
    return ranked


@cache
def _problem_sql() -> str:
    """The name of the first field of an event (a row of `read_events`) that breaks a rule
    of `check_events`, NULL when none does: one `CASE`, so that Spark reads it in one gateway
    call (built as some sixty nested columns, a call each, it took about a second of every
    run, measured at the day of 1M events)."""
    texts = [name for name, kind, _ in EVENT_COLUMNS if kind == "string"]
    checks = [(name, f"{name} IS NULL") for name, _, required in EVENT_COLUMNS if required]
    checks += [(name, f"NOT coalesce(is_valid_utf8({name}), true)") for name in texts]
    checks += [
        # named like everywhere else (`store.check_workspace_name`), and the same in the
        # file's column as in its directory when it has both
        ("workspace", "NOT regexp_matches(workspace, '^\\P{Cc}{1,128}$')"),
        ("workspace", "column_workspace IS NOT NULL AND column_workspace <> workspace"),
        ("ts", "ts IS NULL"),
        ("ts", f"ts_text IS NOT NULL AND NOT regexp_matches(ts_text, '{RFC3339_PATTERN}')"),
        ("ts", f"NOT year(ts) BETWEEN {FIRST_YEAR} AND {LAST_YEAR}"),
    ]
    checks += [
        (name, f"{name} IS NOT NULL AND NOT coalesce({value_rule(name, name)}, false)")
        for name in LIMITS
    ]
    checks += [(rule.field, f"NOT coalesce({rule.sql}, false)") for rule in RULES]
    cases = " ".join(f"WHEN {bad} THEN '{name}'" for name, bad in checks)
    return statement(f"CASE {cases} END", {})


def check_events(events: DataFrame) -> list[str]:
    """Refuse events that break SPEC section 1, naming such a record's file, row and field
    (the first by file and row of its workspace), with the rule tables `convoscope import`
    applies (`event_fields.LIMITS`, `events.RULES`): a missing required value; a text that is not
    UTF-8; a time that is not RFC 3339 with its offset or out of the years allowed; a value a
    field does not take; a cross-field rule broken. (A blank department was read as none by
    `read_events`, as the model does.) Returns the events' workspaces: the same Spark job
    finds them (one aggregation by workspace rather than a scan for a bad record and another
    for the names)."""
    from pyspark.sql import functions as F

    events = events.withColumns(  # '' is an absent thread (`read_events`)
        {name: F.when(F.col(name) != "", F.col(name)) for name in THREAD[1:]}
    )
    problem = F.expr(_problem_sql())
    # min ignores NULL: per workspace, its first bad record by file and row, if any
    first_bad = F.min(F.when(problem.isNotNull(), F.struct("file", "row_index", problem)))
    found = events.groupBy("workspace").agg(first_bad.alias("bad")).collect()
    for bad in sorted((r["bad"] for r in found if r["bad"] is not None), key=tuple):
        file, row, field = bad
        raise LakeError(f"{file}: record {row}: field {field}: missing or not allowed")
    return [r["workspace"] for r in found]


def workspaces_frame(session: SparkSession, lake: Lake, names: list[str]) -> DataFrame:
    """The limits of the workspaces `names`: `workspaces.json`, else the defaults."""
    settings = lake.settings()
    rows = [
        (name, s.inactivity_seconds, s.escalated_inactivity_seconds, s.csat_window_seconds)
        for name in names
        for s in [settings.get(name, DEFAULTS)]
    ]
    return session.createDataFrame(
        rows,
        "name string, inactivity_seconds int, escalated_inactivity_seconds int, "
        "csat_window_seconds int",
    )


THREAD = ("workspace", "channel", "customer_id")


def read_derived(
    session: SparkSession,
    lake: Lake,
    manifest: Manifest | None,
    table: str,
    partitions: set[tuple[str, str]] | None = None,
) -> DataFrame:
    """A derived table in the state `manifest` lists (only its files of `partitions`, the
    (workspace, day) pairs, when given), with its partition columns (text, so a workspace
    named like a number stays one; `day` a date); empty when it has no file there (a table
    without rows, or days that hold none of its rows: an incremental run whose new events
    are only an orphan close has such days). Read with its declared schema: Spark would
    otherwise run a job to read a file's footer for it, one of the fixed costs of every run
    and report."""
    files = [
        literal_path(lake, lake.derived / part.path)
        for part in ([] if manifest is None else manifest.tables.get(table, []))
        if partitions is None or (part.workspace, part.day) in partitions
    ]
    schema = ", ".join(f"{c} {t}" for c, t in (*derived_schema(table), ("day", "date")))
    if not files:
        return session.createDataFrame([], schema).drop("run")
    return (
        session.read.schema(schema)
        .option("basePath", lake.uri(lake.table(table)))
        .parquet(*files)
        .drop("run")
    )


# The Spark type of each column type of `store.tables`; the store's thread key is read as the
# lake's own hash (`read_events`).
SPARK_TYPES = {
    "VARCHAR": "string",
    "TIMESTAMP": "timestamp_ntz",
    "BIGINT": "bigint",
    "INTEGER": "int",
    "TINYINT": "tinyint",
    "BOOLEAN": "boolean",
    "UBIGINT": "bigint",
    "VARCHAR[]": "array<string>",
    "DECIMAL(18,4)": "decimal(18,4)",
}


def derived_schema(table: str) -> list[tuple[str, str]]:
    """The columns of a derived table or rollup with their Spark types, from the declared
    schema (what the lake holds is cast to them: the same types on both engines)."""
    return [(c.name, SPARK_TYPES[c.type]) for c in TABLES[table].columns]


def sessionize(session: SparkSession, lake: Lake, *, full: bool = False) -> dict[str, Any]:
    """Derive the lake's tables from its events (SPEC section 2), incrementally when it can,
    and publish them as the lake's new state (`lake.Manifest`).

    Incremental: the threads with an event in a file the state was not made of are cut again
    from all of their events (so a late event merges or splits conversations as in a full
    run), and in every derived table the day partitions holding a row of those threads,
    before or after, are written anew with the other threads' rows kept. A run is full when
    asked (`full=True`), when nothing was derived yet, or when what the state was made of
    changed otherwise (an event file removed or rewritten, the settings changed), so that
    the result always equals a full run. Every file is new (under `run=<id>/`) and the state
    changes by one atomic rename, so readers never see a run half done. Returns what was
    done."""
    pin(session)
    lake = on_hadoop(session, lake)
    work = lake.derived / "_checkpoints" / uuid.uuid4().hex[:8]
    with suppress(Exception):  # Spark Connect has none: `kept` checkpoints on the executors
        session.sparkContext.setCheckpointDir(lake.uri(work))
    try:
        return _sessionize(session, lake, full)
    finally:
        with suppress(OSError):
            lake.storage.delete(work, recursive=True)
        for folder in (work.parent, lake.derived):  # when empty: a refused run leaves nothing
            with suppress(OSError):
                lake.storage.delete(folder)


@dataclass(frozen=True)
class Plan:
    """What a run will read and whether it runs in full, from the lake's files and settings
    against what its state was made of (no Spark job)."""

    files: list[EventFile]
    before: Manifest | None
    sources: dict[str, str]  # each event file's fingerprint, by its path in the lake
    settings: str
    new: list[str]
    full: bool


def plan(lake: Lake, *, full: bool = False) -> Plan:
    """Full when asked, when nothing was derived yet, or when an event file was removed or
    rewritten or the settings changed since the state; else incremental over the new files."""
    before = lake.manifest()
    files = event_files(lake, before)
    known = before.sources if before is not None else {}
    sources = {f.relative: fingerprint(lake, f, known.get(f.relative)) for f in files}
    settings = settings_digest(lake)
    full = (
        full
        or before is None
        or before.settings != settings
        or any(not same_content(sources.get(f), digest) for f, digest in known.items())
    )
    new = sorted(f for f in sources if f not in known)
    return Plan(files, before, sources, settings, new, full)


def _sessionize(session: SparkSession, lake: Lake, full: bool) -> dict[str, Any]:
    from pyspark.sql import functions as F

    planned = plan(lake, full=full)
    files, before, new, full = planned.files, planned.before, planned.new, planned.full
    removed = lake.collect(before)
    if not full and not new:
        return {"mode": "incremental", "files": len(files), "new_files": 0, "threads": 0}
    fresh = read_events(session, lake, files, None if full else set(new))
    # The records' check and the choice of each event's first arrival (with, in an incremental
    # run, the earlier files holding a new id) read the files apart: both at once. A bad
    # record is still reported before a conflict.
    with _Threads(session, 1) as pool:
        checked = pool.submit(check_events, fresh)
        try:
            arrived = _arrivals(fresh) if full else _new_arrivals(session, lake, planned, fresh)
        except LakeError:
            checked.result()
            raise
    # the workspaces of the new events: those of every thread a run cuts
    workspaces = workspaces_frame(session, lake, checked.result())
    run = Run(session, lake, before, removed)
    tails = None
    if full:
        thread_events = arrived
        read = set(planned.sources)
    else:
        assert before is not None
        tails, thread_events, read = _tails(session, lake, planned, arrived, workspaces)
        # every derived row of a thread sits in the day of one of its events (`DAY_OF`), and
        # the rows a tail replaces sit in the days of its events: the previous state is read
        # in those partitions only
        run.candidates = _partitions(
            thread_events.select("workspace", F.to_date("ts").alias("day"))
        )
    # Neither the stored rows the tails replace nor the thread index of the files read
    # depends on the cut: both are found and written in threads of their own beside it.
    with _Threads(session, 2) as pool:
        indexed = pool.submit(run.index, fresh, replace=full)
        found = None if tails is None else pool.submit(Stale.of, session, run, tails, thread_events)
        derived = derive(session, thread_events, workspaces)
        stale = None if found is None else found.result()
        tables = {}
        for table in DERIVED_TABLES:
            via, anchor = DAY_OF[table]
            rows = derived[table]
            if via is not None:  # the day of the conversation the rows are keyed by
                keyed = derived[via].select("workspace", "conversation_id", anchor)
                rows = rows.join(keyed, ["workspace", "conversation_id"])
            rows = rows.withColumn("day", F.to_date(F.col(anchor)))
            rows = rows.select(*(F.col(c).cast(t) for c, t in derived_schema(table)), "day")
            tables[table] = rows if stale is None else _replaced(session, run, table, rows, stale)
        run.write(tables, run.candidates)
        _write_rollups(session, run, derived)
        indexed.result()
    committed = run.commit(planned)
    counted = {table: derived[table] for table in DERIVED_TABLES}
    counts = _counts(counted if tails is None else {**counted, "tails": tails})
    return {
        "mode": "full" if full else "incremental",
        "files": len(files),
        "new_files": len(files) if full else len(new),
        "read_files": len(read),
        "threads": counts.pop("tails", 0),
        "rows": counts,
        "version": committed.version,
    }


def _counts(frames: dict[str, DataFrame]) -> dict[str, int]:
    """The number of rows of each frame, in one Spark job rather than one a frame."""
    from functools import reduce

    from pyspark.sql import functions as F

    tagged = [frame.select(F.lit(name).alias("frame")) for name, frame in frames.items()]
    union = reduce(lambda a, b: a.unionAll(b), tagged)
    found = {r["frame"]: r["count"] for r in union.groupBy("frame").count().collect()}
    return {name: found.get(name, 0) for name in frames}


def _first_arrivals(events: DataFrame) -> DataFrame:
    """Each `event_id` once, at its first arrival (file order, then row): a delivery again
    is a duplicate."""
    from pyspark.sql import functions as F

    first = F.row_number().over(_by_arrival())
    return events.withColumn("_n", first).where("_n = 1").drop("_n")


def _arrivals(events: DataFrame) -> DataFrame:
    """`_first_arrivals(events)`, kept, once no `event_id` was delivered again with other
    content (refused as `convoscope import` does, naming the later copy; the same content is
    a duplicate, counted once). One ordering of the copies serves the check and the choice,
    and the check reads the kept rows. An incremental run passes the new files and the
    earlier ones holding one of their ids (`_id_holders`): earlier copies among themselves
    were compared by the run that read them."""
    from pyspark.sql import functions as F

    content = F.struct(*CONTENT_FIELDS)
    marked = kept(
        events.withColumns(
            {
                "_n": F.row_number().over(_by_arrival()),
                "_same": content.eqNullSafe(F.first(content).over(_by_arrival())),
            }
        )
    )
    found = marked.where(~F.col("_same")).select("file", "row_index", "event_id").limit(1)
    for file, row, event_id in found.collect():
        raise LakeError(
            f"{file}: record {row}: field event_id: {event_id!r} was delivered before with "
            "other content (a conflict; nothing written)"
        )
    return marked.where("_n = 1").drop("_n", "_same")


def _by_arrival() -> WindowSpec:
    """The copies of an `event_id`, in arrival order."""
    from pyspark.sql import Window

    return Window.partitionBy("workspace", "event_id").orderBy("seq")


def _new_arrivals(session: SparkSession, lake: Lake, planned: Plan, fresh: DataFrame) -> DataFrame:
    """The events of an incremental run's new files (`fresh`) that arrive for the first time:
    a new file's event id sent before is a duplicate (or a conflict, refused), found among
    the earlier files holding that id."""
    from pyspark.sql import functions as F

    new = set(planned.new)
    id_files = _id_holders(session, lake, planned.files, fresh, new)
    copies = fresh if not id_files else read_events(session, lake, planned.files, new | id_files)
    return _arrivals(copies).where(F.col("source_file").isin(sorted(new)))


def _tails(
    session: SparkSession, lake: Lake, planned: Plan, arrived: DataFrame, workspaces: DataFrame
) -> tuple[DataFrame, DataFrame, set[str]]:
    """An incremental run's re-cut, as the database's deriver cuts it
    (`conversations.TAILS_SQL`): each thread that received a new event (`arrived`, from
    `_new_arrivals`) is cut again from its tail on (the last stored conversation that can
    change, or the first new event), and only the event files holding its events from there
    on are read (the state's thread index records the last time of each thread in each
    file). Returns the tails (thread, `from_ts`, `from_id`), their events and the event
    files read."""
    from pyspark.sql import functions as F

    before, files, new = planned.before, planned.files, set(planned.new)
    assert before is not None
    touched = arrived.select(*THREAD, "thread_key").distinct()
    stored = read_derived(session, lake, before, "conversations")
    threads = [*THREAD, "thread_key"]
    stored = stored.select(*_CUT_KEYS).join(F.broadcast(touched), threads, "semi")
    arrived.createOrReplaceTempView("new_events")
    stored.createOrReplaceTempView("stored_conversations")
    workspaces.createOrReplaceTempView("workspaces")
    tails = kept(
        session.sql(
            statement(
                conversations.TAILS_SQL.format(
                    new_events="new_events", conversations="stored_conversations"
                ),
                {},
            )
        )
    )
    read = new | _holders(session, lake, before, tails)
    events = _first_arrivals(read_events(session, lake, files, read))
    candidates = events.join(F.broadcast(tails.drop("key")), list(THREAD)).where(
        F.col("ts") >= F.col("from_ts")
    )
    starts = candidates.where(F.col("event_id") == F.col("from_id")).select(
        *THREAD, F.col("seq").alias("from_seq")
    )
    thread_events = (
        candidates.join(starts, list(THREAD))
        .where((F.col("ts") > F.col("from_ts")) | (F.col("seq") >= F.col("from_seq")))
        .drop("from_ts", "from_id", "from_seq")
    )
    return tails, kept(thread_events), read


# What a tail's start is found from in the stored conversations (`conversations.TAILS_SQL`).
_CUT_KEYS = (
    "workspace",
    "channel",
    "customer_id",
    "conversation_id",
    "started_at",
    "ended_at",
    "thread_key",
)


@dataclass(frozen=True)
class Stale:
    """The stored rows an incremental run replaces, as the database's deriver deletes them
    (`conversations._stale_rows`): the conversations from each tail's start on, and of the
    tables whose rows are events (`conversations.BY_EVENT`), those after the tail's start or
    among its events."""

    conversations: DataFrame  # (workspace, conversation_id)
    tails: DataFrame  # (workspace, channel, customer_id, from_ts)
    events: DataFrame  # (workspace, event_id) of the tails' events

    @classmethod
    def of(cls, session: SparkSession, run: Run, tails: DataFrame, events: DataFrame) -> Stale:
        from pyspark.sql import functions as F

        ids = events.select("workspace", "event_id")
        starts = tails.select(*THREAD, "from_ts")
        stored = read_derived(session, run.lake, run.before, "conversations", run.candidates)
        found = (
            stored.join(F.broadcast(starts), list(THREAD))
            .join(
                ids.withColumnRenamed("event_id", "conversation_id").withColumn("_e", F.lit(1)),
                ["workspace", "conversation_id"],
                "left",
            )
            .where((F.col("started_at") > F.col("from_ts")) | F.col("_e").isNotNull())
            .select("workspace", "conversation_id")
        )
        return cls(kept(found), starts, ids)

    def survivors(self, table: str, old: DataFrame) -> DataFrame:
        """The rows of `old` (`table`'s) that are not stale: of another conversation; for
        the tables of events, neither after their thread's tail start nor among its events
        (an event has one row in each)."""
        from pyspark.sql import functions as F

        if table not in conversations.BY_EVENT:
            return old.join(
                F.broadcast(self.conversations), ["workspace", "conversation_id"], "anti"
            )
        return (
            old.join(F.broadcast(self.tails), list(THREAD), "left")
            .where(F.col("from_ts").isNull() | (F.col("ts") <= F.col("from_ts")))
            .drop("from_ts")
            .join(self.events, ["workspace", "event_id"], "anti")
        )


# The columns of the thread index `Run.index` writes.
THREAD_INDEX = "source string, thread_key bigint, last_ts timestamp_ntz"


def _holders(session: SparkSession, lake: Lake, before: Manifest, tails: DataFrame) -> set[str]:
    """The event files of the previous state that hold an event of a tail, from its thread
    index (each file's threads with the time of their last event there)."""
    from pyspark.sql import functions as F

    if not before.threads:
        return set(before.sources)  # a state without an index: every file
    paths = (literal_path(lake, lake.derived / p) for p in before.threads)
    # an index written before it had the times reads them as NULL: every file of the thread
    index = session.read.schema(THREAD_INDEX).parquet(*paths)
    starts = tails.select(F.col("key").alias("thread_key"), "from_ts")
    found = (
        index.join(F.broadcast(starts), "thread_key")
        .where(F.col("last_ts").isNull() | (F.col("last_ts") >= F.col("from_ts")))
        .select("source")
        .distinct()
    )
    return {r[0] for r in found.collect()}


def _id_holders(
    session: SparkSession,
    lake: Lake,
    files: list[EventFile],
    fresh: DataFrame,
    new: set[str],
) -> set[str]:
    """The earlier event files holding an `event_id` the new files send (one column of each
    file read: Parquet reads no other)."""
    from pyspark.sql import functions as F

    earlier = [f for f in files if f.relative not in new]
    if not earlier:
        return set()
    ids = fresh.select("event_id").distinct()
    found = (
        session.read.parquet(*(literal_path(lake, f.path) for f in earlier))
        .select("event_id", F.col("_metadata.file_path").alias("file"))
        .join(F.broadcast(ids), "event_id", "semi")
        .select("file")
        .distinct()
        .collect()
    )
    return {relative(lake, r[0]) for r in found}


def relative(lake: Lake, uri: str) -> str:
    """An event file's path relative to the lake (Spark names files by URI)."""
    return PurePosixPath(unquote(urlparse(uri).path)).relative_to(lake.root).as_posix()


def fingerprint(lake: Lake, file: EventFile, known: str | None = None) -> str:
    """A file's size, modification time and SHA-256 (`size:mtime_ns:sha256`): what the state
    records of each event file, so that a file rewritten in place is seen. The digest is
    reused from `known` while size and time are unchanged (a run hashes only what is new or
    touched); a lake moved or copied elsewhere keeps its state (`same_content`)."""
    head = f"{file.size}:{file.mtime_ns}:"
    if known is not None and known.startswith(head):
        return known
    return head + lake.storage.sha256(file.path)


def same_content(a: str | None, b: str | None) -> bool:
    """Whether two fingerprints are of the same bytes (size and digest; times may differ)."""
    if a is None or b is None:
        return False
    (size_a, _, digest_a), (size_b, _, digest_b) = a.split(":", 2), b.split(":", 2)
    return (size_a, digest_a) == (size_b, digest_b)


# What the cut reads of a workspace's settings; the others (time zone, business hours, flow
# catalogue) are applied when a report is asked, so a change of them re-derives nothing.
CUT_SETTINGS = {"inactivity_seconds", "escalated_inactivity_seconds", "csat_window_seconds"}


def settings_digest(lake: Lake) -> str:
    """The digest of every workspace's settings the cut reads, as `workspaces.json` gives
    them."""
    settings = {
        name: s.model_dump(mode="json", include=CUT_SETTINGS)
        for name, s in sorted(lake.settings().items())
    }
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


class Run:
    """One run's writes: new files under `run=<id>/` of each table, and the state they make
    with the previous one's other files, published by `commit`."""

    def __init__(
        self, session: SparkSession, lake: Lake, before: Manifest | None, removed: set[str]
    ):
        self.session = session
        self.lake = lake
        self.before = before
        # what the previous state retired and is not removed yet
        self.retired = {
            path: since
            for path, since in (before.retired if before else {}).items()
            if path not in removed
        }
        self.version = 1 if before is None else before.version + 1
        self.id = f"{self.version}-{uuid.uuid4().hex[:8]}"
        self.tables: dict[str, list[Part]] = {} if before is None else dict(before.tables)
        self.threads: list[str] = [] if before is None else list(before.threads)
        # the partitions of the previous state an incremental run reads (None: all)
        self.candidates: set[tuple[str, str]] | None = None

    def pending(self) -> Manifest:
        """The state as written so far (not published)."""
        return Manifest(
            schema_version=SCHEMA_VERSION,
            version=self.version,
            run=self.id,
            tables=self.tables,
            sources={},
            settings="",
        )

    def write(self, tables: Mapping[str, DataFrame], replaced: set[tuple[str, str]] | None) -> None:
        """Write each table's rows (one file per workspace and day) as its partitions of
        `replaced`, or as the whole table (None). The tables are written at once, a thread
        each (local properties such as a job group inherited): a write of a day's rows is
        mostly the driver's planning and the files' commit, which overlap."""
        with _Threads(self.session, len(tables)) as pool:
            written = list(pool.map(self._files, tables, tables.values()))
        for table, parts in zip(tables, written, strict=True):
            kept = [
                p
                for p in self.tables.get(table, [])
                if replaced is not None and (p.workspace, p.day) not in replaced
            ]
            self.tables[table] = kept + parts

    def _files(self, table: str, rows: DataFrame) -> list[Part]:
        """Write `rows` under this run's folder of `table`: the files written."""
        target = self.lake.table(table) / f"run={self.id}"
        (
            rows.repartition(*PARTITIONS)
            .write.mode("overwrite")
            .partitionBy(*PARTITIONS)
            .parquet(self.lake.uri(target))
        )
        parts = []
        for path in self.lake.parquet_under(target):
            day, workspace = path.parent.name, path.parent.parent.name
            parts.append(
                Part(
                    path=path.relative_to(self.lake.derived).as_posix(),
                    workspace=unquote(workspace.removeprefix("workspace=")),
                    day=unquote(day.removeprefix("day=")),
                )
            )
        return parts

    def index(self, events: DataFrame, *, replace: bool) -> None:
        """Write the thread index of `events`' files (each file's distinct thread keys: what
        an incremental run reads to find the earlier files of its threads), in place of the
        previous one (`replace`) or beside it."""
        from pyspark.sql import functions as F

        target = self.lake.derived / "_threads" / f"run={self.id}"
        index = events.groupBy(F.col("source_file").alias("source"), "thread_key").agg(
            F.max("ts").alias("last_ts")
        )
        index.coalesce(1).write.mode("overwrite").parquet(self.lake.uri(target))
        written = [
            p.relative_to(self.lake.derived).as_posix() for p in self.lake.parquet_under(target)
        ]
        self.threads = sorted(written) if replace else self.threads + sorted(written)

    def commit(self, planned: Plan) -> Manifest:
        """Publish the state this run made; the files the previous one listed and this one
        does not are retired now."""
        manifest = Manifest(
            schema_version=SCHEMA_VERSION,
            version=self.version,
            run=self.id,
            tables=self.tables,
            threads=self.threads,
            sources=planned.sources,
            settings=planned.settings,
            ts_text=next((f.ts_text for f in planned.files if f.ts_text is not None), None),
        )
        dropped = (self.before.listed() if self.before else set()) - manifest.listed()
        manifest.retired = self.retired | dict.fromkeys(sorted(dropped), time.time())
        self.lake.commit(manifest)
        return manifest


def _write_rollups(session: SparkSession, run: Run, derived: dict[str, DataFrame]) -> None:
    """The rollups of `convoscope.rollups`, by the same statements as in the DuckDB file:
    every slot from the derived rows in a full run; in an incremental one, the slots of the
    days of the tails' events (`Run.candidates`) recomputed from the derived tables as this
    run wrote them (its pending state). Those days hold every change: the conversations
    replaced and made start and end (`ended_at` is their last event's time) and have their
    events there."""
    from pyspark.sql import functions as F

    replaced = run.candidates
    if replaced is None:
        conversations, events = derived["conversations"], derived["conversation_events"]
    else:
        if not replaced:  # nothing was cut again (the new events were all sent before)
            return
        pairs = [
            F.struct(F.lit(ws).alias("workspace"), F.lit(day).cast("date").alias("day"))
            for ws, day in sorted(replaced)
        ]

        def on(day: Column) -> Column:
            """Whether a row's workspace and `day` are one of the days (literals: no job)."""
            return F.struct("workspace", day.alias("day")).isin(*pairs)

        pending = run.pending()
        stored = read_derived(session, run.lake, pending, "conversations")
        needed = [c.strip() for c in rollups.SOURCES["conversations"].split(",")]
        # the events of the days: their partitions' files; kept, each rollup reads them again
        events = kept(
            read_derived(session, run.lake, pending, "conversation_events", replaced).drop("day")
        )
        # the conversations that start or end on one of the days or have an event there, in
        # one scan of the stored conversations (a day of a large lake is few of them)
        touched = events.select("workspace", "conversation_id").distinct()
        conversations = kept(
            stored.join(
                touched.withColumn("_touched", F.lit(True)),
                ["workspace", "conversation_id"],
                "left",
            )
            .where(
                on(F.to_date("started_at"))
                | on(F.to_date("ended_at"))
                | F.col("_touched").isNotNull()
            )
            .select(*needed)
        )
    conversations.createOrReplaceTempView("slot_conversations")
    events.createOrReplaceTempView("slot_events")
    tables = {}
    for rollup in rollups.ROLLUPS:
        sql = rollups.summed(rollup, conversations="slot_conversations", events="slot_events")
        rows = session.sql(statement(sql, {}))
        rows = rows.select(
            *(F.col(c).cast(t) for c, t in derived_schema(rollup.table)),
            F.to_date(F.col(DAY_OF[rollup.table][1])).alias("day"),
        )
        if replaced is not None:
            rows = rows.where(on(F.col("day")))
        tables[rollup.table] = rows
    run.write(tables, replaced)


def _partitions(frame: DataFrame) -> set[tuple[str, str]]:
    """The (workspace, day) pairs of a small frame, as the manifest names them."""
    return {(ws, day.isoformat()) for ws, day in frame.select(*PARTITIONS).distinct().collect()}


def _replaced(
    session: SparkSession, run: Run, table: str, rows: DataFrame, stale: Stale
) -> DataFrame:
    """The day partitions of the tails' events (`Run.candidates`: they hold every stale row
    and every new one) as they are to be written anew: the other rows kept, the stale ones
    replaced by `rows`."""
    assert run.candidates is not None
    old = read_derived(session, run.lake, run.before, table, run.candidates)
    return stale.survivors(table, old).unionByName(rows)
