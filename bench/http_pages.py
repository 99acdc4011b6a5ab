"""Every registered page over HTTP: `GET /v1/<page>` cold and warm for each period of the
suite, on a real server. Part of `python -m bench`; on its own against an existing database:
`.venv/bin/python -m bench.http_pages --db PATH [--runs 10] [--end YYYY-MM-DD]` (the demo
workspace; `--end` is the demo's last day, default today). Prints the machine and a Markdown
table; asserts nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx

from bench.common import demo_key, serving, spread, step_parser, timed
from convoscope import pages

PERIODS = ("today", "last_7_days", "last_30_days", "last_month", "one_year")


def params(period: str, today: date) -> dict[str, str]:
    """The query string of a period of the suite (`one_year`: the 365 days before today)."""
    if period != "one_year":
        return {"period": period}
    return {
        "from": (today - timedelta(days=365)).isoformat(),
        "to": (today - timedelta(days=1)).isoformat(),
    }


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
