"""The Sales Attribution page (SPEC section 8): its statement, result, CSVs and text.

One statement (`ORDERS_SQL`; `FIGURES_SQL` for the sums of a period and the previous one
together) attributes each order of a period, from the derived tables alone: the commerce
events (`commerce`), the messages with their conversation (`conversation_events`) and the
conversations. It is read at request time rather than kept,
so an identification, a refund or a message that arrives late changes past attributions the
moment it is derived, with nothing to refresh. The statement's steps follow the spec's
sentences: each thread's shop customer (its latest `identify`), each order's threads, the
candidate conversations (engaged, a message within the window at or before the order), the
credited teammate (the latest teammate message at or before the order in any candidate,
ties by the larger `event_id`), the attributed conversation, chatbot assistance, refunds.

The figures are summed here, in Python, from the period's orders, with `decimal.Decimal`:
money is never a float, and never added across currencies. Choices the spec leaves open,
written down here:

- A sum of money is written with as many decimals as the most precise amount or refund in it
  (`"100.00"`, as `Decimal` adds); a sum of nothing is `"0"`. Averages are rounded half-even
  to 4 decimals.
- A refund applies to its order when their currencies agree; a refund whose order is unknown,
  or (on a lake, or held before its order came) in another currency, is an orphan refund,
  counted in the period of the refund's time. Orphan refunds match no filter but are always
  counted: they have no conversation.
- The currencies listed are those with an order (not a test) in the period or the previous
  one; the one shown by default has the most attributed orders, ties by code.
- The teammates filter keeps the orders credited to a chosen teammate (a chatbot-only order
  has none); the channels and departments filters, those whose attributed conversation
  matches (SPEC section 3's rules on its channel and close department).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from convoscope import scope
from convoscope.engines import Engine, Row, Tables
from convoscope.pages import runner
from convoscope.pages.common import (
    STATEMENTS,
    Block,
    Context,
    DataQuality,
    Durations,
    Export,
    Header,
    Page,
    Result,
    Rows,
    Table,
    both_periods,
    durations,
)
from convoscope.pages.text import IN_PROGRESS, change, duration, heading, labels
from convoscope.query import Query
from convoscope.store.workspaces import ATTRIBUTION_WINDOW_SECONDS

SALES_FILTERS = ("channels", "departments", "teammates", "currency")
CREDITS = ("with_teammate", "chatbot_only", "chatbot_assisted", "direct", "indirect")
STATUSES = ("attributed", "not_attributed", "unmatched")
AVERAGE = Decimal("0.0001")

# Each order (not a test) of the period and of the previous one (`in_period` tells them
# apart; the report asks for an empty previous period) with its attribution (`placed`): one
# statement for both, since its cost is mostly what both periods share (every sign-in, the
# refunds, the window's messages).
_ATTRIBUTION = f"""
WITH orders AS (
    SELECT o.order_id, o.ts, o.amount, o.amount_scale, o.currency, o.customer_ref, o.source,
           CASE WHEN o.channel = '' THEN NULL ELSE o.channel END AS channel,
           CASE WHEN o.customer_id = '' THEN NULL ELSE o.customer_id END AS customer_id,
           o.ts >= $start AS in_period
    FROM commerce AS o
    WHERE o.workspace = $ws AND o.type = 'order' AND NOT o.test AND {both_periods("o.ts")}
), refunds AS (
    SELECT r.order_id, SUM(r.amount) AS refunded, MAX(r.amount_scale) AS refund_scale
    FROM commerce AS r
    JOIN orders AS o ON o.order_id = r.order_id AND o.currency = r.currency
    WHERE r.workspace = $ws AND r.type = 'refund'
    GROUP BY r.order_id
), signed_in AS (
    -- the threads ever signed in as a shop customer of the period's orders: only theirs can
    -- be one of its threads (their latest sign-in decides whose they are)
    SELECT DISTINCT j.channel, j.customer_id
    FROM commerce AS j
    JOIN (SELECT DISTINCT customer_ref FROM orders) AS r ON r.customer_ref = j.customer_ref
    WHERE j.workspace = $ws AND j.type = 'identify'
), identified AS (
    SELECT channel, customer_id, customer_ref
    FROM (SELECT i.channel, i.customer_id, i.customer_ref,
                 ROW_NUMBER() OVER (PARTITION BY i.channel, i.customer_id
                                    ORDER BY i.ts DESC, i.seq DESC) AS nth
          FROM commerce AS i
          JOIN signed_in AS t ON t.channel = i.channel AND t.customer_id = i.customer_id
          WHERE i.workspace = $ws AND i.type = 'identify') AS latest
    WHERE nth = 1
), threads AS (
    SELECT order_id, ts AS order_ts, channel, customer_id FROM orders WHERE channel IS NOT NULL
    UNION
    SELECT o.order_id, o.ts AS order_ts, i.channel, i.customer_id
    FROM orders AS o JOIN identified AS i ON i.customer_ref = o.customer_ref
), touched AS (
    SELECT t.order_id, t.order_ts, e.conversation_id, MAX(e.ts) AS last_touch
    FROM threads AS t
    JOIN conversation_events AS e ON e.channel = t.channel AND e.customer_id = t.customer_id
    WHERE e.workspace = $ws AND e.type = 'message'
      AND e.ts >= $window_start AND e.ts < $end AND e.ts <= t.order_ts
      AND DATE_DIFF('microsecond', e.ts, t.order_ts) <= $window_us
    GROUP BY t.order_id, t.order_ts, e.conversation_id
), candidates AS (
    SELECT t.order_id, t.order_ts, t.conversation_id, t.last_touch, c.started_at, c.channel,
           c.customer_id, c.department
    FROM touched AS t
    JOIN conversations AS c ON c.conversation_id = t.conversation_id
    WHERE c.workspace = $ws AND c.engaged
      -- bounds implied by the touch (a message in [window_start, end)), for the zone maps
      AND c.ended_at >= $window_start AND c.started_at < $end
), credited AS (
    SELECT k.order_id, k.conversation_id, e.ts, e.event_id, e.sender, e.teammate_id
    FROM candidates AS k
    JOIN conversation_events AS e
      ON e.conversation_id = k.conversation_id AND e.channel = k.channel
     AND e.customer_id = k.customer_id
    WHERE e.workspace = $ws AND e.type = 'message' AND e.ts <= k.order_ts
      AND (e.sender = 'teammate' OR (e.sender = 'chatbot' AND NOT COALESCE(e.welcome, FALSE)))
), teammate AS (
    SELECT order_id, conversation_id, teammate_id
    FROM (SELECT order_id, conversation_id, teammate_id,
                 ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY ts DESC, event_id DESC) AS nth
          FROM credited WHERE sender = 'teammate') AS latest
    WHERE nth = 1
), latest_touch AS (
    SELECT order_id, conversation_id
    FROM (SELECT order_id, conversation_id,
                 ROW_NUMBER() OVER (PARTITION BY order_id
                                    ORDER BY last_touch DESC, started_at DESC, channel,
                                             customer_id) AS nth
          FROM candidates) AS ranked
    WHERE nth = 1
), attributed AS (
    SELECT l.order_id, COALESCE(m.conversation_id, l.conversation_id) AS conversation_id,
           m.teammate_id,
           l.order_id IN (SELECT order_id FROM credited WHERE sender = 'chatbot') AS assisted
    FROM latest_touch AS l LEFT JOIN teammate AS m ON m.order_id = l.order_id
), placed AS (
    SELECT o.order_id, o.in_period, o.ts, o.amount, COALESCE(r.refunded, 0) AS refunded,
           GREATEST(o.amount_scale, COALESCE(r.refund_scale, 0)) AS scale, o.currency,
           o.customer_ref, o.source,
           CASE WHEN a.order_id IS NOT NULL THEN 'attributed'
                WHEN o.order_id IN (SELECT order_id FROM threads) THEN 'not_attributed'
                ELSE 'unmatched' END AS status,
           a.teammate_id, COALESCE(a.assisted, FALSE) AS chatbot_assisted,
           k.channel, k.department, k.started_at AS conversation_started_at, k.last_touch
    FROM orders AS o
    LEFT JOIN refunds AS r ON r.order_id = o.order_id
    LEFT JOIN attributed AS a ON a.order_id = o.order_id
    LEFT JOIN candidates AS k ON k.order_id = a.order_id AND k.conversation_id = a.conversation_id
)
"""
# Whether the filters keep an order (SPEC section 8: unmatched and not attributed orders
# only when none is set).
_IN_SCOPE = f"""CASE WHEN NOT ($by_channel OR $by_department OR $by_teammate) THEN TRUE
            WHEN p.status <> 'attributed' THEN FALSE
            ELSE {scope.CHANNEL.format(a="p")} AND {scope.DEPARTMENT.format(a="p")}
                 AND (NOT $by_teammate
                      OR COALESCE(list_contains($teammates, p.teammate_id), FALSE)) END"""

# The sales report's lines: every order of the period with its attribution and `in_scope`.
ORDERS_SQL = f"""{_ATTRIBUTION}
SELECT p.*, {_IN_SCOPE} AS in_scope
FROM placed AS p
ORDER BY p.ts, p.order_id
"""

# The page's figures in one pass over the orders of the period and the previous one, by
# grouping sets (told apart by which columns are grouped, each also by `in_period`): all the
# shop's sales per currency (the share's denominator);
# the credited orders (attributed and kept by the filters) per currency and split (teammate
# or not, chatbot assisted, direct, whether net amount is above 0), per teammate, per bucket;
# the kept orders per status; and the times to purchase of the credited ones.
FIGURES_SQL = f"""{_ATTRIBUTION}
, kept AS (
    SELECT p.in_period, p.currency, p.status, p.teammate_id, p.scale,
           p.teammate_id IS NOT NULL AS with_teammate, p.chatbot_assisted AS assisted,
           COALESCE(p.source = 'chat', FALSE) AS direct,
           CASE WHEN p.amount - p.refunded > 0 THEN p.amount - p.refunded
                ELSE CAST(0 AS DECIMAL(18, 4)) END AS net,
           {_IN_SCOPE} AS in_scope,
           CASE WHEN p.status = 'attributed'
                THEN DATE_DIFF('microsecond', p.last_touch, p.ts) END AS wait_us,
           x.idx
    FROM placed AS p
    LEFT JOIN buckets AS x ON p.ts >= x.start_at AND p.ts < x.end_at
), split AS (
    SELECT *, in_scope AND status = 'attributed' AS credited,
           CASE WHEN net > 0 THEN 1 ELSE 0 END AS counted
    FROM kept
)
SELECT in_period, currency, credited, with_teammate, assisted, direct, counted, teammate_id, idx,
       in_scope, status,
       GROUPING(currency) = 0 AS by_currency, GROUPING(assisted) = 0 AS by_split,
       GROUPING(teammate_id) = 0 AS by_teammate, GROUPING(idx) = 0 AS by_bucket,
       GROUPING(status) = 0 AS by_status,
       SUM(net) AS total, COUNT(*) AS n, MAX(scale) AS scale,
       COUNT(CASE WHEN credited THEN wait_us END) AS waits,
       SUM(CASE WHEN credited THEN wait_us END) AS wait_total,
       quantile_cont(CASE WHEN credited THEN wait_us END, 0.5) AS median,
       quantile_cont(CASE WHEN credited THEN wait_us END, 0.9) AS p90
