"""Every registered page over HTTP: `GET /v1/<page>` cold and warm for each period of the
suite, on a real server. Part of `python -m bench`; on its own against an existing database:
`.venv/bin/python -m bench.http_pages --db PATH [--runs 10] [--end YYYY-MM-DD]` (the demo
workspace; `--end` is the demo's last day, default today). Prints the machine and a Markdown
table; asserts nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from bench.common import demo_key, serving, spread, step_parser, timed
from convoscope import pages
from convoscope.query import Query

PERIODS = ("today", "last_7_days", "last_30_days", "last_month", "one_year")


def params(period: str, today: date) -> dict[str, str]:
    """The query string of a period of the suite as the days it covers when `today` is the
    demo's last day (`one_year`: the 365 days before it), so that the server, whose clock
    may be a day past the demo, reads the same days as the in-process step."""
    if period == "one_year":
        first, last = today - timedelta(days=365), today - timedelta(days=1)
    else:
        noon = datetime(today.year, today.month, today.day, 12, tzinfo=UTC)
        q = Query.build("demo", timezone="America/Toronto", period=period, now=noon)
        first, last = q.period.first, q.period.last
    return {"from": first.isoformat(), "to": last.isoformat()}


def page_times(client: httpx.Client, today: date, runs: int) -> dict[str, Any]:
    """page -> period -> {cold_ms, warm} for every registered page."""
    out: dict[str, Any] = {}
    for name, page in pages.PAGES.items():
        out[name] = {}
        for period in PERIODS:
            query = params(period, today)

            def get(p: dict[str, str] = query, path: str = page.api_path) -> None:
                client.get(path, params=p).raise_for_status()

            (cold,) = timed(get, 1)
            out[name][period] = {"cold_ms": round(cold, 1), "warm": spread(timed(get, runs))}
    return out


def print_table(times: dict[str, Any]) -> None:
    names = list(times)
    print("\n| page over HTTP, p50 ms (cold) | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for period in PERIODS:
        cells = [
            f"{times[n][period]['warm']['p50']} ({times[n][period]['cold_ms']})" for n in names
        ]
        print(f"| {period} | " + " | ".join(cells) + " |")


def main() -> None:
    args = step_parser(__doc__).parse_args()
    key = demo_key(args.db)
    with serving(args.db) as server:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=300) as client:
            print_table(page_times(client, args.end, args.runs))


if __name__ == "__main__":
    main()
