"""One fixture of hostile names through every output: the JSON, both CSVs (formula injection
neutralised, quoting that survives a bare CR), the terminal report (no Rich markup), the
download headers (RFC 6266) and the page (text, never HTML)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convoscope import accounts, exports, ingest, pages
from convoscope.cli import app
from convoscope.events import validate_batch
from convoscope.store import Store

WORKSPACE = "東京店 [/]"
HOSTILE = [
    '=HYPERLINK("http://evil.example","click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\tTabbed",
    "\rCarriage",
    "Returns [/]",
    "[link=http://evil.example]click[/link]",
    "<img src=x onerror=alert(1)>",
    "東京店",
    "Line\rBreak",
    "No department",  # as an id; as a department it is refused (reserved, see test below)
]
FORMULA = ("=", "+", "-", "@", "\t", "\r")
DEPARTMENTS = [h for h in HOSTILE if h != "No department"]
T0 = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)
PERIOD = ["--from", "2026-11-10", "--to", "2026-11-10"]
runner = CliRunner()


def hostile_events() -> list[dict]:
    """Per hostile name: a conversation of that customer, answered by a teammate of that id,
    closed into the department of that name (one minute each)."""
    events = []
    for i, name in enumerate(HOSTILE):
        ts = T0 + timedelta(minutes=i)
        common = {"channel": "web_chat", "customer_id": name}
        events += [
            {"event_id": f"h{i}-1", "ts": ts.isoformat(), "type": "message", "sender": "customer"},
            {
                "event_id": f"h{i}-2",
                "ts": (ts + timedelta(seconds=10)).isoformat(),
                "type": "message",
                "sender": "teammate",
                "teammate_id": name,
            },
            {
                "event_id": f"h{i}-3",
                "ts": (ts + timedelta(seconds=20)).isoformat(),
                "type": "close",
                "teammate_id": name,
                **({"department": name} if name in DEPARTMENTS else {}),
            },
        ]
        for e in events[-3:]:
            e.update(common)
    return events


def hostile_db(path: Path) -> Path:
    """A database whose workspace, customers, teammates and departments are the names above,
    with an admin `boss@h.test`."""
    with Store(path) as store:
        store.ensure_workspace(WORKSPACE)
        ingest.store_events(store, WORKSPACE, validate_batch(hostile_events(), WORKSPACE))
        accounts.create_user(store, "boss@h.test", WORKSPACE, "admin", "correct horse battery")
    return path


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return hostile_db(tmp_path_factory.mktemp("hostile") / "h.duckdb")


def expected_cell(name: str) -> str:
    return "'" + name if name.startswith(FORMULA) else name


def test_cells_are_neutralised_and_numbers_left_alone():
    assert exports.cell("=1+1") == "'=1+1"
    assert exports.cell("-2") == "'-2"  # text that looks like a formula
    assert exports.cell(-2.5) == -2.5  # a number we computed stays a number
    assert exports.cell("Returns") == "Returns"
    assert exports.cell(None) == "" and exports.cell(True) == "true"
    text = exports.csv_text(["a", "b"], [["x\ry", 1]])
    assert list(csv.reader(io.StringIO(text, newline=""))) == [["a", "b"], ["x\ry", "1"]]


def test_content_disposition_is_rfc6266():
    header = exports.content_disposition("departments_東京店 [-]_2026-11-10.csv")
    assert header == (
        'attachment; filename="departments______-__2026-11-10.csv"; '
        "filename*=UTF-8''departments_%E6%9D%B1%E4%BA%AC%E5%BA%97%20%5B-%5D_2026-11-10.csv"
    )


def test_json_report_keeps_the_names_as_they_are(db):
    result = runner.invoke(
        app, ["report", "-w", WORKSPACE, *PERIOD, "--format", "json", "--db", str(db)]
    )
    assert result.exit_code == 0, result.stderr
    departments = {d["department"] for d in json.loads(result.stdout)["closed_by_department"]}
    assert departments == {*DEPARTMENTS, None}


def test_department_csv_neutralises_and_quotes(db, tmp_path):
    out = tmp_path / "d.csv"
    args = ["export", "departments", "-w", WORKSPACE, *PERIOD, "-o", str(out), "--db", str(db)]
    assert runner.invoke(app, args).exit_code == 0
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8"), newline="")))
    assert rows[0] == list(pages.EXPORTS["departments"].columns)
    assert {r[0] for r in rows[1:]} == {*map(expected_cell, DEPARTMENTS), "No department"}
    assert all(r[1] == "1" for r in rows[1:]) and len(rows) == len(DEPARTMENTS) + 2


def test_terminal_report_prints_names_as_plain_text(db):
    result = runner.invoke(
        app, ["report", "-w", WORKSPACE, *PERIOD, "--db", str(db)], env={"COLUMNS": "80"}
    )
    assert result.exit_code == 0, result.stderr
    for name in ("Returns [/]", "[link=http://evil.example]click[/link]", "<img src=x onerror"):
        assert name in result.stdout
    assert WORKSPACE in result.stdout


def test_error_messages_print_ids_and_patterns_as_typed(tmp_path):
    path = tmp_path / "bad.jsonl"
    bad = {
        "event_id": "[/]",
        "ts": "2026-11-10T10:00:00Z",
        "channel": "Web Chat",
        "customer_id": "c",
        "type": "message",
        "sender": "customer",
    }
    path.write_text(json.dumps(bad) + "\n", encoding="utf-8")
    result = runner.invoke(
        app, ["import", str(path), "-w", "w", "--db", str(tmp_path / "x.duckdb")]
    )
    assert result.exit_code == 1
    assert 'event 0 (id "[/]"): channel:' in result.stderr
    assert "[a-z0-9_]{1,40}" in result.stderr


def test_a_department_named_like_the_none_label_is_refused():
    from convoscope.event_fields import EventError

    close = {
        "event_id": "x",
        "ts": "2026-11-10T10:00:00Z",
        "channel": "web_chat",
        "customer_id": "c",
        "type": "close",
    }
    for name in ("No department", "no DEPARTMENT", "(none)"):
        with pytest.raises(EventError, match=r"department: .* is reserved"):
            validate_batch([{**close, "department": name}], "w")


def test_api_csvs_and_headers(db):
    from fastapi.testclient import TestClient

    from convoscope.web import create_app

    with Store(db) as store:
        key = accounts.create_key(store, WORKSPACE)
        with TestClient(create_app(store), headers={"Authorization": f"Bearer {key}"}) as c:
            params = {"from": "2026-11-10", "to": "2026-11-10"}
            r = c.get("/v1/conversations.csv", params=params)
            assert r.status_code == 200
            assert (
                "filename*=UTF-8''conversations_%E6%9D%B1%E4%BA%AC%E5%BA%97"
                in r.headers["content-disposition"]
            )
            rows = list(csv.DictReader(io.StringIO(r.text, newline="")))
            assert {row["customer_id"] for row in rows} == set(map(expected_cell, HOSTILE))
            assert {row["closed_by"] for row in rows} == set(map(expected_cell, HOSTILE))
            overview = c.get("/v1/overview", params=params).json()
            assert {d["department"] for d in overview["closed_by_department"]} == {
                *DEPARTMENTS,
                None,
            }
