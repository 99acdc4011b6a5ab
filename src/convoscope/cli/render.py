"""Both pages as terminal tables, readable at 80 columns, user data as plain text.

Every cell is a `rich.text.Text`, which Rich never parses as markup. Bucket labels are
shortened to what the granularity needs (`14:00`, `2026-11-10`, `2026-11`), and the
per-bucket figures are split into two narrow tables (conversations, messages).
"""

from __future__ import annotations

from datetime import datetime

from rich import box
from rich.table import Table
from rich.text import Text

from convoscope.cli.common import out, say
from convoscope.exports import NO_DEPARTMENT, UNKNOWN_TEAMMATE
from convoscope.overview import OverviewResult
from convoscope.team import Durations, TeamResult


def duration(seconds: float | None) -> str:
    """Compact enough for eight columns at 80 characters: `7s`, `20m 6s`, `1h 8m`, `3d 4h`."""
    if seconds is None:
        return "-"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"


def change(now: float | None, before: float | None) -> str:
    if now is None or before is None or before == 0:
        return "-"
    return f"{(now - before) / before:+.1%}"


def bucket_label(label: str, granularity: str, one_day: bool) -> str:
    moment = datetime.fromisoformat(label)
    if granularity == "hour":
        return f"{moment:%H:%M}" if one_day else f"{moment:%m-%d %H:%M}"
    return f"{moment:%Y-%m}" if granularity == "month" else f"{moment:%Y-%m-%d}"


def _table(title: str, columns: list[str]) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
    for i, name in enumerate(columns):
        table.add_column(name, justify="left" if i == 0 else "right", no_wrap=i == 0)
    return table


def _row(table: Table, *cells: object) -> None:
    table.add_row(*(Text(str(c)) for c in cells))


def _header(result: OverviewResult | TeamResult) -> None:
    p = result.period
    scope = [", ".join(result.channels) if result.channels else "all channels"]
    if result.departments:
        scope.append("departments " + ", ".join(result.departments))
    if result.teammates:
        scope.append("teammates " + ", ".join(result.teammates))
    say(
        f"{result.workspace}: {p['from']} to {p['to']} ({p['timezone']}), {'; '.join(scope)}, "
        f"by {result.granularity}"
    )


def _labels(result: OverviewResult | TeamResult) -> list[str]:
    one_day = result.period["from"] == result.period["to"]
    labels = [bucket_label(b, result.granularity, one_day) for b in result.buckets]
    if result.in_progress_bucket is not None:
        labels[result.in_progress_bucket] += " *"
    return labels


def print_overview(result: OverviewResult) -> None:
    _header(result)
    t, prev = result.tiles, result.tiles.previous
    tiles = _table("Tiles (previous period beside)", ["tile", "value", "previous", "change"])
    d, pd = t.average_conversation_duration_seconds, prev.average_conversation_duration_seconds
    for name, now, before in (
        ("Average conversation duration", d.all, pd.all),
        ("  with teammates", d.teammate, pd.teammate),
        ("  with the chatbot", d.chatbot, pd.chatbot),
    ):
        _row(tiles, name, duration(now), duration(before), change(now, before))
    for name, count, before_count in (
        ("Total conversations", t.total_conversations, prev.total_conversations),
        ("Engaged conversations", t.engaged_conversations, prev.engaged_conversations),
        ("Unique customers", t.unique_customers, prev.unique_customers),
    ):
        _row(tiles, name, count, before_count, change(count, before_count))
    out.print(tiles)

    labels = _labels(result)
    conversations = _table(
        "Conversations per bucket",
        ["bucket", "engaged", "not engaged", "engaged live", "transfers"],
    )
    messages = _table("Messages per bucket", ["bucket", "teammates", "chatbot", "customers"])
    for i, label in enumerate(labels):
        _row(
            conversations,
            label,
            result.engagement.engaged[i],
            result.engagement.non_engaged[i],
            result.traffic.engaged_conversations[i],
            result.traffic.transfer_requests[i],
        )
        m = result.messages
        _row(messages, label, m.teammate[i], m.chatbot[i], m.customer[i])
    out.print(conversations)
    out.print(messages)
    if result.in_progress_bucket is not None:
        say("* still in progress")

    depts = _table(
        "Closed conversations by department", ["department", "closed", "teammates", "resolution"]
    )
    for row in result.closed_by_department:
        name = NO_DEPARTMENT if row.department is None else row.department
        _row(
            depts,
            name,
            row.conversations,
            row.teammates_involved,
            duration(row.avg_resolution_seconds),
        )
    out.print(depts)
    s = result.support_type
    say(
        f"Handled by teammates / chatbot: all {s.all.teammate} / {s.all.chatbot}, "
        f"engaged {s.engaged.teammate} / {s.engaged.chatbot}; "
        f"orphan closes: {result.data_quality.orphan_closes}"
    )


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def print_team(result: TeamResult) -> None:
    _header(result)
    t, prev = result.tiles, result.tiles.previous
    durations = _table(
        "Times (previous period's mean beside)",
        ["time", "mean", "median", "p90", "count", "previous", "change"],
    )
    for name, now, before in (
        ("Initial response", t.initial_response_seconds, prev.initial_response_seconds),
        ("Response", t.response_seconds, prev.response_seconds),
        ("Resolution", t.resolution_seconds, prev.resolution_seconds),
        ("  in business hours", t.resolution_business_seconds, prev.resolution_business_seconds),
    ):
        _row(
            durations,
            name,
            duration(now.mean),
            duration(now.median),
            duration(now.p90),
            now.count,
            duration(before.mean),
            change(now.mean, before.mean),
        )
    out.print(durations)
    counts = _table("Tiles", ["tile", "value", "previous", "change"])
    _row(
        counts,
        "CSAT",
        _score(t.csat.mean),
        _score(prev.csat.mean),
        change(t.csat.mean, prev.csat.mean),
    )
    for name, now_count, before_count in (
        ("  surveys", t.csat.count, prev.csat.count),
        ("Successful transfers", t.successful_transfers, prev.successful_transfers),
        ("Addressed conversations", t.addressed_conversations, prev.addressed_conversations),
        ("Closed conversations", t.closed_conversations, prev.closed_conversations),
    ):
        _row(counts, name, now_count, before_count, change(now_count, before_count))
    out.print(counts)

    efficiency = _table(
        "Conversation efficiency & CSAT (means)",
        ["bucket", "initial", "response", "resolution", "CSAT"],
    )
    e = result.efficiency
    for i, label in enumerate(_labels(result)):
        _row(
            efficiency,
            label,
            duration(e.initial_response_seconds[i]),
            duration(e.response_seconds[i]),
            duration(e.resolution_seconds[i]),
            _score(e.csat[i]),
        )
    out.print(efficiency)
    if result.in_progress_bucket is not None:
        say("* still in progress")
    scores = ", ".join(f"{k}: {v}" for k, v in result.csat_breakdown.items())
    say(f"CSAT scores {scores}; orphan surveys: {result.data_quality.orphan_surveys}")

    def mean(d: Durations) -> str:
        return duration(d.mean)

    people = _table(
        "Teammates (means)",
        ["teammate", "initial", "reply", "resol.", "biz hrs", "CSAT", "addr.", "closed"],
    )
    for row in result.by_teammate:
        _row(
            people,
            UNKNOWN_TEAMMATE if row.teammate_id is None else row.teammate_id,
            mean(row.initial_response_seconds),
            mean(row.response_seconds),
            mean(row.resolution_seconds),
            mean(row.resolution_business_seconds),
            _score(row.csat.mean),
            row.addressed_conversations,
            row.closed_conversations,
        )
    out.print(people)
