"""The Chatbot Performance page (SPEC section 7): its statements, result, CSV and text.

The chatbot's part of a conversation is derived with the rest of the cut (`conversations`:
the facts `bot_involved`, `bot_duration_us`, `first_flow`, `last_flow`, `bot_outcome` and the
table `conversation_flows`). Two things are decided when read, because they are not facts of
the events:

- `in_progress`: a conversation neither closed nor escalated whose last event is within the
  inactivity limit of the request's time (`Query.now`) may still go on; its outcome is
  `in_progress` whatever it would be if it ended now.
- a flow's type: the workspace's flow catalogue (registered per request as `flow_catalogue`)
  before the type the messages gave, so a retailer re-types history without re-sending it.

One statement over the chatbot conversations of the period and the previous one
(`OUTCOMES_SQL`) gives the tiles, the outcome series, the first flow types and the transfers
by last flow, so they cannot disagree (the spec's invariants); the fallback rate is anchored
on the messages' time and the chatbot CSAT on the surveys'; the dialog performance table is
one more aggregation over the flows of the conversations of D. The statements' rows become
the page's numbers in `shape`, whichever engine gave them.

Choices the spec leaves open, written down here:

- The flow filters keep a conversation when its chatbot phase entered a chosen flow (or a
  flow of a chosen type); both filters set: both must hold. `(none)`: it entered none.
- A flow's drop-off steps list at most 3 steps; a drop-off at a message without a step is the
  step `null` ("(no step)" in the CSV and the terminal).
- In the CSV, `drop_off_steps` is one cell: `step (count)` items joined by `; `.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, get_args

from convoscope import scope
from convoscope.engines import Engine, Frame, Row, Tables
from convoscope.event_fields import FlowType
from convoscope.pages import runner
from convoscope.pages.common import (
    FLOW_FILTERS,
    STATEMENTS,
    Block,
    Context,
    Csat,
    DataQuality,
    Durations,
    Export,
    FlowHeader,
    Page,
    Result,
    Rows,
    Table,
    both_periods,
    csat,
    durations,
    seconds,
    slot_of,
    split_periods,
)
from convoscope.pages.text import IN_PROGRESS, change, duration, heading, labels, score
from convoscope.query import Query
from convoscope.store import Workspace

FLOW_TYPES: tuple[str, ...] = get_args(FlowType)
OUTCOMES = ("automated", "abandoned_in_flow", "transferred", "not_engaged", "in_progress")
HANDLED = ("automated", "abandoned_in_flow", "transferred")  # D, the rates' denominator
TOP_LAST_FLOWS = 10
DROP_OFF_STEPS = 3
NO_STEP = "(no step)"


class BotTiles(Result):
    bot_conversations: int
    handled: int
    automated: int
    abandoned_in_flow: int
    transferred: int
    transferred_requested: int
    transferred_teammate_joined: int
    not_engaged: int
    in_progress: int
    automation_rate: float | None
    transfer_rate: float | None
    abandoned_rate: float | None
    containment: float | None
    chatbot_messages: int
    fallback_messages: int
    fallback_rate: float | None
    time_with_chatbot_seconds: Durations
    csat: Csat


class BotTilesWithPrevious(BotTiles):
    previous: BotTiles


class Outcomes(Result):
    automated: list[int]
    abandoned_in_flow: list[int]
    transferred: list[int]
    not_engaged: list[int]
    in_progress: list[int]


class FirstFlowTypes(Result):
    campaign: int
    transfer: int
    sales: int
    support: int
    other: int
    none: int


class LastFlow(Result):
    flow: str
    conversations: int


class TransfersByLastFlow(Result):
    top: list[LastFlow]
    other_flows: int
    no_flow: int


class DropOff(Result):
    step: str | None
    conversations: int


class FlowRow(Result):
    flow: str
    type: str
    entered: int
    completed: int
    completion_rate: float | None
    automated_last: int
    transferred_after: int
    abandoned: int
    drop_off_rate: float | None
    fallbacks: int
    median_seconds_in_flow: float | None
    drop_off_steps: list[DropOff]


class ChatbotResult(FlowHeader):
    """The pinned JSON of Chatbot Performance (see the README); field order is output order."""

    tiles: BotTilesWithPrevious
    outcomes: Outcomes
    automation_rate: list[float | None]
    csat_breakdown: dict[str, int]
    first_flow_type: FirstFlowTypes
    transfers_by_last_flow: TransfersByLastFlow
    dialog_performance: list[FlowRow]
    data_quality: DataQuality


# A flow of a conversation's type: the catalogue's entry, else the type its messages gave.
_TYPE = "coalesce(k.type, f.sent_type, 'other')"


def flow_match(alias: str) -> str:
    """The flow filters as a condition on a `conversations` row named `alias`."""
    a = alias
    return f"""(NOT $by_flow OR ($no_flow AND {a}.flows_entered = 0)
      OR {a}.conversation_id IN (
          SELECT f.conversation_id FROM conversation_flows AS f
          WHERE $by_flow AND f.workspace = $ws AND list_contains($flows, f.flow)))
  AND (NOT $by_flow_type OR ($no_flow_type AND {a}.flows_entered = 0)
      OR {a}.conversation_id IN (
          SELECT f.conversation_id FROM conversation_flows AS f
          LEFT JOIN flow_catalogue AS k ON k.flow = f.flow
          WHERE $by_flow_type AND f.workspace = $ws AND list_contains($flow_types, {_TYPE})))"""


def _in_scope(alias: str) -> str:
    """Every filter of this page on a row keyed by conversation (events, surveys)."""
    return (
        f"{scope.in_scope(alias, teammates=False)} AND (NOT ($by_flow OR $by_flow_type) OR "
        f"{alias}.conversation_id IN (SELECT c.conversation_id FROM conversations AS c "
        f"WHERE ($by_flow OR $by_flow_type) AND c.workspace = $ws AND {flow_match('c')}))"
    )


# The chatbot conversations of the period and of the previous one (started in them;
# `in_period` tells them apart) with their outcome at the request's time.
_BOT = f"""
bot AS (
    SELECT c.conversation_id, c.started_at >= $start AS in_period, c.started_at,
           c.bot_duration_us, c.first_flow,
           c.first_flow_sent_type, c.last_flow, c.transferred,
           CASE WHEN c.bot_outcome <> 'transferred' AND c.closed_at IS NULL
                     AND DATE_DIFF('microsecond', c.ended_at, $now) <= $inactivity_us
                THEN 'in_progress' ELSE c.bot_outcome END AS outcome
    FROM conversations AS c
    WHERE c.workspace = $ws AND c.bot_involved AND {both_periods("c.started_at")}
      AND {scope.conversation("c", teammates=False)} AND {flow_match("c")}
)"""
_HANDLED = "('automated', 'abandoned_in_flow', 'transferred')"

OUTCOMES_SQL = f"""
WITH {_BOT}, typed AS (
    SELECT b.*, CASE WHEN b.outcome IN {_HANDLED} THEN 1 ELSE 0 END AS handled,
           CASE WHEN b.first_flow IS NULL THEN 'none'
                ELSE coalesce(k.type, b.first_flow_sent_type, 'other') END AS first_type
    FROM bot AS b
    LEFT JOIN flow_catalogue AS k ON k.flow = b.first_flow
)
-- the time with the chatbot of the handled conversations: the one grouping with percentiles
SELECT in_period, CAST(NULL AS VARCHAR) AS outcome, handled, CAST(NULL AS INTEGER) AS idx,
       CAST(NULL AS VARCHAR) AS first_type, CAST(NULL AS VARCHAR) AS last_flow,
       CAST(NULL AS BOOLEAN) AS transferred, false AS by_outcome, true AS by_handled,
       false AS by_bucket, false AS by_first_type, false AS by_last_flow, false AS by_reason,
       count(*) AS n, sum(bot_duration_us) AS total,
       quantile_cont(bot_duration_us, 0.5) AS median, quantile_cont(bot_duration_us, 0.9) AS p90
