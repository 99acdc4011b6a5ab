"""The overview in process against the PostgreSQL and pandas baselines on the same
conversations, and Team Performance, Chatbot Performance and Sales Attribution against
PostgreSQL (`postgres_team`, `postgres_chatbot`, `postgres_sales`): every figure checked
equal first, then the runs interleaved so that all see the same machine state; PostgreSQL's
plans of the overview (EXPLAIN ANALYZE) kept with the figures. Part
of `python -m bench`; on its own against an existing demo database:
`.venv/bin/python -m bench.baselines --db PATH [--runs 10] [--end YYYY-MM-DD]`.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import psycopg

from bench import (
    pandas_baseline,
    postgres_baseline,
    postgres_chatbot,
    postgres_sales,
    postgres_team,
)
from bench.common import machine, machine_line, spread, step_parser, timed
from bench.http_pages import PERIODS
from bench.shape import ours
from convoscope.pages import chatbot, overview, sales, team
from convoscope.query import Query
from convoscope.store import Store


def queries(today: date) -> dict[str, Query]:
    """The suite's periods, asked at noon UTC of `today` (the demo's last day)."""
    first = today - timedelta(days=365)
    now = datetime(today.year, today.month, today.day, 12, tzinfo=UTC)
    return {
        name: Query.build(
            "demo",
            timezone="America/Toronto",
            now=now,
            **(
                {"date_from": first, "date_to": today - timedelta(days=1)}
                if name == "one_year"
                else {"period": name}
            ),
        )
        for name in PERIODS
    }


def overview_in_process(db: Path, today: date, runs: int, work: Path) -> dict[str, Any]:
    """The overview and the other pages cold and warm against the baselines, each checked
    equal first and run interleaved (pandas for the overview only)."""
    out: dict[str, Any] = {}
    with (
        Store(db) as store,
        postgres_baseline.postgres() as dsn,
        psycopg.connect(dsn) as pg,
    ):
        loaded = time.perf_counter()
        frames = pandas_baseline.load(store, "demo")
        out["pandas_load_s"] = round(time.perf_counter() - loaded, 1)
        loaded = time.perf_counter()
        postgres_team.load(store, pg, work)
        postgres_chatbot.load(store, pg, work)
        postgres_sales.load(store, pg, work)
        out["postgres_load_s"] = round(
            time.perf_counter() - loaded + postgres_baseline.load(store, pg, work), 1
        )
        for name, query in queries(today).items():
            (cold,) = timed(partial(overview.run, store, query), 1)
            mine = ours(store, query)
            if postgres_baseline.postgres_overview(pg, query) != mine:
                raise SystemExit(f"{name}: PostgreSQL's numbers differ from convoscope's")
            if pandas_baseline.overview(frames, query) != mine:
                raise SystemExit(f"{name}: pandas's numbers differ from convoscope's")
            out.setdefault("postgres_plans", {})[name] = postgres_baseline.plans(pg, query)
            warm: dict[str, list[float]] = {"convoscope": [], "postgres": [], "pandas": []}
            for _ in range(runs):
                warm["convoscope"] += timed(partial(overview.run, store, query), 1)
                warm["postgres"] += timed(
                    partial(postgres_baseline.postgres_overview, pg, query), 1
                )
                warm["pandas"] += timed(partial(pandas_baseline.overview, frames, query), 1)
            out[name] = {"cold_ms": round(cold, 1)} | {k: spread(v) for k, v in warm.items()}
            out.setdefault("team", {})[name] = _against(
                name,
                runs,
                partial(team.run, store, query),
                partial(postgres_team.ours, store, query),
                partial(postgres_team.postgres_team, pg, query),
            )
            out.setdefault("chatbot", {})[name] = _against(
                name,
                runs,
                partial(chatbot.run, store, query),
                partial(postgres_chatbot.ours, store, query),
                partial(postgres_chatbot.postgres_chatbot, pg, store, query),
            )
            out.setdefault("chatbot_plans", {})[name] = postgres_chatbot.plans(pg, store, query)
            out.setdefault("sales", {})[name] = _against(
                name,
                runs,
                partial(sales.run, store, query),
                partial(postgres_sales.ours, store, query),
                partial(postgres_sales.postgres_sales, pg, store, query),
            )
            out.setdefault("sales_plans", {})[name] = postgres_sales.plans(pg, store, query)
    return out


def _against(
    name: str,
    runs: int,
    page: Callable[[], object],
    ours: Callable[[], dict],
    theirs: Callable[[], dict],
) -> dict:
    """A page against PostgreSQL: its numbers checked equal (`postgres_team.same`), then the
    two interleaved."""
    (cold,) = timed(page, 1)
    if not postgres_team.same(theirs(), ours()):
        raise SystemExit(f"{name}: PostgreSQL's numbers differ from convoscope's")
    warm: dict[str, list[float]] = {"convoscope": [], "postgres": []}
    for _ in range(runs):
        warm["convoscope"] += timed(page, 1)
        warm["postgres"] += timed(theirs, 1)
    return {"cold_ms": round(cold, 1)} | {k: spread(v) for k, v in warm.items()}


def ratio(base: float, mine: float) -> str:
    return f"{base / mine:.1f}x" if mine else "-"


def print_table(o: dict[str, Any]) -> None:
    print(
        "\n| overview in process (ms) | cold | p50 | p95 | PostgreSQL p50 | PG/ours "
        "| pandas p50 | pandas/ours |\n|---|" + "---:|" * 7
    )
    for name in PERIODS:
        r = o[name]
        mine, pg, pd_ = r["convoscope"]["p50"], r["postgres"]["p50"], r["pandas"]["p50"]
        print(
            f"| {name} | {r['cold_ms']} | {mine} | {r['convoscope']['p95']} | {pg} "
            f"| {ratio(pg, mine)} | {pd_} | {ratio(pd_, mine)} |"
        )


def print_team(o: dict[str, Any], key: str = "team", title: str = "Team Performance") -> None:
    print(
        f"\n| {title} in process (ms) | cold | p50 | p95 | PostgreSQL p50 | PG/ours |"
        "\n|---|" + "---:|" * 5
    )
    for name in PERIODS:
        r = o[key][name]
        mine, pg = r["convoscope"]["p50"], r["postgres"]["p50"]
        print(
            f"| {name} | {r['cold_ms']} | {mine} | {r['convoscope']['p95']} | {pg} "
            f"| {ratio(pg, mine)} |"
        )


def print_plans(o: dict[str, Any], key: str = "postgres_plans", title: str = "") -> None:
    print(f"\nPostgreSQL's plans{title} (EXPLAIN ANALYZE, one run):")
    for name in PERIODS:
        for statement, plan in o[key][name].items():
            print(f"- {name}, {statement}: {plan}")


def main() -> None:
    args = step_parser(__doc__).parse_args()
    print(machine_line(machine()))
    with tempfile.TemporaryDirectory() as tmp:
        o = overview_in_process(args.db, args.end, args.runs, Path(tmp))
    print_table(o)
    print_team(o)
    print_team(o, "chatbot", "Chatbot Performance")
    print_team(o, "sales", "Sales Attribution")
    print_plans(o)
    print_plans(o, "chatbot_plans", " of Chatbot Performance")
    print_plans(o, "sales_plans", " of Sales Attribution")


if __name__ == "__main__":
    main()
