"""The formats every page's terminal view shares (`Page.text` gives `common.Block`s: lines
and titled tables of text cells, readable at 80 columns, which the CLI prints without parsing
user data as markup): durations as the page writes them (`20 min 6 s`), changes, CSAT
scores, bucket labels shortened to what the granularity needs, and the header line.
"""

from __future__ import annotations

from datetime import datetime

from convoscope.pages.common import FlowHeader, Header


def duration(seconds: float | None) -> str:
    """As the web page writes it (`i18n.duration`): `7 s`, `20 min 6 s`, `1 h 8 min`,
    `76 h 4 min`."""
    if seconds is None:
        return "-"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours:,} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def change(now: float | None, before: float | None) -> str:
    if now is None or before is None or before == 0:
        return "-"
    return f"{(now - before) / before:+.1%}"


def score(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def bucket_label(label: str, granularity: str, one_day: bool) -> str:
    moment = datetime.fromisoformat(label)
    if granularity == "hour":
        return f"{moment:%H:%M}" if one_day else f"{moment:%m-%d %H:%M}"
    return f"{moment:%Y-%m}" if granularity == "month" else f"{moment:%Y-%m-%d}"


def labels(result: Header | FlowHeader) -> list[str]:
    """The buckets' short labels, the one in progress marked `*` (see `IN_PROGRESS`)."""
    one_day = result.period["from"] == result.period["to"]
    out = [bucket_label(b, result.granularity, one_day) for b in result.buckets]
    if result.in_progress_bucket is not None:
        out[result.in_progress_bucket] += " *"
    return out


IN_PROGRESS = "* still in progress"


def heading(result: Header | FlowHeader) -> str:
    """`shop: 2026-11-01 to 2026-11-07 (America/Toronto), all channels, by day`."""
    p = result.period
    scope = [", ".join(result.channels) if result.channels else "all channels"]
    for name in ("departments", "teammates", "flow_types", "flows"):
        chosen = getattr(result, name, None)
        if chosen:
            scope.append(name.replace("_", " ") + " " + ", ".join(chosen))
    return (
        f"{result.workspace}: {p['from']} to {p['to']} ({p['timezone']}), {'; '.join(scope)}, "
        f"by {result.granularity}"
    )
