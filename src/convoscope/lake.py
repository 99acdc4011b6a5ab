"""The lake: one directory of Parquet that Spark derives and DuckDB serves (issue 12).

Layout (every path under the lake directory `LAKE`):

- `events/`: SPEC events as Parquet, written by the platform's pipeline, with a `workspace`
  column or in `workspace=W/` directories (Hive style, more levels such as `day=D/` allowed),
  any file names. `ts` is a timestamp (an instant, or zone-less UTC) or RFC 3339 text.
- `workspaces.json` (optional): per-workspace settings, `{"shop": {"timezone": "Europe/Paris",
  "inactivity_seconds": 600, "escalated_inactivity_seconds": 86400, "csat_window_seconds":
  604800, "business_hours": {"monday": [["09:00", "17:00"]]}}}`; a workspace not named there,
  or a key left out, has the defaults of a new workspace in the store (its zone: UTC).
- `derived/<table>/workspace=W/day=YYYY-MM-DD/*.parquet`: the derived tables of the store
  (`store.DERIVED_TABLES`), written by `convoscope spark sessionize`, partitioned by workspace
  and the UTC day of each row's anchor (`DAY_OF`), so that a period reads only its days.
- `derived/conversation_slots/`, `derived/event_slots/`: the rollups of `convoscope.rollups`,
  partitioned the same way by the UTC day of their slot, so that the overview of a long
  period sums slots instead of reading rows, on a lake as in the DuckDB file.
- `derived/_state.json`: the event files the derived tables are made of (incremental runs).

Arrival order on the lake (the spec's tie-break for events at the same instant of one thread)
is the order of the event files by path, then of the rows in a file: `seq` is the file's rank
times 2^32 plus the row's index in its file.
"""

from __future__ import annotations

import glob
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import duckdb
from pydantic import ValidationError

from convoscope.store import DERIVED_TABLES, ROLLUP_TABLES, Settings, Store, Workspace
from convoscope.store.tables import TABLES

STATE_FILE = "_state.json"
# The timestamp that places each row in a day partition: `(table it is read from, column)`,
# the table being the row's own (None) or, for rows with no time of their own, the conversation
# they are keyed by (a conversation's teammates sit in the day of its start). Every writer of
# the layout follows it: `engines.spark.sessionize` and the tests' DuckDB writer.
DAY_OF: dict[str, tuple[str | None, str]] = {
    "conversations": (None, "started_at"),
    "conversation_teammates": ("conversations", "started_at"),
    "orphan_closes": (None, "ts"),
    "surveys": (None, "ts"),
    "response_waits": (None, "waited_from"),
    "conversation_events": (None, "ts"),
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
        found = {
            unquote(d.name.removeprefix("workspace="))
            for d in self.table("conversations").glob("workspace=*")
        }
        return sorted(found | set(self.settings()))

    def workspace(self, name: str) -> Workspace | None:
        """A workspace of the lake as the store describes one (zone, limits, hours)."""
        if name not in self.workspace_names():
            return None
        settings = self.settings().get(name, DEFAULTS)
        return Workspace(name=name, **settings.model_dump())

    def state(self) -> list[str] | None:
        """The event files the derived tables were made of, or None (never derived, or a full
        run that did not finish)."""
        path = self.derived / STATE_FILE
        if not path.exists():
            return None
        files = json.loads(path.read_text(encoding="utf-8"))["files"]
        return list(files)

    def save_state(self, files: list[str]) -> None:
        """Written last and atomically (rename): a run that stops before it is run again."""
        self.derived.mkdir(parents=True, exist_ok=True)
        tmp = self.derived / f"{STATE_FILE}.tmp"
        tmp.write_text(json.dumps({"files": sorted(files)}, indent=1), encoding="utf-8")
        tmp.replace(self.derived / STATE_FILE)

    def forget_state(self) -> None:
        (self.derived / STATE_FILE).unlink(missing_ok=True)


def parquet_glob(directory: Path) -> str:
    return str(directory / "**" / "*.parquet")


class LakeTables:
    """The lake's derived tables read by DuckDB, for `convoscope serve --lake`: read-only.

    An in-memory store holds the schema; each derived table and rollup with files becomes a
    view of the same name and column types over its Parquet (Hive partitions, so a workspace
    named like a number stays text), so `overview` and `team` read it unchanged. Spark writes
    one file per workspace and day, so Parquet's statistics skip the days outside a period.
    Workspace settings (zone, business
    hours) come from `workspace`: the accounts database when serving (where the workspaces'
    users are), the lake's `workspaces.json` for a report.
    """

    def __init__(self, lake: Lake, workspace: Callable[[str], Workspace | None]):
        if not lake.derived.is_dir():
            raise LakeError(
                f"{lake.derived} does not exist; run `convoscope spark sessionize --lake "
                f"{lake.root}` first"
            )
        self.lake = lake
        self._db = Store(":memory:")
        self.workspace = workspace
        # a lake derived before the rollups were has none: the overview then reads rows
        self.rollups = all(lake.table(t).is_dir() for t in ROLLUP_TABLES)
        con = self._db.con
        for table in (*DERIVED_TABLES, *ROLLUP_TABLES):
            files = parquet_glob(lake.table(table))
            if not glob.glob(files, recursive=True):
                continue  # nothing of this kind yet: the empty table stays
            # thread_key is the store's own hash, not the lake's: nothing that reads uses it
            select = ", ".join(
                f"CAST(NULL AS {c.type}) AS {c.name}"
                if c.name == "thread_key"
                else f"CAST({c.name} AS {c.type}) AS {c.name}"
                for c in TABLES[table].columns
            )
            con.execute(f"DROP TABLE {table}")
            con.execute(
                f"CREATE VIEW {table} AS SELECT {select} FROM read_parquet({_literal(files)}, "
                "hive_partitioning = true, hive_types = {'workspace': VARCHAR, 'day': DATE})"
            )

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        return self._db.con

    def channels(self, workspace: str) -> list[str]:
        """Channels with conversations, orphan closes or surveys (the lake's events are the
        platform's, not read here)."""
        return [r[0] for r in self.con.execute(CHANNELS_SQL, {"ws": workspace}).fetchall()]

    def departments(self, workspace: str) -> list[str]:
        return self._db.departments(workspace)

    def teammates(self, workspace: str) -> list[str]:
        return self._db.teammates(workspace)

    def close(self) -> None:
        self._db.close()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
