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

The lake is a directory of the local (or a mounted) file system, or a URL of any file system
Hadoop reads (`hdfs://`, `s3a://`, `viewfs://`...): `Storage` is where its files are listed,
read, written and removed. Spark works through Hadoop's file system API (`engines.hadoop`), so
that on a cluster the driver and the executors see the same files; DuckDB and chDB read a
local or mounted lake.

Arrival order on the lake (the spec's tie-break for events at the same instant of one thread)
is the order of the event files by path, then of the rows in a file: `seq` is the file's rank
times 2^32 plus the row's index in its file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath
from typing import BinaryIO, Literal, NoReturn, Protocol
from urllib.parse import unquote, urlparse

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, ValidationError

from convoscope.event_fields import BOOLEAN_FIELDS
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
class Entry:
    """A file or directory of a lake as its storage lists it."""

    path: PurePath
    is_dir: bool
    size: int
    mtime_ns: int


class Storage(Protocol):
    """Where a lake's files are, as the lake lists, reads, writes and removes them: the local
    file system (`LocalStorage`, where DuckDB and chDB read), or Hadoop's file system API
    through a Spark session (`engines.hadoop.HadoopStorage`: `file:`, `hdfs:`, `s3a:`,
    `viewfs:`...), so that a run on a cluster sees the files where its executors do. Paths
    are the lake's own (`PurePath`); `uri` is how Spark or DuckDB are given one."""

    def uri(self, path: PurePath) -> str: ...

    def entry(self, path: PurePath) -> Entry | None:
        """The file or directory at `path`, or None when there is none."""
        ...

    def listdir(self, path: PurePath) -> list[Entry]: ...

    def read(self, path: PurePath) -> bytes | None:
        """A whole (small) file, or None when there is none."""
        ...

    def open(self, path: PurePath) -> BinaryIO:
        """A file for reading, seekable (a Parquet footer is read from its end)."""
        ...

    def replace(self, path: PurePath, data: bytes) -> None:
        """Write `data` aside, then rename it over `path` in one step."""
        ...

    def delete(self, path: PurePath, recursive: bool = False) -> None: ...

    def sha256(self, path: PurePath) -> str:
        """The hex SHA-256 of a file's bytes."""
        ...


class LocalStorage:
    """The local (or mounted) file system."""

    def uri(self, path: PurePath) -> str:
        return str(path)

    def entry(self, path: PurePath) -> Entry | None:
        try:
            stat = Path(path).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return Entry(path, Path(path).is_dir(), stat.st_size, stat.st_mtime_ns)

    def listdir(self, path: PurePath) -> list[Entry]:
        found = (self.entry(path / name) for name in sorted(os.listdir(path)))
        return [e for e in found if e is not None]  # a dangling link is nothing

    def read(self, path: PurePath) -> bytes | None:
        try:
            return Path(path).read_bytes()
        except FileNotFoundError:
            return None

    def open(self, path: PurePath) -> BinaryIO:
        return Path(path).open("rb")

    def replace(self, path: PurePath, data: bytes) -> None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        aside = target.with_name(f"{target.name}.{os.getpid()}-{threading.get_ident()}.tmp")
        with aside.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        aside.replace(target)  # atomic on POSIX file systems

    def delete(self, path: PurePath, recursive: bool = False) -> None:
        target = Path(path)
        if target.is_dir() and not target.is_symlink():
            if recursive:
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.rmdir()
        else:
            target.unlink(missing_ok=True)

    def sha256(self, path: PurePath) -> str:
        digest = hashlib.sha256()
        with Path(path).open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()


@dataclass(frozen=True)
class Remote:
    """A lake named by a URL of a file system only Hadoop reads (`hdfs://`, `s3a://`...): a
    Spark command binds it to its session (`engines.hadoop.on_hadoop`); anything else that
    tries to read it is told to use Spark."""

    scheme: str
    authority: str

    def uri(self, path: PurePath) -> str:
        return f"{self.scheme}://{self.authority}{path.as_posix()}"

    def _refuse(self, path: PurePath, *_: object) -> NoReturn:
        raise LakeError(
            f"{self.uri(path)}: a {self.scheme}:// lake is read through Spark (`--engine "
            "spark`, `spark sessionize`); DuckDB and ClickHouse read a local or mounted one"
        )

    entry = listdir = read = open = replace = delete = sha256 = _refuse


@dataclass(frozen=True)
class Lake:
    root: PurePath
    storage: Storage = field(default_factory=LocalStorage)

    @classmethod
    def at(cls, where: str) -> Lake:
        """The lake a command names: a directory, a `file://` URL of one, or a URL of
        another file system that Hadoop reads (`Remote`)."""
        parsed = urlparse(where)
        if parsed.scheme == "file":
            return cls(Path(unquote(parsed.path)))
        if len(parsed.scheme) > 1:  # not a Windows drive letter
            path = PurePosixPath(unquote(parsed.path) or "/")
            return cls(path, Remote(parsed.scheme, parsed.netloc))
        return cls(Path(where))

    @property
    def events(self) -> PurePath:
        return self.root / "events"

    @property
    def derived(self) -> PurePath:
        return self.root / "derived"

    def table(self, name: str) -> PurePath:
        return self.derived / name

    def uri(self, path: PurePath) -> str:
        return self.storage.uri(path)

    def parquet_under(self, folder: PurePath) -> list[PurePath]:
        """The Parquet files a writer left under `folder`, at any depth, sorted (its
        `_SUCCESS` and checksums aside)."""
        found: list[PurePath] = []
        for entry in self.storage.listdir(folder):
            if entry.path.name.startswith(("_", ".")):
                continue
            if entry.is_dir:
                found += self.parquet_under(entry.path)
            elif entry.path.name.endswith(".parquet"):
                found.append(entry.path)
        return sorted(found)

    def settings(self) -> dict[str, Settings]:
        """`workspaces.json`, checked by the settings model of the database and the API
        (`store.Settings`; a zone left out is UTC here)."""
        path = self.root / "workspaces.json"
        data = self.storage.read(path)
        if data is None:
            return {}
        try:
            raw = json.loads(data.decode("utf-8"))
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
                key = ".".join(str(p) for p in first["loc"])
                message = first["msg"].removeprefix("Value error, ")
                bad = f"bad {key}: {first['input']!r} ({message})" if key else message
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
        data = self.storage.read(path)
        if data is None:
            return None
        try:
            return Manifest.model_validate_json(data)
        except ValidationError as exc:
            raise LakeError(
                f"{path}: not a manifest of this format ({exc.errors()[0]['msg']})"
            ) from None

    def commit(self, manifest: Manifest) -> None:
        """Publish `manifest` as the lake's state: written aside, then renamed over the old
        one in one step (`Storage.replace`)."""
        self.storage.replace(self.derived / MANIFEST, manifest.model_dump_json(indent=1).encode())

    def collect(self, keep: Manifest | None, grace_seconds: float = GRACE_SECONDS) -> set[str]:
        """Remove what no committed state lists, once older than `grace_seconds` (a reader
        still on an earlier state keeps its files meanwhile): the files `keep` retired
        (partitions replaced by a run), and every directory of a table that no state
        refers to (a run that died, the layout before manifests, a writer's leftovers) with
        manifests written aside and never renamed. Only those directories are walked, not
        the live runs' files. Returns the retired paths removed."""
        cutoff = time.time() - grace_seconds
        removed = set()
        for path, since in (keep.retired if keep else {}).items():
            if since < cutoff:
                target = self.derived / path
                for each in (target, target.with_name(f".{target.name}.crc")):
                    self.storage.delete(each)
                with suppress(OSError):  # the partition's directory, once empty
                    self.storage.delete(target.parent)
                removed.add(path)
        referred = keep.directories() if keep else set()
        for table in (*DERIVED_TABLES, *ROLLUP_TABLES, "_threads"):
            found = self.storage.entry(self.table(table))
            if found is None or not found.is_dir:
                continue
            for entry in self.storage.listdir(found.path):
                if entry.path.relative_to(self.derived).as_posix() in referred:
                    continue
                if not entry.is_dir:
                    if entry.mtime_ns < cutoff * 1e9:
                        self.storage.delete(entry.path)
                elif self._sweep(entry.path, cutoff):
                    self.storage.delete(entry.path)
        for entry in self.storage.listdir(self.derived) if self.storage.entry(self.derived) else []:
            name = entry.path.name
            aside = name.startswith(f"{MANIFEST}.") and name.endswith(".tmp")
            if aside and entry.mtime_ns < cutoff * 1e9:
                self.storage.delete(entry.path)
        return removed

    def _sweep(self, folder: PurePath, cutoff: float) -> bool:
        """Remove the files under `folder` older than `cutoff` (a Unix time) and the
        directories that leaves empty; whether `folder` is empty now."""
        left = False
        for entry in self.storage.listdir(folder):
            if entry.is_dir:
                if self._sweep(entry.path, cutoff):
                    self.storage.delete(entry.path)
                else:
                    left = True
            elif entry.mtime_ns < cutoff * 1e9:
                self.storage.delete(entry.path)
            else:
                left = True
        return not left


@dataclass(frozen=True)
class EventFile:
    """One Parquet file of `events/`: its path, its path relative to the lake (what the state
    records and arrival order sorts), and the workspace its `workspace=` directory names."""

    path: PurePath
    relative: str
    workspace: str | None
    ts_text: bool | None  # whether its times are text (None: it has no ts column)
    size: int
    mtime_ns: int


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


# How deep `events/` may nest directories. Hadoop's file system API does not tell a link to a
# directory from the directory, so a loop of links would be listed without end: it ends here.
MAX_DEPTH = 16


def event_files(lake: Lake, known: Manifest | None = None) -> list[EventFile]:
    """The event files of the lake, in arrival order (by path relative to the lake), each
    checked as Parquet with the columns an event may have: any layout and depth; names
    starting with `_` or `.` (a writer's leftovers, `_SUCCESS`) skipped as Spark skips them;
    links to directories followed, a loop refused. A file that cannot be read, a column of
    another type or unknown, or a directory name that is not a workspace name is a
    `LakeError` naming the file. A file the `known` state was made of, with the same size and
    time, was checked by the run that made it: its footer is not read again."""
    top = lake.storage.entry(lake.events)
    if top is None or not top.is_dir:
        raise LakeError(f"{lake.events} does not exist: the lake's events go there")
    entries: list[Entry] = []

    def walk(folder: PurePath, depth: int) -> None:
        if depth > MAX_DEPTH:
            start = "/".join(folder.relative_to(lake.events).parts[:4])
            raise LakeError(
                f"{lake.events}: directories nested more than {MAX_DEPTH} deep ({start}/...): "
                "a loop of directory links?"
            )
        for entry in lake.storage.listdir(folder):
            name = entry.path.name
            if name.startswith(("_", ".")):
                continue
            if entry.is_dir:
                walk(entry.path, depth + 1)
            elif name.lower().endswith(".parquet"):
                entries.append(entry)

    walk(lake.events, 0)
    found = [_event_file(lake, entry, known) for entry in entries]
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


def _event_file(lake: Lake, entry: Entry, known: Manifest | None) -> EventFile:
    path = entry.path
    relative = path.relative_to(lake.root).as_posix()
    given = [
        unquote(p.removeprefix("workspace="))
        for p in path.relative_to(lake.events).parts[:-1]
        if p.startswith("workspace=")
    ]
    if len(set(given)) > 1:
        raise LakeError(f"{path}: two workspace= directories in its path")
    try:
        workspace = _directory_workspace(given[0]) if given else None
    except ValueError as exc:
        raise LakeError(f"{path}: {exc}") from None
    recorded = known.sources.get(relative, "") if known else ""
    if (
        known is not None
        and known.ts_text is not None
        and recorded.startswith(f"{entry.size}:{entry.mtime_ns}:")
    ):
        ts_text: bool | None = known.ts_text
    else:
        schema = _check_columns(lake.storage, path)
        ts = schema.field("ts").type if "ts" in schema.names else None
        ts_text = None if ts is None else _TEXT[0](ts)
    return EventFile(
        path=path,
        relative=relative,
        workspace=workspace,
        ts_text=ts_text,
        size=entry.size,
        mtime_ns=entry.mtime_ns,
    )


def _directory_workspace(name: str) -> str:
    """The workspace a `workspace=` directory names: a workspace name, and no path (`..`, a
    slash written %2F): a lake's directory names never lead out of it."""
    if name in (".", "..") or "/" in name or "\\" in name:
        raise ValueError(f"workspace= directory {name!r} is a path, not a workspace name")
    return check_workspace_name(name)


def _check_columns(storage: Storage, path: PurePath) -> pa.Schema:
    try:
        with storage.open(path) as f:
            schema = pq.read_schema(f)
    except (pa.ArrowException, OSError) as exc:
        raise LakeError(f"{path}: not a readable Parquet file ({exc})") from None
    for column in schema:
        if column.name not in _KINDS:
            raise LakeError(f"{path}: column {column.name!r} is not an event field")
        accepts, words = _KINDS[column.name]
        if not accepts(column.type):
            raise LakeError(f"{path}: column {column.name} is {column.type}, not {words}")
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
    # whether the event files give times as text (None: not recorded, or no file yet)
    ts_text: bool | None = None
    # files (relative to `derived/`) that states before this one listed and it does not,
    # with the Unix time they were dropped: removed once older than the grace period
    retired: dict[str, float] = {}

    def files(self, lake: Lake, table: str) -> list[str]:
        """A table's files as the lake's storage names them (`Lake.uri`)."""
        return [lake.uri(lake.derived / part.path) for part in self.tables.get(table, [])]

    def workspaces(self) -> set[str]:
        return {part.workspace for part in self.tables.get("conversations", [])}

    def listed(self) -> set[str]:
        """Every file of the state (relative to `derived/`): the tables' and the index's."""
        return {part.path for parts in self.tables.values() for part in parts} | set(self.threads)

    def directories(self) -> set[str]:
        """The run directories (`<table>/run=R`) holding a listed or a retired file."""
        return {"/".join(p.split("/")[:2]) for p in self.listed() | set(self.retired)}


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
        found = self.lake.storage.entry(self.lake.derived / MANIFEST)
        if found is None:
            return self._schemas[-1] if self._schemas else None
        seen = (found.mtime_ns, found.size)
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
