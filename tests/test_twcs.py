"""The twcs adapter on the real Kaggle file: hand-written events for a few records, and the
overview of one brand checked against numbers worked out here by a separate reading of the file
and the plain-Python walk of the rules (tests/reference.py), not by the code under test."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import mean
from zoneinfo import ZoneInfo

import pytest
from reference import walk
from typer.testing import CliRunner

from convoscope.adapters import twcs
from convoscope.cli import app

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "twcs"
FIRST5000 = DATA / "twcs_first5000.csv"
SAMPLE = DATA / "sample.csv"


def mapped(path: Path) -> dict[str, dict]:
    with path.open("rb") as f:
        result = twcs.read(f)
    return {e["event_id"]: {**e, "workspace": ws} for ws, evs in result.events.items() for e in evs}


def test_records_mapped_by_hand():
    events = mapped(FIRST5000)
    assert events["twcs-1"] == {
        "event_id": "twcs-1",
        "ts": "2017-10-31T22:10:47+00:00",
        "channel": "twitter",
        "customer_id": "115712",
        "type": "message",
        "sender": "teammate",
        "teammate_id": "sprintcare",
        "workspace": "sprintcare",
    }
    assert events["twcs-11"]["teammate_id"] == "KC"  # "... look into this for you. -KC"
    assert events["twcs-11"]["customer_id"] == "115713"  # author of tweet 12, which it answers
    assert events["twcs-2"] == {
        "event_id": "twcs-2",
        "ts": "2017-10-31T22:11:45+00:00",
        "channel": "twitter",
        "customer_id": "115712",
        "type": "message",
        "sender": "customer",
        "workspace": "sprintcare",
    }  # answers tweet 1, by sprintcare
    assert events["twcs-8"]["workspace"] == "sprintcare"  # answered by 6 (sprintcare)
    # Tweet 3399 has bare carriage returns inside its unquoted text.
    assert events["twcs-3399"] == {
        "event_id": "twcs-3399",
        "ts": "2017-10-31T18:13:06+00:00",
        "channel": "twitter",
        "customer_id": "116510",
        "type": "message",
        "sender": "customer",
        "workspace": "AskPayPal",
    }
    assert "twcs-81" not in events  # a ChipotleTweets broadcast: no customer
    assert "twcs-46" not in events  # a customer writing to another customer: no brand


def test_sample_file_with_crlf_and_signatures():
    events = mapped(SAMPLE)
    assert events["twcs-119238"] == {
        "event_id": "twcs-119238",
        "ts": "2017-10-11T13:25:49+00:00",
        "channel": "twitter",
        "customer_id": "105835",
        "type": "message",
        "sender": "teammate",
        "teammate_id": "RR",
        "workspace": "ChaseSupport",
    }  # "... concern. ^RR https://t.co/znUu1VJn9r"


@pytest.mark.parametrize("text", ["Thanks! ^JK", "We are on it -Becky", "DM us *DS https://t.co/x"])
def test_signatures(text):
    assert twcs.signature(text) in {"JK", "Becky", "DS"}


def test_no_signature():
    assert twcs.signature("Please follow-up") is None
    assert twcs.signature("Sorry to hear that - we can help") is None


# An independent reading of the file for one brand -------------------------------------------


def independent_events(brand: str) -> list[dict]:
    """The brand's events from the rules in the issue, written again for this test."""
    text = FIRST5000.read_bytes().decode("utf-8")
    lines = [line.rstrip("\r").replace("\r", " ") for line in text.split("\n")]
    rows = list(csv.DictReader(io.StringIO("\n".join(lines))))
    norm = lambda v: str(int(float(v))) if v.strip() else None  # noqa: E731
    by_id = {norm(r["tweet_id"]): r for r in rows}
    brands = {r["author_id"] for r in rows if r["inbound"] == "False"}
    lower = {b.lower(): b for b in brands}
    events = []
    for r in rows:
        tid = norm(r["tweet_id"])
        parent = by_id.get(norm(r["in_response_to_tweet_id"]) or "")
        ts = datetime.strptime(r["created_at"], "%a %b %d %H:%M:%S %z %Y").isoformat()
        mentions = re.findall(r"@(\w+)", r["text"])
        if r["inbound"] == "True":
            owner = parent["author_id"] if parent and parent["author_id"] in brands else None
            if owner is None:
                for rid in r["response_tweet_id"].split(","):
                    child = by_id.get(norm(rid) if rid.strip() else "")
                    if child and child["author_id"] in brands:
                        owner = child["author_id"]
                        break
            if owner is None:
                owner = next((lower[m.lower()] for m in mentions if m.lower() in lower), None)
            if owner == brand:
                events.append(
                    {
                        "event_id": f"twcs-{tid}",
                        "ts": ts,
                        "channel": "twitter",
                        "customer_id": r["author_id"],
                        "type": "message",
                        "sender": "customer",
                    }
                )
        elif r["author_id"] == brand:
            customer = (
                parent["author_id"]
                if parent and parent["author_id"] not in brands
                else next((m for m in mentions if m.isdigit()), None)
            )
            if customer:
                events.append(
                    {
                        "event_id": f"twcs-{tid}",
                        "ts": ts,
                        "channel": "twitter",
                        "customer_id": customer,
                        "type": "message",
                        "sender": "teammate",
                        "teammate_id": "x",
                    }
                )
    return events


@pytest.mark.parametrize(
    ("first", "last"), [("2017-10-01", "2017-11-30"), ("2017-10-31", "2017-10-31")]
)
def test_amazonhelp_overview_matches_an_independent_walk(tmp_path, first, last):
    zone = ZoneInfo("America/Toronto")
    local = lambda day: datetime.fromisoformat(day).replace(tzinfo=zone)  # noqa: E731
    start = local(first).astimezone(UTC).replace(tzinfo=None)
    end = (local(last) + timedelta(days=1)).astimezone(UTC).replace(tzinfo=None)
    conversations, _ = walk(independent_events("AmazonHelp"))
    inside = [c for c in conversations if start <= c["started_at"] < end]
    engaged = [c for c in inside if c["engaged"]]
    seconds = lambda cs: round(mean(c["duration_us"] for c in cs) / 1e6, 6) if cs else None  # noqa: E731
    expected = {
        "total_conversations": len(inside),
        "engaged_conversations": len(engaged),
        "unique_customers": len({c["customer_id"] for c in inside}),
        "average_conversation_duration_seconds": {
            "all": seconds(engaged),
            "teammate": seconds([c for c in engaged if c["support_type"] == "teammate"]),
            "chatbot": seconds([c for c in engaged if c["support_type"] == "chatbot"]),
        },
    }
    assert expected["total_conversations"] > 0

    runner = CliRunner()
    db = str(tmp_path / "twcs.duckdb")
    result = runner.invoke(app, ["import", str(FIRST5000), "--format", "twcs", "--db", db])
    assert result.exit_code == 0, result.stderr
    assert "into workspace 'AmazonHelp'" in result.stdout
    assert "skipped" in result.stderr and "brand tweet with no customer" in result.stderr
    result = runner.invoke(
        app,
        [
            "report",
            "--workspace",
            "AmazonHelp",
            "--from",
            first,
            "--to",
            last,
            "--format",
            "json",
            "--db",
            db,
        ],
    )
    tiles = json.loads(result.stdout)["tiles"]
    tiles.pop("previous")
    assert tiles == expected
    print(f"AmazonHelp {first}..{last}: {expected}")