FROM typed
WHERE handled = 1
GROUP BY in_period, handled
UNION ALL
SELECT in_period, outcome, handled, NULL, first_type, last_flow, transferred,
       GROUPING(outcome) = 0, GROUPING(handled) = 0, false, GROUPING(first_type) = 0,
       GROUPING(last_flow) = 0, GROUPING(transferred) = 0, count(*), NULL, NULL, NULL
FROM typed
GROUP BY GROUPING SETS ((in_period, outcome), (in_period, handled, first_type),
                        (in_period, outcome, last_flow), (in_period, outcome, transferred))
UNION ALL
-- the period's outcomes per bucket, counted per slot first (`slot_of`)
SELECT true, s.outcome, NULL, x.idx, NULL, NULL, NULL, true, false, true, false, false, false,
       sum(s.n), NULL, NULL, NULL
FROM (SELECT t.outcome, {slot_of("t.started_at")} AS slot, count(*) AS n
      FROM typed AS t WHERE t.in_period GROUP BY t.outcome, slot) AS s
JOIN buckets AS x ON s.slot >= x.start_at AND s.slot < x.end_at
GROUP BY s.outcome, x.idx
"""

# Chatbot messages of the chatbot phases, by the messages' time (a chatbot message in its
# conversation's chatbot phase makes it a chatbot conversation), in either period.
FALLBACKS_SQL = f"""
SELECT e.ts >= $start AS in_period, count(*) AS messages,
       sum(CASE WHEN e.fallback THEN 1 ELSE 0 END) AS fallbacks
