"""The lake: one directory of Parquet that Spark derives and DuckDB serves (issue 12).

Layout (every path under the lake directory `LAKE`):

- `events/`: SPEC events as Parquet, written by the platform's pipeline, with a `workspace`
  column or in `workspace=W/` directories (Hive style, more levels such as `day=D/` allowed),
  any file names. `ts` is a timestamp (an instant, or zone-less UTC) or RFC 3339 text.
- `workspaces.json` (optional): per-workspace settings, `{"shop": {"timezone": "Europe/Paris",
  "inactivity_seconds": 600, "escalated_inactivity_seconds": 86400, "csat_window_seconds":
  604800, "business_hours": {"monday": [["09:00", "17:00"]]}}}`; a workspace not named there,
  or a key left out, has the defaults of a new workspace in the store (its zone: UTC).
- `derived/_manifest.json`: the one committed state of the derived tables (`Manifest`): for
  each table, the Parquet files that make it (paths relative to `derived/`, with the
  workspace and day each holds), and what the state was made of (each event file's path
  relative to the lake with its size and content digest; the settings' digest). Readers read
  the listed files and nothing else; a run publishes a new state by renaming a new manifest
  over the old one, so a reader sees the state before a run or the state after it, never a
  mixture, and a run that dies leaves the previous state in place.
- `derived/<table>/run=R/workspace=W/day=YYYY-MM-DD/*.parquet`: the files written by run `R`
  for the derived tables of the store (`store.DERIVED_TABLES`) and the rollups of
  `convoscope.rollups`, partitioned by workspace and the UTC day of each row's anchor
  (`DAY_OF`), so that a period reads only its days. A run writes only new files; a file no
  manifest lists any more (replaced, or left by a run that died) is removed by a later run
  once it is older than `GRACE_SECONDS`, so a reader still on the previous state keeps its
  files meanwhile.

Arrival order on the lake (the spec's tie-break for events at the same instant of one thread)
is the order of the event files by path, then of the rows in a file: `seq` is the file's rank
times 2^32 plus the row's index in its file.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, ValidationError

from convoscope.events import BOOLEAN_FIELDS
from convoscope.store import (
    DERIVED_TABLES,
    ROLLUP_TABLES,
    SCHEMA_VERSION,
    Settings,
    Store,
    Workspace,
    check_workspace_name,
)
from convoscope.store.tables import TABLES

MANIFEST = "_manifest.json"
# How long a file no state lists is kept for a reader that opened the previous state.
GRACE_SECONDS = 600.0
# The timestamp that places each row in a day partition: `(table it is read from, column)`,
# the table being the row's own (None) or, for rows with no time of their own, the conversation
# they are keyed by (a conversation's teammates sit in the day of its start). Every writer of
# the layout follows it: `engines.spark.sessionize` and the tests' DuckDB writer.
DAY_OF: dict[str, tuple[str | None, str]] = {
    "conversations": (None, "started_at"),
    "conversation_teammates": ("conversations", "started_at"),
    "conversation_flows": (None, "started_at"),
    "orphan_closes": (None, "ts"),
    "surveys": (None, "ts"),
    "response_waits": (None, "waited_from"),
    "conversation_events": (None, "ts"),
    "commerce": (None, "ts"),
    # the rollups (`convoscope.rollups`) sit in the day of their 15-minute slot
    **{table: (None, "slot") for table in ROLLUP_TABLES},
}
PARTITIONS = ("workspace", "day")
# The channels of a workspace with data, for the channel filter's check (both engines).
CHANNELS_SQL = """
SELECT channel FROM conversations WHERE workspace = $ws
UNION SELECT channel FROM orphan_closes WHERE workspace = $ws
UNION SELECT channel FROM surveys WHERE workspace = $ws
ORDER BY 1
"""
# A workspace `workspaces.json` does not describe: the settings' defaults, in UTC.
DEFAULTS = Settings(timezone="UTC")
assert set(DAY_OF) == {*DERIVED_TABLES, *ROLLUP_TABLES}


class LakeError(ValueError):
    """A lake that cannot be read as documented (missing directory, bad settings)."""


@dataclass(frozen=True)
class Lake:
    root: Path

    @property
    def events(self) -> Path:
        return self.root / "events"

    @property
    def derived(self) -> Path:
        return self.root / "derived"

    def table(self, name: str) -> Path:
        return self.derived / name

    def settings(self) -> dict[str, Settings]:
        """`workspaces.json`, checked by the settings model of the database and the API
        (`store.Settings`; a zone left out is UTC here)."""
        path = self.root / "workspaces.json"
        if not path.exists():
            return {}
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise LakeError(f"{path}: not JSON ({exc})") from None
        if not isinstance(raw, dict):
            raise LakeError(f"{path}: expected an object of workspaces")
        out = {}
        for name, given in raw.items():
            where = f"{path}: workspace {name!r}"
            if not isinstance(given, dict) or set(given) - set(Settings.model_fields):
                raise LakeError(f"{where}: expected keys among {list(Settings.model_fields)}")
            try:
                out[name] = Settings.model_validate({"timezone": DEFAULTS.timezone, **given})
            except ValidationError as exc:
                first = exc.errors()[0]
                field = ".".join(str(p) for p in first["loc"])
                message = first["msg"].removeprefix("Value error, ")
                bad = f"bad {field}: {first['input']!r} ({message})" if field else message
                raise LakeError(f"{where}: {bad}") from None
        return out

    def workspace_names(self) -> list[str]:
        """Workspaces with derived rows, or named in `workspaces.json`."""
        manifest = self.manifest()
        found = manifest.workspaces() if manifest else set()
        return sorted(found | set(self.settings()))

    def workspace(self, name: str) -> Workspace | None:
        """A workspace of the lake as the store describes one (zone, limits, hours)."""
        if name not in self.workspace_names():
            return None
        settings = self.settings().get(name, DEFAULTS)
        return Workspace(name=name, **settings.model_dump())

    def manifest(self) -> Manifest | None:
        """The committed state of the derived tables, or None when nothing was derived yet
        in this version's schema: a state an earlier convoscope wrote lacks the newer facts,
        so readers ask for a `spark sessionize` (`outdated`), which then runs in full."""
        found = self._stored_manifest()
        return found if found is not None and found.schema_version == SCHEMA_VERSION else None

    def outdated(self) -> bool:
        """Whether the lake's state was written in an earlier schema."""
        found = self._stored_manifest()
        return found is not None and found.schema_version != SCHEMA_VERSION

    def _stored_manifest(self) -> Manifest | None:
        path = self.derived / MANIFEST
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            return Manifest.model_validate_json(text)
        except ValidationError as exc:
            raise LakeError(
                f"{path}: not a manifest of this format ({exc.errors()[0]['msg']})"
            ) from None

    def commit(self, manifest: Manifest) -> None:
        """Publish `manifest` as the lake's state: written aside, flushed, then renamed over
        the old one (atomic on POSIX file systems)."""
        self.derived.mkdir(parents=True, exist_ok=True)
        tmp = self.derived / f"{MANIFEST}.{manifest.run}.tmp"
        with tmp.open("w", encoding="utf-8") as f:
            f.write(manifest.model_dump_json(indent=1))
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(self.derived / MANIFEST)

    def collect(self, keep: Manifest | None, grace_seconds: float = GRACE_SECONDS) -> int:
        """Remove what no committed state lists and is older than `grace_seconds`: the files
        of replaced partitions, of runs that died, of the layout before manifests. Returns
        the number of files removed."""
        listed = {part.path for parts in (keep.tables if keep else {}).values() for part in parts}
        listed |= set(keep.threads if keep else ())
        cutoff = time.time() - grace_seconds
        removed = 0
        for table in (*DERIVED_TABLES, *ROLLUP_TABLES, "_threads"):
            root = self.table(table)
            for path in sorted(root.rglob("*"), reverse=True) if root.is_dir() else []:
                relative = path.relative_to(self.derived).as_posix()
                if path.is_file() and relative not in listed and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
                elif path.is_dir() and not any(path.iterdir()):
                    path.rmdir()
        for tmp in self.derived.glob(f"{MANIFEST}.*.tmp"):
            if tmp.stat().st_mtime < cutoff:
                tmp.unlink()
        return removed