FROM split
GROUP BY GROUPING SETS ((in_period, currency),
                        (in_period, currency, credited, with_teammate, assisted, direct, counted),
                        (in_period, credited, teammate_id, currency, counted),
                        (in_period, credited, idx, currency, with_teammate, counted),
                        (in_period, in_scope, status), (in_period))
"""

# Refunds of the period whose order is unknown (or in another currency): held until it comes.
ORPHAN_REFUNDS_SQL = """
SELECT count(*) AS n FROM commerce AS r
WHERE r.workspace = $ws AND r.type = 'refund' AND r.ts >= $start AND r.ts < $end
  AND NOT EXISTS (SELECT 1 FROM commerce AS o
                  WHERE o.workspace = $ws AND o.type = 'order' AND o.order_id = r.order_id
                    AND o.currency = r.currency)
"""


def money(amount: Decimal, scale: int) -> str:
    """An exact sum as a decimal string with `scale` decimals (`"0"` for a sum of nothing)."""
    return str(amount.quantize(Decimal(1).scaleb(-scale)))


def average(total: Decimal, n: int) -> str | None:
    return None if not n else str((total / n).quantize(AVERAGE, rounding=ROUND_HALF_EVEN))


class Money:
    """An exact sum and a count of orders, with the scale its amounts were written in."""

    def __init__(self) -> None:
        self.total, self.n, self.scale = Decimal(0), 0, 0

    def add(self, total: Decimal, scale: int | None, n: int) -> None:
        self.total += total
        self.scale = max(self.scale, scale or 0)
        self.n += n

    def text(self) -> str:
        return money(self.total, self.scale) if self.scale or self.total else "0"


class Split(Result):
    sales: str
    orders: int


class CurrencyFigures(Result):
    attributed_sales: str
    attributed_orders: int
    average_order_value: str | None
    all_sales: str
    share_influenced: float | None
    with_teammate: Split
    chatbot_only: Split
    chatbot_assisted: Split
    direct: Split
    indirect: Split


class CurrencyWithPrevious(CurrencyFigures):
    previous: CurrencyFigures


class TeammateSales(Result):
    teammate_id: str
    currency: str
    orders: int
    sales: str
    average_order_value: str | None


class OrderCounts(Result):
    attributed: int
    not_attributed: int
    unmatched: int
    orphan_refunds: int


class SalesQuality(DataQuality):
    orphan_refunds: int = 0


class SalesResult(Header):
    """The pinned JSON of Sales Attribution (issue 20); field order is output order."""

    currency: str | None
    currencies: dict[str, CurrencyWithPrevious]
    time_to_purchase_seconds: Durations
    series: dict[str, dict[str, list[str]]]
    by_teammate: list[TeammateSales]
    orders: OrderCounts
    data_quality: SalesQuality


def _attributed(context: Context, sql: str, *, previous: bool) -> list[Row]:
    """The rows of an attribution statement (`Context.both`), with the attribution window's
    parameters: the workspace's setting, opening before the earliest order's time."""
    workspace = context.engine.workspace(context.query.workspace)
    window = workspace.attribution_window_seconds if workspace else ATTRIBUTION_WINDOW_SECONDS
    earliest = context.query.previous.start if previous else context.query.period.start
    return context.both(
        sql,
        previous=previous,
        window_us=window * 1_000_000,
        window_start=earliest - timedelta(seconds=window),
    )


def orders(context: Context) -> list[Row]:
    """The period's orders with their attribution (`ORDERS_SQL`): the sales report."""
    return _attributed(context, ORDERS_SQL, previous=False)