FROM conversation_events AS e
WHERE e.workspace = $ws AND e.sender = 'chatbot' AND e.bot_phase
  AND {both_periods("e.ts")} AND {_in_scope("e")}
GROUP BY in_period
"""

CSAT_SQL = f"""
SELECT s.ts >= $start AS in_period, s.score, count(*) AS n FROM surveys AS s
WHERE s.workspace = $ws AND s.conversation_id IS NOT NULL AND s.about = 'chatbot'
  AND {both_periods("s.ts")} AND {_in_scope("s")}
GROUP BY in_period, s.score
"""

# The flows entered in the conversations of D of the period (asked with an empty previous
# period): per flow; per flow and the type each conversation gave it; per flow and the last
# step of the abandoned ones that ended in it.
DIALOG_SQL = f"""
WITH {_BOT}, entered AS (
    -- named: ClickHouse keeps a joined column's table name in its name
    SELECT f.flow AS flow, {_TYPE} AS type, f.completed AS completed,
           f.fallbacks AS fallbacks, f.last_step AS last_step,
           DATE_DIFF('microsecond', f.first_at, f.last_at) AS in_flow_us,
           CASE WHEN b.outcome = 'abandoned_in_flow' AND b.last_flow = f.flow THEN 1 ELSE 0 END
               AS dropped
    FROM bot AS b
    JOIN conversation_flows AS f ON f.workspace = $ws AND f.conversation_id = b.conversation_id
    LEFT JOIN flow_catalogue AS k ON k.flow = f.flow
    -- the flows of the period's conversations only (they are stored in start order)
    WHERE b.outcome IN {_HANDLED} AND f.started_at >= $start AND f.started_at < $end
)
SELECT flow, type, last_step, GROUPING(type) = 0 AS by_type,
       GROUPING(last_step) = 0 AS by_step, count(*) AS entered,
       sum(CASE WHEN completed THEN 1 ELSE 0 END) AS completed, sum(fallbacks) AS fallbacks,
       sum(dropped) AS dropped, quantile_cont(in_flow_us, 0.5) AS median_us
FROM entered
GROUP BY GROUPING SETS ((flow), (flow, type), (flow, last_step))
"""

_CATALOGUE_COLUMNS = {"flow": "VARCHAR", "type": "VARCHAR"}


def catalogue(workspace: Workspace | None) -> Frame:
    """The workspace's flow catalogue as a table (flow, type) for the statements to join."""
    entries = workspace.flow_types if workspace else {}
    return Frame(_CATALOGUE_COLUMNS, sorted(entries.items()))


def _rate(n: int, d: int) -> float | None:
    return n / d if d else None


