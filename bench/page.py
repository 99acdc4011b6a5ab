"""Page benchmark: time from clicking a filter to every chart updated, in headless Chromium,
on a database of the one-million-event demo.

Run by hand: `.venv/bin/python -m bench.page [--db PATH]` (without --db it generates the
demo first, ~30 s). Prints the machine and the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from bench.common import machine, machine_line, serving
from convoscope import accounts
from convoscope.store import Store

PASSWORD = "benchmark password"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(machine_line(machine()))
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "page.duckdb"
        if args.db is None:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "convoscope",
                    "demo",
                    "--days",
                    "90",
                    "--per-day",
                    "2100",
                    "--no-serve",
                    "--db",
                    str(db),
                ],
                check=True,
                capture_output=True,
            )
        with Store(db) as store:
            events = store.con.execute("SELECT count(*) FROM events").fetchall()[0][0]
            email = "bench@demo.test"
            try:
                accounts.create_user(store, email, "demo", "admin", PASSWORD)
            except ValueError:
                accounts.set_password(store, email, PASSWORD)
        print(f"database: {events:,} events")
        with serving(db) as server, sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1440, "height": 900}, bypass_csp=True)
            page.goto(f"{server.url}/login")
            page.fill("#email", email)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_function("document.body.dataset.state === 'ready'")
            periods = ["last_30_days", "last_7_days", "today", "last_month", "yesterday"]
            for period in periods:
                times = []
                for _ in range(args.rounds):
                    page.select_option("#period", "this_month")
                    page.wait_for_function("document.body.dataset.state === 'ready'")
                    started = time.perf_counter()
                    page.select_option("#period", period)
                    page.wait_for_function(
                        "document.body.dataset.state === 'ready' "
                        f"&& window.convoscope.state.period === '{period}'"
                    )
                    times.append(time.perf_counter() - started)
                print(
                    f"pick {period}: median {statistics.median(times) * 1000:.0f} ms, "
                    f"max {max(times) * 1000:.0f} ms until all charts are updated"
                )
            browser.close()


if __name__ == "__main__":
    main()