@dataclass(frozen=True)
class EventFile:
    """One Parquet file of `events/`: its path, its path relative to the lake (what the state
    records and arrival order sorts), and the workspace its `workspace=` directory names."""

    path: Path
    relative: str
    workspace: str | None
    ts_text: bool | None  # whether its times are text (None: it has no ts column)


# What each event column may be in a file: Arrow type predicates, and the words for errors.
_TEXT = (lambda t: pa.types.is_string(t) or pa.types.is_large_string(t), "text")
_KINDS = {
    "workspace": _TEXT,
    "event_id": _TEXT,
    "channel": _TEXT,
    "customer_id": _TEXT,
    "type": _TEXT,
    "sender": _TEXT,
    "teammate_id": _TEXT,
    "department": _TEXT,
    "flow": _TEXT,
    "flow_type": _TEXT,
    "step": _TEXT,
    "about": _TEXT,
    "customer_ref": _TEXT,
    "order_id": _TEXT,
    "currency": _TEXT,
    "source": _TEXT,
    # money: its decimal text, or an exact DECIMAL column (never a float)
    "amount": (lambda t: _TEXT[0](t) or pa.types.is_decimal(t), "decimal text or a DECIMAL"),
    **{name: (pa.types.is_boolean, "a boolean") for name in BOOLEAN_FIELDS},
    "score": (pa.types.is_integer, "an integer"),
    "ts": (lambda t: _TEXT[0](t) or pa.types.is_timestamp(t), "a timestamp or RFC 3339 text"),
}


