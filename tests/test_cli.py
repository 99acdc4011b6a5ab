"""The `convoscope` command on real files: JSONL, CSV and Parquet imports, bad files, the
JSON report, the department export and the demo."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_overview import scenario
from typer.testing import CliRunner

import convoscope
from convoscope.cli import app
from convoscope.event_fields import CONTENT_FIELDS
from convoscope.store import Store

runner = CliRunner()
PERIOD = ["--from", "2026-11-10", "--to", "2026-11-11"]
FIELDS = ["event_id", *CONTENT_FIELDS]


def cli(*args: str, db) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--db", str(db)])
    return result.exit_code, result.stdout, result.stderr


def write_jsonl(path, events):
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")


def write_csv(path, events):
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, FIELDS)
        writer.writeheader()
        for e in events:
            writer.writerow({k: str(v).lower() if isinstance(v, bool) else v for k, v in e.items()})


def write_parquet(path, events):
    rows = [{k: e.get(k) for k in FIELDS} for e in events]
    for r in rows:
        r["ts"] = datetime.fromisoformat(r["ts"])
        r["welcome"] = bool(r["welcome"])
    pq.write_table(pa.Table.from_pylist(rows), path)


def report(db) -> dict:
    code, out, err = cli("report", "-w", "shop", *PERIOD, "--format", "json", db=db)
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize(
    ("suffix", "writer"),
    [(".jsonl", write_jsonl), (".csv", write_csv), (".parquet", write_parquet)],
)
def test_import_each_format_gives_the_hand_worked_numbers(tmp_path, suffix, writer):
    db, path = tmp_path / "cs.duckdb", tmp_path / f"events{suffix}"
    writer(path, scenario())
    code, out, err = cli("import", str(path), "-w", "shop", db=db)
    assert code == 0, err
    assert f"{len(scenario())} accepted, 0 duplicates" in out
    tiles = report(db)["tiles"]
    assert (
        tiles["total_conversations"],
        tiles["engaged_conversations"],
        tiles["unique_customers"],
    ) == (6, 5, 4)
    code, out, _ = cli("import", str(path), "-w", "shop", db=db)
    assert f"0 accepted, {len(scenario())} duplicates" in out


def test_bad_file_is_rejected_whole_with_the_record_and_field_named(tmp_path):
    db, path = tmp_path / "cs.duckdb", tmp_path / "bad.jsonl"
    events = scenario()
    events[17]["ts"] = "2026-11-10T10:00:00"
    write_jsonl(path, events)
    code, _, err = cli("import", str(path), "-w", "shop", db=db)
    assert code == 1
    assert f'event 17 (id "{events[17]["event_id"]}"): ts: timestamp has no UTC offset' in err
    code, _, err = cli("report", "-w", "shop", *PERIOD, "--format", "json", db=db)
    assert code == 2 and "no workspace 'shop'" in err  # a rejected file creates nothing


def test_bad_record_in_a_later_batch_rolls_back_earlier_batches(tmp_path, monkeypatch):
    monkeypatch.setattr("convoscope.adapters.files.BATCH_SIZE", 5)
    monkeypatch.setattr("convoscope.adapters.files.read_events.__defaults__", (5, None))
    db, path = tmp_path / "cs.duckdb", tmp_path / "bad.csv"
    events = scenario()
    events[-1]["type"] = "note"
    write_csv(path, events)
    code, _, err = cli("import", str(path), "-w", "shop", db=db)
    assert code == 1 and f"event {len(events) - 1}" in err and "type:" in err
    code, _, err = cli("report", "-w", "shop", *PERIOD, db=db)
    assert code == 2 and "no workspace 'shop'" in err


def test_broken_json_line_is_named(tmp_path):
    db, path = tmp_path / "cs.duckdb", tmp_path / "bad.jsonl"
    path.write_text('{"event_id": "a"}\n{not json\n', encoding="utf-8")
    code, _, err = cli("import", str(path), "-w", "shop", db=db)
    assert code == 1 and "line 2" in err


def test_unknown_extension_asks_for_format(tmp_path):
    path = tmp_path / "events.txt"
    path.write_text("", encoding="utf-8")
    code, _, err = cli("import", str(path), "-w", "shop", db=tmp_path / "cs.duckdb")
    assert code == 2 and "--format" in err


def test_report_export_and_bad_options(tmp_path):
    db, path = tmp_path / "cs.duckdb", tmp_path / "events.jsonl"
    write_jsonl(path, scenario())
    cli("import", str(path), "-w", "shop", db=db)
    data = report(db)
    assert data["period"] == {
        "from": "2026-11-10",
        "to": "2026-11-11",
        "timezone": "America/Toronto",
    }
    assert data["closed_by_department"][2]["department"] is None
    out_file = tmp_path / "d.csv"
    code, _, err = cli("export", "departments", "-w", "shop", *PERIOD, "-o", str(out_file), db=db)
    assert code == 0, err
    assert out_file.read_text(encoding="utf-8").splitlines()[1:] == [
        "Returns,2,1,1020.0",
        "Sales,1,1,1680.0",
        "No department,1,1,2880.0",
    ]
    code, out, _ = cli("report", "-w", "shop", *PERIOD, "--channels", "web_chat", db=db)
    assert code == 0 and "Total conversations" in out
    code, _, err = cli("report", "-w", "shop", "--period", "fortnight", db=db)
    assert code == 2 and "--period" in err
    code, _, err = cli("report", "-w", "shop", *PERIOD, "--tz", "Nowhere/Else", db=db)
    assert code == 2 and "--tz" in err
    code, _, err = cli("report", "-w", "nobody", *PERIOD, db=db)
    assert code == 2 and "no workspace 'nobody'" in err and "(workspaces: shop)" in err


def test_tz_option_overrides_the_workspace_zone(tmp_path):
    db, path = tmp_path / "cs.duckdb", tmp_path / "events.jsonl"
    write_jsonl(path, scenario())
    cli("import", str(path), "-w", "shop", db=db)
    _, out, _ = cli("report", "-w", "shop", *PERIOD, "--tz", "UTC", "--format", "json", db=db)
    data = json.loads(out)
    assert data["buckets"][0] == "2026-11-10T00:00:00+00:00"
    # In UTC, C1 (04:50Z on the 11th) moves to the second day.
    assert data["engagement"]["engaged"] == [2, 3]


def test_demo_is_deterministic_and_believable(tmp_path):
    args = [
        "demo",
        "--days",
        "14",
        "--per-day",
        "60",
        "--seed",
        "3",
        "--end",
        "2026-11-20",
        "--no-serve",
    ]
    reports = []
    for name in ("a.duckdb", "b.duckdb"):  # two databases from the same seed and end date
        code, out, err = cli(*args, db=tmp_path / name)
        assert code == 0 and "Total conversations" in out, err
        period = ["--from", "2026-11-07", "--to", "2026-11-20", "--format", "json"]
        reports.append(cli("report", "-w", "demo", *period, db=tmp_path / name)[1])
    first, second = reports
    assert first == second
    data = json.loads(first)
    t = data["tiles"]
    assert 600 < t["total_conversations"] < 1100
    share = 1 - t["engaged_conversations"] / t["total_conversations"]
    assert 0.2 < share < 0.45  # about a third never engage
    depts = {d["department"] for d in data["closed_by_department"]}
    assert {"Orders", "Returns", "Sales", "Technical support", None} <= depts
    assert sum(data["traffic"]["transfer_requests"]) > 0


def test_the_demo_stored_in_chunks_generated_ahead_is_the_demo_stored_at_once(
    tmp_path, monkeypatch
):
    # the next chunk is generated in a thread while this one is checked: the events land
    # with the same arrival numbers as when the whole demo is one chunk
    from convoscope.cli import serve

    args = ["demo", "--days", "5", "--per-day", "40", "--end", "2026-11-20", "--no-serve"]
    columns = "seq, event_id, ts, type, channel, customer_id, sender, order_id, amount"
    stored = []
    for chunk, name in ((250, "chunks.duckdb"), (serve.DEMO_CHUNK, "once.duckdb")):
        monkeypatch.setattr(serve, "DEMO_CHUNK", chunk)
        code, _, err = cli(*args, db=tmp_path / name)
        assert code == 0, err
        with Store(tmp_path / name) as store:
            rows = store.con.execute(f"SELECT {columns} FROM events ORDER BY seq").fetchall()
        stored.append(rows)
    assert len(stored[0]) > 4 * 250 and stored[0] == stored[1]


def test_the_demo_s_weighted_draws_are_random_choices_draws():
    import random

    from convoscope import demo

    hours = tuple(zip(range(24), demo.HOURS, strict=True))
    for weighted in (demo.CHANNELS, demo.DEPARTMENTS, hours):
        values, weights = zip(*weighted, strict=True)
        drawn, expected = random.Random(5), random.Random(5)
        picker = demo._Weighted(weighted)
        assert [picker.pick(drawn) for _ in range(500)] == [
            expected.choices(values, weights)[0] for _ in range(500)
        ]


def test_installed_entry_point_runs(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "convoscope", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and "import" in result.stdout


def test_workspace_user_and_key_commands(tmp_path):
    db = tmp_path / "cs.duckdb"
    code, out, _ = cli("workspace", "create", "shop", "--timezone", "Europe/Paris", db=db)
    assert code == 0 and "Europe/Paris" in out
    result = runner.invoke(
        app,
        ["user", "create", "Boss@Shop.test", "-w", "shop", "--db", str(db)],
        input="a long passphrase\n",
    )
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(
        app, ["user", "create", "x@shop.test", "-w", "shop", "--db", str(db)], input="short\n"
    )
    assert result.exit_code == 2 and "at least 10" in result.stderr
    code, out, _ = cli("key", "create", "-w", "shop", "--name", "crm", db=db)
    key = out.strip().splitlines()[-1]
    assert code == 0 and key.startswith("csk_")
    from convoscope import accounts
    from convoscope.store import Store

    with Store(db) as store:
        assert accounts.principal_for_key(store, key).workspace == "shop"
        assert accounts.check_password(store, "boss@shop.test", "a long passphrase").is_admin
        stored = store.con.execute("SELECT key_hash FROM api_keys").fetchall()[0][0]
        assert key[17:] not in stored and len(stored) == 64  # csk_ + 12 hex + _ = 17
        assert (
            store.con.execute("SELECT password_hash FROM users")
            .fetchall()[0][0]
            .startswith("$argon2")
        )
    code, _, err = cli("key", "create", "-w", "nope", db=db)
    assert code == 2 and "no workspace" in err
    key_id = key[4:16]
    code, out, _ = cli("key", "list", "-w", "shop", db=db)
    assert code == 0 and key_id in out and "admin" in out and key[17:] not in out
    assert cli("key", "revoke", key_id, db=db)[0] == 0
    with Store(db) as store:
        assert accounts.principal_for_key(store, key) is None
    code, _, err = cli("key", "revoke", key_id, db=db)
    assert code == 2 and "no active key" in err


def test_demo_serves_the_dashboard_with_printed_credentials(tmp_path):
    import re
    import signal

    import httpx
    from server import free_port

    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "convoscope",
            "demo",
            "--days",
            "7",
            "--per-day",
            "50",
            "--port",
            str(port),
            "--db",
            str(tmp_path / "demo.duckdb"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Sign in:"):
                break
        email, password = re.match(r"Sign in: (\S+) / (\S+)", lines[-1]).groups()
        assert f"Dashboard: http://127.0.0.1:{port}/" in "".join(lines)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(100):
                try:
                    client.get("/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            assert client.post("/login", data={"email": email, "password": password}).is_success
            page = client.get("/")
            assert page.status_code == 200 and "echarts.min.js" in page.text
            data = client.get("/v1/overview", params={"period": "last_7_days"}).json()
            assert data["tiles"]["total_conversations"] > 100
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def test_twcs_file_is_stored_whole_or_not_at_all_across_brands(tmp_path):
    path, db = tmp_path / "two.csv", tmp_path / "cs.duckdb"
    path.write_text(
        "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
        "1,111,True,Tue Oct 31 22:10:47 +0000 2017,@BrandA help,2,\n"
        "2,BrandA,False,Tue Oct 31 22:11:47 +0000 2017,@111 sure ^JK,,1\n"
        "3,222,True,Tue Oct 31 22:10:47 +0000 2017,@BrandB help,4,\n"
        "4,BrandB,False,Tue Oct 31 22:12:47 +0000 2017,@222 ok,,3\n",
        encoding="utf-8",
    )
    taken = tmp_path / "taken.jsonl"  # BrandB already holds twcs-4, with other content
    write_jsonl(taken, [{**scenario()[0], "event_id": "twcs-4"}])
    assert cli("import", str(taken), "-w", "BrandB", db=db)[0] == 0
    code, _, err = cli("import", str(path), "--format", "twcs", db=db)
    assert code == 1 and "twcs-4" in err
    code, out, _ = cli("workspace", "list", db=db)
    assert "BrandB" in out and "BrandA" not in out  # nothing of BrandA, not even its workspace
    code, out, _ = cli("import", str(path), "--format", "twcs", db=tmp_path / "fresh.duckdb")
    assert code == 0 and "into workspace 'BrandA'" in out and "into workspace 'BrandB'" in out


def test_report_reads_well_at_80_columns(tmp_path):
    db, path = tmp_path / "cs.duckdb", tmp_path / "events.jsonl"
    write_jsonl(path, scenario())
    cli("import", str(path), "-w", "shop", db=db)
    result = runner.invoke(
        app, ["report", "-w", "shop", *PERIOD, "--db", str(db)], env={"COLUMNS": "80"}
    )
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "…" not in result.stdout
    assert any(line.strip().startswith("2026-11-10") for line in lines)
    hourly = runner.invoke(
        app,
        ["report", "-w", "shop", "--from", "2026-11-10", "--to", "2026-11-10", "--db", str(db)],
        env={"COLUMNS": "80"},
    )
    assert any(line.strip().startswith("10:00") for line in hourly.stdout.splitlines())


def test_helpful_errors_for_channels_workspaces_and_databases(tmp_path):
    db, path = tmp_path / "cs.duckdb", tmp_path / "events.jsonl"
    write_jsonl(path, scenario())
    cli("import", str(path), "-w", "shop", db=db)
    code, _, err = cli("report", "-w", "shop", *PERIOD, "--channels", "telegram", db=db)
    assert code == 2 and "no data on telegram" in err and "(channels: email, instagram," in err
    missing = tmp_path / "nowhere.duckdb"
    code, _, err = cli("report", "-w", "shop", db=missing)
    assert code == 2 and "no database at" in err and not missing.exists()
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("convoscope ")
    code, out, _ = cli("workspace", "list", db=db)
    assert code == 0 and "shop" in out and "America/Toronto" in out


def test_user_list_and_password_reset(tmp_path):
    db = tmp_path / "cs.duckdb"
    cli("workspace", "create", "shop", db=db)
    for email in ("b@shop.test", "a@shop.test"):
        result = runner.invoke(
            app,
            ["user", "create", email, "-w", "shop", "--db", str(db)],
            input="first passphrase\n",
        )
        assert result.exit_code == 0
    code, out, _ = cli("user", "list", "-w", "shop", db=db)
    assert code == 0 and out.index("a@shop.test") < out.index("b@shop.test")
    result = runner.invoke(
        app, ["user", "password", "A@shop.test", "--db", str(db)], input="second passphrase\n"
    )
    assert result.exit_code == 0, result.stderr
    from convoscope import accounts
    from convoscope.store import Store

    with Store(db) as store:
        assert accounts.check_password(store, "a@shop.test", "first passphrase") is None
        assert accounts.check_password(store, "a@shop.test", "second passphrase") is not None
    result = runner.invoke(
        app, ["user", "password", "nobody@shop.test", "--db", str(db)], input="third passphrase\n"
    )
    assert result.exit_code == 2 and "no user" in result.stderr


def test_demo_on_a_busy_port_says_so_before_doing_anything(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, out, err = cli("demo", "--days", "1", "--port", str(port), db=tmp_path / "d.duckdb")
    assert code == 2 and f"127.0.0.1:{port} is in use" in err and "--port" in err
    assert "Sign in" not in out and not (tmp_path / "d.duckdb").exists()


def test_team_report_and_teammates_export(tmp_path):
    from test_team import scenario as team_scenario

    db, path = tmp_path / "cs.duckdb", tmp_path / "events.jsonl"
    write_jsonl(path, team_scenario())
    cli("import", str(path), "-w", "shop", db=db)
    code, out, err = cli(
        "report", "--page", "team", "-w", "shop", *PERIOD, "--format", "json", db=db
    )
    assert code == 0, err
    data = json.loads(out)  # the same numbers as tests/test_team.py works out by hand
    assert data["tiles"]["initial_response_seconds"]["p90"] == 516.0
    assert data["csat_breakdown"] == {"1": 0, "2": 1, "3": 1, "4": 1, "5": 1}
    assert [r["teammate_id"] for r in data["by_teammate"]] == ["amy", "bo", None]
    code, out, _ = cli(
        "report",
        "--page",
        "team",
        "-w",
        "shop",
        *PERIOD,
        "--departments",
        "(none)",
        "--format",
        "json",
        db=db,
    )
    assert json.loads(out)["tiles"]["csat"] == {"mean": 2.5, "count": 2}
    result = runner.invoke(
        app,
        ["report", "--page", "team", "-w", "shop", *PERIOD, "--db", str(db)],
        env={"COLUMNS": "80"},
    )
    assert result.exit_code == 0 and "Unknown teammate" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert "…" not in result.stdout
    out_file = tmp_path / "t.csv"
    code, _, err = cli(
        "export",
        "teammates",
        "-w",
        "shop",
        *PERIOD,
        "--teammates",
        "amy",
        "-o",
        str(out_file),
        db=db,
    )
    assert code == 0 and "(1 teammates)" in err
    lines = out_file.read_text(encoding="utf-8").splitlines()
    assert lines[1] == (
        "amy,390.0,390.0,558.0,2,,,,0,540.0,540.0,540.0,1,540.0,540.0,540.0,1,4.0,2,2,1"
    )
    code, _, err = cli("report", "--page", "staff", "-w", "shop", db=db)
    assert code == 2 and "--page" in err


def test_an_upgrade_short_of_memory_says_so_and_is_done_on_the_next_run(tmp_path, monkeypatch):
    from convoscope import demo, ingest
    from convoscope.events import validate_batch
    from convoscope.store import Store

    db = tmp_path / "old.duckdb"
    with Store(db) as store:  # as a schema upgrade that adds derived facts leaves a file
        store.ensure_workspace("w")
        records = list(demo.generate(days=20, per_day=300, seed=1, end=date(2026, 11, 20)))
        ingest.store_events(store, "w", validate_batch(records, "w"))
        store.con.execute("INSERT INTO meta VALUES ('derived_outdated', '1')")
    monkeypatch.setenv("CONVOSCOPE_MEMORY_LIMIT", "4MB")
    r = runner.invoke(app, ["report", "--db", str(db), "-w", "w", "--period", "last_month"])
    assert r.exit_code == 1 and "not enough memory to recompute" in r.output
    assert "Traceback" not in r.output
    monkeypatch.setenv("CONVOSCOPE_MEMORY_LIMIT", "1GB")
    r = runner.invoke(
        app,
        [
            "report",
            "--db",
            str(db),
            "-w",
            "w",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-20",
            "--format",
            "json",
        ],
    )
    assert r.exit_code == 0 and json.loads(r.stdout)["tiles"]["total_conversations"] > 5000
    with Store(db) as store:
        assert not store.derived_outdated


def test_a_rebuild_short_of_duckdb_s_own_memory_says_so(tmp_path, monkeypatch):
    # with no cap set, a rebuild may use what DuckDB sizes itself: raising the cap is no advice
    import duckdb

    from convoscope import conversations

    def short(store: Store) -> None:
        raise duckdb.OutOfMemoryException("could not allocate")

    db = tmp_path / "cs.duckdb"
    cli("workspace", "create", "shop", db=db)
    monkeypatch.delenv("CONVOSCOPE_MEMORY_LIMIT", raising=False)
    monkeypatch.setattr(conversations, "rebuild", short)
    r = runner.invoke(app, ["rebuild", "--db", str(db)])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "not enough memory to recompute the conversations (DuckDB may use 80 %" in r.output
    assert "free memory and run the command again" in r.output


def test_rebuild_restores_time_order_and_changes_no_number(tmp_path):
    from convoscope import ingest
    from convoscope.events import validate_batch
    from convoscope.store import ROLLUP_TABLES, Store

    db = tmp_path / "cs.duckdb"
    cli("workspace", "create", "shop", db=db)
    late, early = [
        [
            {
                "event_id": f"{name}{i}",
                "ts": f"2026-11-{day:02d}T1{i}:00:00Z",
                "channel": "web_chat",
                "customer_id": f"{name}-customer",
                "type": "message",
                "sender": "customer",
            }
            for i in range(3)
        ]
        for name, day in (("late", 20), ("early", 2))
    ]
    with Store(db) as store:  # the later day arrives first: the table is out of time order
        for batch in (late, early):
            ingest.store_events(store, "shop", validate_batch(batch, "shop"))

    def state() -> tuple:
        with Store(db) as store:
            starts = store.con.execute("SELECT started_at FROM conversations").fetchall()
            sums = [
                store.con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
                for t in ROLLUP_TABLES
            ]
        return starts, sums

    before, sums = state()
    assert before != sorted(before)
    code, out, _ = cli("rebuild", db=db)
    assert code == 0 and "6 conversations recomputed" in out
    after, sums_after = state()
    assert after == sorted(before) and sums_after == sums
    code, _, err = cli("rebuild", db=tmp_path / "missing.duckdb")
    assert code == 2 and "no database" in err


def test_dates_and_output_files_are_explained_not_tracebacks(tmp_path):
    db = tmp_path / "d.duckdb"
    assert cli("workspace", "create", "shop", db=db)[0] == 0
    for given in ("2026-11-31", "04/12/2026"):
        code, _, stderr = cli("report", "-w", "shop", "--from", given, "--to", "2026-12-01", db=db)
        assert code == 2 and stderr == f"error: --from: '{given}' is not a date (use YYYY-MM-DD)\n"
    for target, why in (
        (tmp_path / "missing" / "x.csv", "No such file"),
        (tmp_path, "Is a directory"),
    ):
        code, _, stderr = cli("export", "departments", "-w", "shop", "--output", str(target), db=db)
        assert code == 2 and stderr.startswith(f"error: --output: cannot write {target}: {why}")
        assert "Traceback" not in stderr


def test_a_twcs_file_imported_as_csv_is_recognised(tmp_path):
    sample = Path(__file__).resolve().parents[2] / "shared" / "data" / "twcs" / "sample.csv"
    code, _, stderr = cli("import", str(sample), "-w", "shop", db=tmp_path / "t.duckdb")
    assert code == 2 and "has the header of Kaggle's twcs file: add --format twcs" in stderr
    code, _, stderr = cli(
        "import", str(tmp_path / "missing.csv"), "-w", "shop", db=tmp_path / "t.duckdb"
    )
    assert code != 0 and "Traceback" not in stderr


def test_an_unknown_workspace_among_many_gets_a_did_you_mean(tmp_path):
    db = tmp_path / "many.duckdb"
    with Store(db) as store:
        for i in range(30):
            store.ensure_workspace(f"brand-{i:02d}")
        store.ensure_workspace("outlet-montreal")
    code, _, stderr = cli("report", "-w", "outlet-montreall", db=db)
    assert code == 2
    assert "did you mean 'outlet-montreal'? 31 workspaces: `convoscope workspace list`" in stderr
    assert "brand-07" not in stderr  # not all 31 on one line


def test_a_channel_without_a_chatbot_names_its_conversations(tmp_path):
    """As the page: on email (no chatbot message) the chatbot's share is conversations no
    teammate answered."""
    db, path = tmp_path / "cs.duckdb", tmp_path / "events.jsonl"
    write_jsonl(path, scenario())
    cli("import", str(path), "-w", "shop", db=db)
    code, out, _ = cli("report", "-w", "shop", *PERIOD, "--channels", "email", db=db)
    assert code == 0 and "  with no teammate reply" in out and "with the chatbot" not in out
    assert "Handled by teammates / no teammate reply:" in out
    code, out, _ = cli("report", "-w", "shop", *PERIOD, db=db)
    assert "  with the chatbot" in out and "Handled by teammates / chatbot:" in out


def test_the_command_s_objects_are_frozen_when_it_exits():
    """`convoscope` (the script and `python -m convoscope`) freezes the interpreter's objects
    once its command is done, so that the exit does not collect them one by one (issue 19's
    start): an exit hook sees them frozen, after the command's own output."""
    script = (
        "import atexit, gc, sys\nfrom convoscope.cli import run\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 1000))\n"
        "sys.argv = ['convoscope', '--version']\nrun()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"convoscope {convoscope.__version__}", "frozen True"]


@pytest.mark.parametrize("page", ["overview", "team", "chatbot"])
def test_a_report_process_loads_no_arrow_no_lake_and_no_importer(tmp_path, page):
    """What keeps `convoscope report` quick to start (issue 19: 0.5 s as a process): reading a
    page loads neither Arrow (nor pandas, which building Arrow from Python values imports)
    nor the lake, the importers or the generator, nor the event model (only the ways in
    validate events), the progress bars or the HTTP client (for a server holding the file),
    nor what only accounts, webhook secrets and the lake's settings use (argon2, Fernet,
    TOML). Not a timing: a list of modules."""
    db, path = tmp_path / "cs.duckdb", tmp_path / "events.jsonl"
    write_jsonl(path, scenario())
    cli("import", str(path), "-w", "shop", db=db)
    args = ["report", "-w", "shop", "--page", page, *PERIOD, "--format", "json", "--db", str(db)]
    script = (
        "import sys\nfrom convoscope.cli import app\n"
        f"app({args!r}, standalone_mode=False)\n"
        "heavy = ('pyarrow', 'pandas', 'convoscope.lake', 'convoscope.bulk', 'convoscope.demo',\n"
        "         'convoscope.events', 'rich.progress', 'urllib.request', 'argon2',\n"
        "         'cryptography', 'tomllib')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["workspace"] == "shop"
    assert done.stderr.strip().splitlines()[-1] == "[]"
