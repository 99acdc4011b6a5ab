"""The overview as terminal tables, readable at 80 columns, user data as plain text.

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
from convoscope.exports import NO_DEPARTMENT
from convoscope.overview import OverviewResult


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min {secs} s"


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


def print_overview(result: OverviewResult) -> None:
    p = result.period
    channels = ", ".join(result.channels) if result.channels else "all channels"
    say(
        f"{result.workspace}: {p['from']} to {p['to']} ({p['timezone']}), {channels}, "
        f"by {result.granularity}"
    )
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

    one_day = p["from"] == p["to"]
    labels = [bucket_label(b, result.granularity, one_day) for b in result.buckets]
    if result.in_progress_bucket is not None:
        labels[result.in_progress_bucket] += " *"
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