@dataclass
class Figures:
    """A period's sums (`FIGURES_SQL`): per currency and split (`all` for every order),
    per teammate and currency, per bucket, currency and credit; the kept orders per status;
    the times to purchase."""

    sums: dict[str, dict[str, Money]] = field(default_factory=lambda: defaultdict(_monies))
    teammates: dict[tuple[str, str], Money] = field(default_factory=lambda: defaultdict(Money))
    buckets: dict[tuple[int, str, str], Money] = field(default_factory=lambda: defaultdict(Money))
    statuses: dict[str, int] = field(default_factory=dict)
    times: Durations = field(default_factory=lambda: durations(None))


def _monies() -> dict[str, Money]:
    return defaultdict(Money)


def fetch(context: Context) -> list[Row]:
    """`FIGURES_SQL`'s rows for the query's period and the previous one."""
    return _attributed(context, FIGURES_SQL, previous=True)


def figures(rows: Iterable[Row]) -> tuple[Figures, Figures]:
    """The period's figures and the previous period's, from `FIGURES_SQL`'s rows."""
    now, before = Figures(), Figures()
    for row in rows:
        out = now if row["in_period"] else before
        total, scale, n = Decimal(row["total"] or 0), row["scale"], int(row["n"])
        counted = n if row["counted"] else 0
        credit = "with_teammate" if row["with_teammate"] else "chatbot_only"
        if row["by_split"]:
            if row["credited"]:
                kinds = ["attributed", credit, "direct" if row["direct"] else "indirect"]
                kinds += ["chatbot_assisted"] if row["assisted"] else []
                for kind in kinds:
                    out.sums[row["currency"]][kind].add(total, scale, counted)
        elif row["by_teammate"]:
            if row["credited"] and row["teammate_id"] is not None:
                out.teammates[(row["teammate_id"], row["currency"])].add(total, scale, counted)
        elif row["by_bucket"]:
            if row["credited"] and row["idx"] is not None:
                out.buckets[(row["idx"], row["currency"], credit)].add(total, scale, counted)
        elif row["by_status"]:
            if row["in_scope"]:
                out.statuses[row["status"]] = n
        elif row["by_currency"]:
            out.sums[row["currency"]]["all"].add(total, scale, n)
        else:  # the grand total: the times to purchase of the credited orders
            out.times = durations(
                {"n": row["waits"], "total": row["wait_total"], "median": row["median"],
                 "p90": row["p90"]}
            )  # fmt: skip
    return now, before


