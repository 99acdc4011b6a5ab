"""Sales Attribution at scale: a million orders added to a benchmark database (issue 20), then
`GET /v1/sales` over HTTP for each period of the suite. On its own:
`.venv/bin/python -m bench.sales --db PATH [--orders 1000000] [--runs 5] [--end YYYY-MM-DD]`
(PATH: a demo database, e.g. from `python -m bench`; it is written to, so give a copy).

The orders are drawn over the demo's year from its own conversations, so that attribution has
work to do: a quarter of the orders' shoppers signed in on one of their chats (an `identify`
at its start) and buy within three weeks of it, the others are guests or shoppers who never
chatted; one order in twenty gets a refund. Prints the machine, the time to land and derive
them, and a Markdown table; asserts nothing.
"""

from __future__ import annotations

import random
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.common import demo_key, serving, spread, timed
from bench.common import step_parser as parser
from bench.http_pages import PERIODS, params
from convoscope import conversations, ingest
from convoscope.events import validate_batch
from convoscope.store import Store

SEED = 20
BATCH = 100_000


def shop_records(store: Store, orders: int) -> list[dict[str, Any]]:
    """Sign-ins, orders and refunds for the demo workspace's conversations."""
    rng = random.Random(SEED)
    threads = store.con.execute(
        "SELECT channel, customer_id, started_at, ended_at FROM conversations "
        "WHERE workspace = 'demo' AND engaged USING SAMPLE 300000 ROWS"
    ).fetchall()
    (first, last) = store.con.execute(
        "SELECT min(started_at), max(started_at) FROM conversations WHERE workspace = 'demo'"
    ).fetchone() or (None, None)
    assert first is not None and last is not None, "no demo conversations"
    span = (last - first).total_seconds()
    records: list[dict[str, Any]] = []
    for n, (channel, customer, started, _) in enumerate(threads):
        records.append(
            {"event_id": f"bench-identify-{n}", "ts": f"{started.isoformat()}Z",
             "type": "identify", "channel": channel, "customer_id": customer,
             "customer_ref": f"bench-shopper-{n}"}
        )  # fmt: skip
    for n in range(orders):
        if n % 4 == 0 and threads:
            i = rng.randrange(len(threads))
            ended = threads[i][3]
            ts = ended + timedelta(hours=min(rng.lognormvariate(3.5, 1.4), 21 * 24))
            ref: str | None = f"bench-shopper-{i}"
        else:
            ts = first + timedelta(seconds=rng.uniform(0, span))
            ref = None if rng.random() < 0.5 else f"bench-walk-in-{rng.randrange(orders)}"
        order: dict[str, Any] = {
            "event_id": f"bench-order-{n}", "ts": f"{ts.isoformat()}Z", "type": "order",
            "order_id": f"B{n}", "amount": f"{rng.lognormvariate(4.3, 0.7):.2f}",
            "currency": "CAD" if rng.random() < 0.85 else "USD",
        }  # fmt: skip
        if ref:
            order["customer_ref"] = ref
        records.append(order)
        if rng.random() < 0.05:
            records.append(
                {"event_id": f"bench-refund-{n}", "ts": f"{(ts + timedelta(days=3)).isoformat()}Z",
                 "type": "refund", "order_id": f"B{n}", "amount": "5.00",
                 "currency": order["currency"]}
            )  # fmt: skip
    return records


def add_orders(db: Path, orders: int) -> dict[str, float]:
    """Land the records in batches, then derive them; seconds of each step."""
    with Store(db) as store:
        if store.known_event_ids("demo", ["bench-order-0"]):
            return {"records": 0}  # added by an earlier run
        if store.derived_outdated:  # an older file: the messages' ids come with a rebuild
            started = time.perf_counter()
            conversations.rebuild(store)
            rebuilt = time.perf_counter() - started
        else:
            rebuilt = 0.0
        records = shop_records(store, orders)
        store.wake_deriver = lambda: None  # landing alone, then one derivation
        started = time.perf_counter()
        for i in range(0, len(records), BATCH):
            chunk = records[i : i + BATCH]
            ingest.store_batches(store, {"demo": [validate_batch(chunk, "demo")]})
        landed = time.perf_counter() - started
        started = time.perf_counter()
        conversations.settle(store)
        derived = time.perf_counter() - started
    return {
        "rebuild_s": round(rebuilt, 1),
        "records": len(records),
        "land_s": round(landed, 1),
        "derive_s": round(derived, 1),
    }


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--orders", type=int, default=1_000_000)
    args = p.parse_args()
    print(add_orders(args.db, args.orders))
    today: date = args.end
    key = demo_key(args.db)
    with (
        serving(args.db) as server,
        httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=600
        ) as client,
    ):
        print("\n| GET /v1/sales, ms | cold | p50 | p95 |")
        print("|---|---:|---:|---:|")
        for period in PERIODS:
            query = params(period, today)

            def get(q: dict[str, str] = query) -> None:
                client.get("/v1/sales", params=q).raise_for_status()

            (cold,) = timed(get, 1)
            warm = spread(timed(get, args.runs))
            print(f"| {period} | {cold:.0f} | {warm['p50']} | {warm['p95']} |")


if __name__ == "__main__":
    main()