class _Figures:
    """The rows of OUTCOMES_SQL, by grouping set."""

    def __init__(self, rows: list[Row]) -> None:
        self.outcome: dict[str, int] = {}
        self.handled: Row | None = None
        self.bucket: dict[tuple[str, int], int] = {}
        self.first_type: dict[str, int] = {}
        self.last_flow: dict[tuple[str, str | None], int] = {}
        self.requested = 0
        for row in rows:
            n = int(row["n"])
            if row["by_bucket"]:
                self.bucket[(row["outcome"], row["idx"])] = n
            elif row["by_first_type"]:
                if row["handled"]:
                    self.first_type[row["first_type"]] = n
            elif row["by_handled"]:
                if row["handled"]:
                    self.handled = row
            elif row["by_last_flow"]:
                self.last_flow[(row["outcome"], row["last_flow"])] = n
            elif row["by_reason"]:
                if row["outcome"] == "transferred" and row["transferred"]:
                    self.requested = n
            else:
                self.outcome[row["outcome"]] = n


@dataclass(frozen=True)
class Fetched:
    """The rows of the page's statements, each over both periods (`in_period`) but the
    dialog table's (the period's alone): what `shape` turns into the page's numbers, whichever
    engine gave them (bench/postgres_chatbot.py gives PostgreSQL's)."""

    outcomes: list[Row]
    fallbacks: list[Row]
    csat: list[Row]
    dialog: list[Row]


def fetch(context: Context) -> Fetched:
    query = context.query
    workspace = context.engine.workspace(query.workspace)
    context.register("flow_catalogue", catalogue(workspace))
    inactive: dict[str, Any] = {
        "now": query.now,
        "inactivity_us": (workspace.inactivity_seconds if workspace else 600) * 1_000_000,
    }
    return Fetched(
        outcomes=context.both(OUTCOMES_SQL, **inactive),
        fallbacks=context.both(FALLBACKS_SQL),
        csat=context.both(CSAT_SQL),
        dialog=context.both(DIALOG_SQL, previous=False, **inactive),
    )


@dataclass
class _Period:
    """A period's figures: its conversations' aggregation, its chatbot messages and fallbacks,
    its chatbot surveys by score."""

    figures: _Figures
    messages: int = 0
    fallbacks: int = 0
    scores: dict[int, int] = field(default_factory=dict)


def _periods(fetched: Fetched) -> tuple[_Period, _Period]:
    """The query's period's figures and the previous period's."""
    now, before = split_periods(fetched.outcomes)
    out = {True: _Period(_Figures(now)), False: _Period(_Figures(before))}
    for row in fetched.fallbacks:
        out[row["in_period"]].messages = int(row["messages"])
        out[row["in_period"]].fallbacks = int(row["fallbacks"])
    for row in fetched.csat:
        out[row["in_period"]].scores[int(row["score"])] = int(row["n"])
    return out[True], out[False]


def _tiles(period: _Period) -> BotTiles:
    f, scores = period.figures, period.scores
    o = {name: f.outcome.get(name, 0) for name in OUTCOMES}
    d = sum(o[name] for name in HANDLED)
    messages, fallback = period.messages, period.fallbacks
    surveys = sum(scores.values())
    return BotTiles(
        bot_conversations=sum(o.values()),
        handled=d,
        **o,
        transferred_requested=f.requested,
        transferred_teammate_joined=o["transferred"] - f.requested,
        automation_rate=_rate(o["automated"], d),
        transfer_rate=_rate(o["transferred"], d),
        abandoned_rate=_rate(o["abandoned_in_flow"], d),
        containment=_rate(o["automated"] + o["abandoned_in_flow"], d),
        chatbot_messages=messages,
        fallback_messages=fallback,
        fallback_rate=_rate(fallback, messages),
        time_with_chatbot_seconds=durations(f.handled),
        csat=csat(sum(s * n for s, n in scores.items()), surveys),
    )


def _transfers(f: _Figures) -> TransfersByLastFlow:
    flows = sorted(
        ((flow, n) for (outcome, flow), n in f.last_flow.items() if outcome == "transferred"),
        key=lambda item: (item[1] is None, -item[1], item[0] or ""),
    )
    named = [(flow, n) for flow, n in flows if flow is not None]
    return TransfersByLastFlow(
        top=[LastFlow(flow=flow, conversations=n) for flow, n in named[:TOP_LAST_FLOWS]],
        other_flows=sum(n for _, n in named[TOP_LAST_FLOWS:]),
        no_flow=f.last_flow.get(("transferred", None), 0),
    )