def _currency(sums: Mapping[str, Money]) -> CurrencyFigures:
    attributed, everything = sums.get("attributed", Money()), sums.get("all", Money())
    split = {
        key: Split(sales=sums.get(key, Money()).text(), orders=sums.get(key, Money()).n)
        for key in CREDITS
    }
    return CurrencyFigures(
        attributed_sales=attributed.text(),
        attributed_orders=attributed.n,
        average_order_value=average(attributed.total, attributed.n),
        all_sales=everything.text(),
        share_influenced=float(attributed.total / everything.total) if everything.total else None,
        **split,
    )


def compute(context: Context) -> dict[str, Any]:
    (orphans,) = context.one(ORPHAN_REFUNDS_SQL, context.query.period).values()
    return shape(context.query, fetch(context), orphans)


def shape(query: Query, rows: Iterable[Row], orphans: int) -> dict[str, Any]:
    """The page's fields from `FIGURES_SQL`'s rows and the period's orphan refunds, apart from
    `compute` so that the PostgreSQL baseline (`bench.postgres_sales`) shapes its rows by the
    same code."""
    now, before = figures(rows)
    codes = sorted(set(now.sums) | set(before.sums))
    currencies = {
        code: CurrencyWithPrevious(
            **_currency(now.sums.get(code, {})).model_dump(),
            previous=_currency(before.sums.get(code, {})),
        )
        for code in codes
    }
    shown = query.currency or min(
        codes, key=lambda c: (-currencies[c].attributed_orders, c), default=None
    )
    return {
        "currency": shown,
        "currencies": currencies,
        "time_to_purchase_seconds": now.times,
        "series": _series(len(query.buckets), now, codes),
        "by_teammate": _teammates(now),
        "orders": OrderCounts(
            **{s: now.statuses.get(s, 0) for s in STATUSES}, orphan_refunds=orphans
        ),
        "data_quality": {"orphan_refunds": orphans},
    }


