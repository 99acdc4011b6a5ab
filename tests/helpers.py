"""What the tests share besides fixtures: terse event builders for hand-worked scripts, loading
them, reading conversations back, a store's derived tables written as a lake, and the
Hypothesis example counts relative to the chosen profile (see `conftest`)."""

from __future__ import annotations

import inspect
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings

from convoscope import ingest
from convoscope.events import validate_batch
from convoscope.store import AppendResult, Store

T0 = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)  # 10:00 in Toronto (EST, UTC-5)


def at(minutes: float = 0, *, base: datetime = T0, seconds: float = 0) -> str:
    """An RFC 3339 timestamp `minutes` (and `seconds`) after `base`."""
    return (base + timedelta(minutes=minutes, seconds=seconds)).isoformat()


class Script:
    """Builds a thread's events with sequential ids: `s.customer(at(3))`, `s.close(at(9))`."""

    def __init__(self, customer: str = "c1", channel: str = "web_chat", prefix: str = ""):
        self.customer, self.channel = customer, channel
        self.prefix = prefix or f"{channel}-{customer}-"
        self.events: list[dict[str, Any]] = []

    def _add(self, ts: str, **fields: Any) -> Script:
        self.events.append(
            {
                "event_id": f"{self.prefix}{len(self.events) + 1}",
                "ts": ts,
                "channel": self.channel,
                "customer_id": self.customer,
                **fields,
            }
        )
        return self

    def welcome(self, ts: str) -> Script:
        return self._add(ts, type="message", sender="chatbot", welcome=True)

    def bot(self, ts: str, **flow: Any) -> Script:
        """A chatbot message; `flow` fields (flow, flow_type, step, flow_end, fallback) say
        where it is in the chatbot's script."""
        return self._add(ts, type="message", sender="chatbot", **flow)

    def customer_msg(self, ts: str) -> Script:
        return self._add(ts, type="message", sender="customer")

    def teammate(self, ts: str, who: str = "t1") -> Script:
        return self._add(ts, type="message", sender="teammate", teammate_id=who)

    def transfer(self, ts: str) -> Script:
        return self._add(ts, type="transfer_request")

    def csat(self, ts: str, score: int, about: str | None = None) -> Script:
        return self._add(ts, type="csat", score=score, **({"about": about} if about else {}))

    def identify(self, ts: str, customer_ref: str) -> Script:
        """The thread's shopper signed in as the shop's `customer_ref` (SPEC section 8)."""
        return self._add(ts, type="identify", customer_ref=customer_ref)

    def close(self, ts: str, department: str | None = None, who: str | None = None) -> Script:
        extra = {k: v for k, v in (("department", department), ("teammate_id", who)) if v}
        return self._add(ts, type="close", **extra)


def order(
    event_id: str, ts: str, order_id: str, amount: str, currency: str = "CAD", **fields: Any
) -> dict[str, Any]:
    """An `order` event (SPEC section 1): `fields` may give customer_ref, channel and
    customer_id, source, test."""
    return {"event_id": event_id, "ts": ts, "type": "order", "order_id": order_id} | {
        "amount": amount,
        "currency": currency,
        **fields,
    }


def refund(event_id: str, ts: str, order_id: str, amount: str, currency: str = "CAD") -> dict:
    return {"event_id": event_id, "ts": ts, "type": "refund", "order_id": order_id} | {
        "amount": amount,
        "currency": currency,
    }


def load(store: Store, events: list[dict[str, Any]], workspace: str = "w") -> AppendResult:
    return ingest.store_events(store, workspace, validate_batch(events, workspace))