def _dialog(rows: list[Row], f: _Figures) -> list[FlowRow]:
    totals: dict[str, Row] = {}
    types: dict[str, Counter[str]] = defaultdict(Counter)
    steps: dict[str, list[DropOff]] = defaultdict(list)
    for row in rows:
        flow = row["flow"]
        if row["by_type"]:
            types[flow][row["type"]] = int(row["entered"])
        elif row["by_step"]:
            if row["dropped"]:
                steps[flow].append(DropOff(step=row["last_step"], conversations=row["dropped"]))
        else:
            totals[flow] = row
    out = []
    for flow, row in totals.items():
        entered, completed = int(row["entered"]), int(row["completed"])
        abandoned = f.last_flow.get(("abandoned_in_flow", flow), 0)
        kind = min(types[flow].items(), key=lambda item: (-item[1], item[0]))[0]
        dropped = sorted(
            steps[flow], key=lambda s: (-s.conversations, s.step is None, s.step or "")
        )
        out.append(
            FlowRow(
                flow=flow,
                type=kind,
                entered=entered,
                completed=completed,
                completion_rate=_rate(completed, entered),
                automated_last=f.last_flow.get(("automated", flow), 0),
                transferred_after=f.last_flow.get(("transferred", flow), 0),
                abandoned=abandoned,
                drop_off_rate=_rate(abandoned, entered),
                fallbacks=int(row["fallbacks"]),
                median_seconds_in_flow=seconds(row["median_us"]),
                drop_off_steps=dropped[:DROP_OFF_STEPS],
            )
        )
    return sorted(out, key=lambda r: (-r.entered, r.flow))


def compute(context: Context) -> dict[str, Any]:
    return shape(context.query, fetch(context))


def shape(query: Query, fetched: Fetched) -> dict[str, Any]:
    """The page's fields from its statements' rows."""
    now, before = _periods(fetched)
    current, scores = now.figures, now.scores
    n = len(query.buckets)
    series = {name: [current.bucket.get((name, i), 0) for i in range(n)] for name in OUTCOMES}
    handled = [sum(series[name][i] for name in HANDLED) for i in range(n)]
    return {
        "tiles": BotTilesWithPrevious(**_tiles(now).model_dump(), previous=_tiles(before)),
        "outcomes": Outcomes(**series),
        "automation_rate": [_rate(a, d) for a, d in zip(series["automated"], handled, strict=True)],
        "csat_breakdown": {str(s): scores.get(s, 0) for s in range(1, 6)},
        "first_flow_type": FirstFlowTypes(
            **{t: current.first_type.get(t, 0) for t in (*FLOW_TYPES, "none")}
        ),
        "transfers_by_last_flow": _transfers(current),
        "dialog_performance": _dialog(fetched.dialog, current),
    }


FLOW_COLUMNS = (*FlowRow.model_fields,)


def _steps_cell(steps: list[DropOff]) -> str:
    return "; ".join(
        f"{s.step if s.step is not None else NO_STEP} ({s.conversations})" for s in steps
    )


def _flow_lines(context: Context) -> Rows:
    """The dialog performance table: one line per flow."""
    for row in compute(context)["dialog_performance"]:
        values = row.model_dump()
        values["drop_off_steps"] = _steps_cell(row.drop_off_steps)
        yield tuple(values[c] for c in FLOW_COLUMNS)


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


def _points(now: float | None, before: float | None) -> str:
    """A rate's change, in percentage points."""
    if now is None or before is None:
        return "-"
    return f"{(now - before) * 100:+.1f} pts"