def event_files(lake: Lake) -> list[EventFile]:
    """The event files of the lake, in arrival order (by path relative to the lake), each
    checked as Parquet with the columns an event may have: any layout and depth; names
    starting with `_` or `.` (a writer's leftovers, `_SUCCESS`) skipped as Spark skips them;
    links to directories followed, a loop refused. A file that cannot be read, a column of
    another type or unknown, or a directory name that is not a workspace name is a
    `LakeError` naming the file."""
    if not lake.events.is_dir():
        raise LakeError(f"{lake.events} does not exist: the lake's events go there")
    found = []
    visited: set[str] = set()
    root = lake.root.resolve()  # the paths Spark is given, and names back
    for folder, dirs, names in os.walk(root / "events", followlinks=True):
        real = os.path.realpath(folder)
        if real in visited:
            raise LakeError(
                f"{folder}: a link to a directory already read (a loop, or the same events twice)"
            )
        visited.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith(("_", ".")))
        for name in names:
            if name.startswith(("_", ".")) or not name.lower().endswith(".parquet"):
                continue
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            given = [
                unquote(p.removeprefix("workspace="))
                for p in path.relative_to(root / "events").parts[:-1]
                if p.startswith("workspace=")
            ]
            if len(set(given)) > 1:
                raise LakeError(f"{path}: two workspace= directories in its path")
            try:
                workspace = _directory_workspace(given[0]) if given else None
            except ValueError as exc:
                raise LakeError(f"{path}: {exc}") from None
            schema = _check_columns(path)
            ts = schema.field("ts").type if "ts" in schema.names else None
            found.append(EventFile(path, relative, workspace, None if ts is None else _TEXT[0](ts)))
    found.sort(key=lambda f: f.relative)
    timed = [f for f in found if f.ts_text is not None]
    for f in timed[1:]:
        if f.ts_text != timed[0].ts_text:
            here, there = ("text", "a timestamp") if f.ts_text else ("a timestamp", "text")
            raise LakeError(
                f"{f.path}: ts is {here} here but {there} in {timed[0].path}: the files of "
                "one lake give times one way"
            )
    return found


def _directory_workspace(name: str) -> str:
    """The workspace a `workspace=` directory names: a workspace name, and no path (`..`, a
    slash written %2F): a lake's directory names never lead out of it."""
    if name in (".", "..") or "/" in name or "\\" in name:
        raise ValueError(f"workspace= directory {name!r} is a path, not a workspace name")
    return check_workspace_name(name)


def _check_columns(path: Path) -> pa.Schema:
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as exc:
        raise LakeError(f"{path}: not a readable Parquet file ({exc})") from None
    for field in schema:
        if field.name not in _KINDS:
            raise LakeError(f"{path}: column {field.name!r} is not an event field")
        accepts, words = _KINDS[field.name]
        if not accepts(field.type):
            raise LakeError(f"{path}: column {field.name} is {field.type}, not {words}")
    return schema


class Part(BaseModel):
    """One Parquet file of a derived table: its path relative to `derived/`, and the
    partition it holds."""

    model_config = ConfigDict(frozen=True)

    path: str
    workspace: str
    day: str  # YYYY-MM-DD


class Manifest(BaseModel):
    """One committed state of a lake's derived tables (`derived/_manifest.json`)."""

    format: Literal["convoscope-lake/1"] = "convoscope-lake/1"
    # the store's schema version its tables follow (states before it was recorded: 0)
    schema_version: int = 0
    version: int  # 1 for the first state, then one more per run that changed it
    run: str  # the run that wrote it (its files are under `run=<run>/`)
    tables: dict[str, list[Part]]
    # the thread index: Parquet files of (source, thread_key), every event file's threads
    threads: list[str] = []
    # what it was made of: event file (relative to the lake) -> "size:mtime_ns:sha256", and
    # the digest of every workspace's settings as the run read them
    sources: dict[str, str]
    settings: str

    def files(self, lake: Lake, table: str) -> list[str]:
        """The absolute paths of a table's files."""
        return [str(lake.derived / part.path) for part in self.tables.get(table, [])]

    def workspaces(self) -> set[str]:
        return {part.workspace for part in self.tables.get("conversations", [])}