def convs(store: Store, workspace: str = "w") -> list[dict[str, Any]]:
    """The workspace's conversations as dicts, in (channel, customer, start) order."""
    cur = store.con.execute(
        "SELECT * EXCLUDE (thread_key) FROM conversations WHERE workspace = ? "
        "ORDER BY channel, customer_id, started_at, ended_at, conversation_id",
        [workspace],
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def naive(ts: str) -> datetime:
    """An RFC 3339 string as the store's naive UTC datetime."""
    return datetime.fromisoformat(ts).astimezone(UTC).replace(tzinfo=None)


def export_lake(store: Store, root: Path) -> None:
    """The store's derived tables and rollups written as a lake (`convoscope.lake`'s layout,
    the one `spark sessionize` writes: files under `run=<id>/`, a manifest listing them) with
    its workspaces' settings, for engines to read."""
    from urllib.parse import unquote

    from convoscope.lake import DAY_OF, Lake, Manifest, Part
    from convoscope.store import SCHEMA_VERSION

    lake = Lake(root)
    tables: dict[str, list[Part]] = {}
    for table, (via, anchor) in DAY_OF.items():
        source = (
            f"SELECT t.*, CAST(v.{anchor} AS DATE) AS day FROM {table} t "
            f"JOIN {via} v USING (workspace, conversation_id)"
            if via is not None
            else f"SELECT *, CAST({anchor} AS DATE) AS day FROM {table}"
        )
        target = lake.table(table) / "run=1-tests"
        target.mkdir(parents=True)
        store.con.execute(
            f"COPY ({source}) TO '{target}' "
            "(FORMAT parquet, PARTITION_BY (workspace, day), OVERWRITE_OR_IGNORE)"
        )
        tables[table] = [
            Part(
                path=path.relative_to(lake.derived).as_posix(),
                workspace=unquote(path.parent.parent.name.removeprefix("workspace=")),
                day=unquote(path.parent.name.removeprefix("day=")),
            )
            for path in sorted(target.rglob("*.parquet"))
        ]
    lake.commit(
        Manifest(
            schema_version=SCHEMA_VERSION,
            version=1,
            run="1-tests",
            tables=tables,
            sources={},
            settings="",
        )
    )
    settings = {
        name: ws.model_dump(exclude={"name"})
        for name in store.workspace_names()
        for ws in [store.workspace(name)]
        if ws is not None
    }
    (root / "workspaces.json").write_text(json.dumps(settings), encoding="utf-8")


def examples(weight: float = 1.0) -> settings:
    """Hypothesis settings for a property worth `weight` times the profile's example count
    (cheap properties more, a Spark replay far fewer; at least two), no deadline."""
    return settings(
        max_examples=max(2, round(settings.default.max_examples * weight)),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


def scenario_names(module: Any) -> list[str]:
    """The hand-worked scenarios of a test module: its tests of a store (`store`, or the
    module's `loaded` fixture: the store with the module's `scenario()`)."""
    return [
        name
        for name, fn in vars(module).items()
        if name.startswith("test_")
        and list(inspect.signature(fn).parameters) in (["store"], ["loaded"])
    ]


def replay(module: Any, page: Any, tmp_path: Path, monkeypatch: Any) -> list[tuple[Path, Any, Any]]:
    """Run every scenario of `module` on DuckDB, its own assertions included, and return each
    distinct question `page.run` was asked: the lake of the data it was asked on
    (`export_lake`), the query and DuckDB's answer, for another engine to answer alike."""
    asked: list[tuple[Path, Any, Any]] = []
    seen: set[tuple[str, ...]] = set()
    real = page.run

    def recorded(source: Store, query: Any, **options: Any) -> Any:
        result = real(source, query, **options)
        data = source.con.execute("SELECT count(*), sum(hash(event_id)) FROM events").fetchall()
        key = (repr(data), repr(query), repr(source.workspace("w")))
        if key not in seen:  # scenarios that share data and ask the same question: once
            seen.add(key)
            root = tmp_path / f"lake{len(asked)}"
            export_lake(source, root)
            asked.append((root, query, result))
        return result

    monkeypatch.setattr(page, "run", recorded)
    for name in scenario_names(module):
        with Store(tmp_path / f"{name}.duckdb") as store:
            store.ensure_workspace("w", "America/Toronto")
            scenario = getattr(module, name)
            if "loaded" in inspect.signature(scenario).parameters:
                load(store, module.scenario())
            scenario(store)
    monkeypatch.undo()
    return asked