def text(result: ChatbotResult) -> list[Block]:
    t, prev = result.tiles, result.tiles.previous
    rates = [
        (name, _percent(now), _percent(before), _points(now, before))
        for name, now, before in (
            ("Automation rate", t.automation_rate, prev.automation_rate),
            ("Transfer rate", t.transfer_rate, prev.transfer_rate),
            ("Abandoned in a flow", t.abandoned_rate, prev.abandoned_rate),
            ("Containment", t.containment, prev.containment),
            ("Fallback rate", t.fallback_rate, prev.fallback_rate),
        )
    ]
    counts: list[tuple[object, ...]] = [
        (name, now, before, change(now, before))
        for name, now, before in (
            ("Bot conversations", t.bot_conversations, prev.bot_conversations),
            ("Handled by the chatbot", t.handled, prev.handled),
            ("  automated", t.automated, prev.automated),
            ("  abandoned in a flow", t.abandoned_in_flow, prev.abandoned_in_flow),
            ("  transferred", t.transferred, prev.transferred),
            ("    on request", t.transferred_requested, prev.transferred_requested),
            (
                "    a teammate joined",
                t.transferred_teammate_joined,
                prev.transferred_teammate_joined,
            ),
            ("Not engaged", t.not_engaged, prev.not_engaged),
            ("In progress", t.in_progress, prev.in_progress),
        )
    ]
    times = t.time_with_chatbot_seconds
    blocks: list[Block] = [
        heading(result),
        Table("Conversations", ("tile", "value", "previous", "change"), counts),
        Table("Rates (of those handled)", ("rate", "value", "previous", "change"), rates),
        f"Time with the chatbot: mean {duration(times.mean)}, median {duration(times.median)}, "
        f"p90 {duration(times.p90)} ({times.count}); previous mean "
        f"{duration(prev.time_with_chatbot_seconds.mean)}",
        f"Chatbot CSAT: {score(t.csat.mean)} ({t.csat.count} surveys); previous "
        f"{score(prev.csat.mean)}; scores "
        + ", ".join(f"{k}: {v}" for k, v in result.csat_breakdown.items()),
        Table(
            "Outcomes",
            ("bucket", "automated", "abandoned", "transferred", "not engaged", "in progress"),
            [
                (label, *(getattr(result.outcomes, name)[i] for name in OUTCOMES))
                for i, label in enumerate(labels(result))
            ],
        ),
    ]
    if result.in_progress_bucket is not None:
        blocks.append(IN_PROGRESS)
    first = result.first_flow_type
    blocks.append(
        "First flow types: "
        + ", ".join(f"{name} {getattr(first, name)}" for name in (*FLOW_TYPES, "none"))
    )
    transfers = result.transfers_by_last_flow
    blocks.append(
        Table(
            "Transfers by last flow",
            ("flow", "conversations"),
            [(r.flow, r.conversations) for r in transfers.top]
            + [("(other flows)", transfers.other_flows), ("(no flow)", transfers.no_flow)],
        )
    )
    if not result.dialog_performance:
        blocks.append("No flow in this period: the chatbot's messages name none.")
    else:
        rows = result.dialog_performance
        blocks.append(
            Table(
                "Dialog performance",
                (
                    "flow",
                    "entered",
                    "done",
                    "auto",
                    "transf",
                    "aband",
                    "fallb",
                    "median",
                ),
                [
                    (
                        r.flow,
                        r.entered,
                        "-" if r.completion_rate is None else f"{r.completion_rate:.0%}",
                        r.automated_last,
                        r.transferred_after,
                        r.abandoned,
                        r.fallbacks,
                        duration(r.median_seconds_in_flow),
                    )
                    for r in rows
                ],
            )
        )
        blocks.append(
            Table(
                "Drop-off steps (where customers gave up)",
                ("flow", "step", "conversations"),
                [
                    (r.flow, s.step if s.step is not None else NO_STEP, s.conversations)
                    for r in rows
                    for s in r.drop_off_steps
                ],
            )
        )
    return blocks


PAGE = Page(
    name="chatbot",
    title="Chatbot Performance",
    titles={"en": "Chatbot performance", "fr": "Performance du chatbot"},
    summary="Every number of the Chatbot Performance page (the JSON of `convoscope report "
    "--page chatbot`). Without a period, the last 7 days. The teammates filter does not apply.",
    web_path="/chatbot",
    result=ChatbotResult,
    compute=compute,
    statements={
        **STATEMENTS,
        "outcomes": OUTCOMES_SQL,
        "fallbacks": FALLBACKS_SQL,
        "csat": CSAT_SQL,
        "dialog": DIALOG_SQL,
    },
    text=text,
    exports=(
        Export(
            name="flows",
            summary="The dialog performance table: one row per flow entered in the period.",
            columns=FLOW_COLUMNS,
            rows=_flow_lines,
        ),
    ),
    filters=FLOW_FILTERS,
)


def run(source: Tables | Engine, query: Query) -> ChatbotResult:
    """Chatbot Performance for `query` (`runner.run` of this page, typed)."""
    result = runner.run(PAGE, source, query)
    assert isinstance(result, ChatbotResult)
    return result