def _series(n: int, now: Figures, codes: list[str]) -> dict[str, dict[str, list[str]]]:
    """Attributed sales per bucket, with a teammate and chatbot only, per currency."""
    return {
        code: {
            credit: [now.buckets.get((i, code, credit), Money()).text() for i in range(n)]
            for credit in ("with_teammate", "chatbot_only")
        }
        for code in codes
    }


def _teammates(now: Figures) -> list[TeammateSales]:
    return [
        TeammateSales(
            teammate_id=mate,
            currency=cur,
            orders=m.n,
            sales=m.text(),
            average_order_value=average(m.total, m.n),
        )
        for (mate, cur), m in sorted(now.teammates.items())
    ]


def _net(row: Row) -> Decimal:
    return max(Decimal(0), Decimal(row["amount"]) - Decimal(row["refunded"]))


ORDER_COLUMNS = (
    "time_of_purchase",
    "order_id",
    "amount",
    "refunded",
    "net_amount",
    "currency",
    "customer_ref",
    "sale_type",
    "status",
    "teammate_id",
    "chatbot_assisted",
    "channel",
    "conversation_started_at",
)


def _utc(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat() + "Z"


def _order_lines(context: Context) -> Rows:
    """The sales report: one line per order of the period (SPEC section 8)."""
    for row in orders(context):
        if not row["in_scope"]:
            continue
        scale = row["scale"]
        yield (
            _utc(row["ts"]),
            row["order_id"],
            money(Decimal(row["amount"]), scale),
            money(Decimal(row["refunded"]), scale),
            money(_net(row), scale),
            row["currency"],
            row["customer_ref"],
            "direct" if row["source"] == "chat" else "indirect",
            row["status"],
            row["teammate_id"],
            row["chatbot_assisted"] if row["status"] == "attributed" else None,
            row["channel"],
            _utc(row["conversation_started_at"]),
        )


TEAMMATE_COLUMNS = ("teammate_id", "currency", "orders", "sales", "average_order_value")


def _teammate_lines(context: Context) -> Rows:
    for row in _teammates(figures(fetch(context))[0]):
        yield (row.teammate_id, row.currency, row.orders, row.sales, row.average_order_value)


def text(result: SalesResult) -> list[Block]:
    blocks: list[Block] = [heading(result)]
    if result.currency is None:
        return [*blocks, "No orders in this period or the previous one."]
    cur = result.currency
    now = result.currencies[cur]
    before = now.previous
    blocks.append(
        Table(
            f"Tiles ({cur})",
            ("tile", "value", "previous", "change"),
            [
                (
                    "Attributed sales",
                    now.attributed_sales,
                    before.attributed_sales,
                    change(float(now.attributed_sales), float(before.attributed_sales)),
                ),
                (
                    "Attributed orders",
                    now.attributed_orders,
                    before.attributed_orders,
                    change(now.attributed_orders, before.attributed_orders),
                ),
                (
                    "Average order value",
                    now.average_order_value or "-",
                    before.average_order_value or "-",
                    "-",
                ),
                (
                    "Share of sales influenced",
                    _share(now.share_influenced),
                    _share(before.share_influenced),
                    "-",
                ),
                (
                    "Time to purchase (median)",
                    duration(result.time_to_purchase_seconds.median),
                    "",
                    "",
                ),
            ],
        )
    )
    blocks.append(
        Table(
            "Credit and sale type",
            ("split", "sales", "orders"),
            [(k.replace("_", " "), getattr(now, k).sales, getattr(now, k).orders) for k in CREDITS],
        )
    )
    series = result.series.get(cur, {})
    blocks.append(
        Table(
            f"Sales ({cur})",
            ("bucket", "teammate", "chatbot only"),
            [
                (label, series["with_teammate"][i], series["chatbot_only"][i])
                for i, label in enumerate(labels(result))
            ]
            if series
            else [],
        )
    )
    if result.in_progress_bucket is not None:
        blocks.append(IN_PROGRESS)
    blocks.append(
        Table(
            "Teammates",
            ("teammate", "currency", "orders", "sales", "average"),
            [
                (r.teammate_id, r.currency, r.orders, r.sales, r.average_order_value or "-")
                for r in result.by_teammate
            ],
        )
    )
    o = result.orders
    blocks.append(
        f"Orders: {o.attributed} attributed, {o.not_attributed} not attributed, "
        f"{o.unmatched} unmatched; orphan refunds: {o.orphan_refunds}"
    )
    if len(result.currencies) > 1:
        blocks.append("Other currencies: " + ", ".join(c for c in result.currencies if c != cur))
    return blocks


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


PAGE = Page(
    name="sales",
    title="Sales Attribution",
    titles={"en": "Sales attribution", "fr": "Attribution des ventes"},
    summary="Every number of the Sales Attribution page (the JSON of `convoscope report --page "
    "sales`): the sales the conversations led to, per currency, money as decimal strings. "
    "Without a period, the last 7 days.",
    web_path="/sales",
    result=SalesResult,
    compute=compute,
    statements={
        **STATEMENTS,
        "orders": ORDERS_SQL,
        "figures": FIGURES_SQL,
        "orphan_refunds": ORPHAN_REFUNDS_SQL,
    },
    text=text,
    exports=(
        Export(
            name="sales",
            summary="The sales report: one row per order of the period, with its attribution.",
            columns=ORDER_COLUMNS,
            rows=_order_lines,
        ),
        Export(
            name="sales-teammates",
            summary="The Sales Attribution teammates table: orders, sales and average order "
            "value per teammate and currency.",
            columns=TEAMMATE_COLUMNS,
            rows=_teammate_lines,
        ),
    ),
    filters=SALES_FILTERS,
)


def run(source: Tables | Engine, query: Query) -> SalesResult:
    """Sales Attribution for `query` (`runner.run` of this page, typed)."""
    result = runner.run(PAGE, source, query)
    assert isinstance(result, SalesResult)
    return result