def underived(lake: Lake) -> str:
    """Why a lake cannot be read yet, and what to run."""
    what = "was derived by an earlier convoscope" if lake.outdated() else "holds no derived tables"
    return f"{lake.derived} {what}; run `convoscope spark sessionize --lake {lake.root}` first"


class LakeTables:
    """The lake's derived tables read by DuckDB, for `convoscope serve --lake`: read-only.

    An in-memory store holds the schema (empty tables). Each committed state of the lake
    (`Manifest`) becomes a schema of its own in it, with a view per derived table and rollup
    over exactly the files the manifest lists (Hive partitions, so a workspace named like a
    number stays text; Spark writes one file per workspace and day, so Parquet's statistics
    skip the days outside a period). Each use of `con` reads the manifest again (when the
    file changed) and points this thread's cursor at the newest state, so every request reads
    one whole state, the one before a run or the one after it. Workspace settings (zone,
    business hours) come from `workspace`: the accounts database when serving (where the
    workspaces' users are), the lake's `workspaces.json` for a report.
    """

    KEEP = 4  # states kept defined (a request in flight keeps reading its own)

    def __init__(self, lake: Lake, workspace: Callable[[str], Workspace | None]):
        self.lake = lake
        self._db = Store(":memory:")
        self.workspace = workspace
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None  # the manifest file's (mtime_ns, size)
        self._schemas: deque[str] = deque()
        self._local = threading.local()
        self._rollups: dict[str, bool] = {}  # per state: whether it has the rollups
        self._refresh()
        if not self._schemas:
            raise LakeError(underived(lake))

    def _refresh(self) -> str | None:
        """The schema of the newest committed state, defined on first sight."""
        path = self.lake.derived / MANIFEST
        try:
            stat = path.stat()
        except FileNotFoundError:
            return self._schemas[-1] if self._schemas else None
        seen = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if seen != self._seen or not self._schemas:
                manifest = self.lake.manifest()
                if manifest is not None:
                    self._define(manifest)
                self._seen = seen
            return self._schemas[-1] if self._schemas else None

    def _define(self, manifest: Manifest) -> None:
        schema = f"state_{manifest.version}_{manifest.run}".replace("-", "_")
        if self._schemas and self._schemas[-1] == schema:
            return
        con = self._db.con
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for table in (*DERIVED_TABLES, *ROLLUP_TABLES):
            files = manifest.files(self.lake, table)
            if not files:
                continue  # nothing of this kind yet: the empty table of `main` answers
            # thread_key is the store's own hash, not the lake's: nothing that reads uses it
            select = ", ".join(
                f"CAST(NULL AS {c.type}) AS {c.name}"
                if c.name == "thread_key"
                else f"CAST({c.name} AS {c.type}) AS {c.name}"
                for c in TABLES[table].columns
            )
            listed = "[" + ", ".join(_literal(f) for f in files) + "]"
            con.execute(
                f"CREATE OR REPLACE VIEW {schema}.{table} AS SELECT {select} FROM "
                f"read_parquet({listed}, hive_partitioning = true, "
                "hive_types = {'workspace': VARCHAR, 'day': DATE, 'run': VARCHAR})"
            )
        # a lake derived before the rollups were has none: the overview then reads rows
        self._rollups[schema] = all(manifest.tables.get(t) for t in ROLLUP_TABLES)
        self._schemas.append(schema)
        while len(self._schemas) > self.KEEP:
            dropped = self._schemas.popleft()
            con.execute(f"DROP SCHEMA {dropped} CASCADE")
            self._rollups.pop(dropped, None)

    @property
    def rollups(self) -> bool:
        """Whether the state this thread's cursor reads has the rollups."""
        return self._rollups.get(getattr(self._local, "schema", None) or "", False)

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor, reading the newest committed state."""
        con = self._db.con
        schema = self._refresh()
        if getattr(self._local, "schema", None) != schema:
            con.execute(f"SET search_path = '{schema},main'")
            self._local.schema = schema
        return con

    def channels(self, workspace: str) -> list[str]:
        """Channels with conversations, orphan closes or surveys (the lake's events are the
        platform's, not read here)."""
        return [r[0] for r in self.con.execute(CHANNELS_SQL, {"ws": workspace}).fetchall()]

    def departments(self, workspace: str) -> list[str]:
        return self._db.departments(workspace)

    def teammates(self, workspace: str) -> list[str]:
        return self._db.teammates(workspace)

    def flows(self, workspace: str) -> list[str]:
        return self._db.flows(workspace)

    def close(self) -> None:
        self._db.close()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
