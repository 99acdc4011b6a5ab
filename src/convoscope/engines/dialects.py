"""The one SQL source, spelled for each engine.

Statements are written once, in DuckDB's dialect with `$name` parameters (`conversations`,
`rollups`, `pages`). DuckDB runs them as written and binds the parameters a statement names
(`store.bound`, read by DuckDB's own parser). Any other engine is a `Target`: SQLGlot's
dialect of it, the rewrites of the nodes SQLGlot writes in a way that engine does not read
(data: a node type and a function), and how a parameter becomes a typed literal there.
`transpile` parses a statement once (cached), binds the parameters as literals in the tree,
applies the rewrites and writes the engine's text. A new engine's read side is one `Target`
here and one engine class.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from convoscope import scope

if TYPE_CHECKING:
    from sqlglot import exp

Rewrite = Callable[["exp.Expr"], "exp.Expr"]


@dataclass(frozen=True)
class Target:
    """How statements are spelled for one engine."""

    dialect: str  # SQLGlot's name
    rewrites: Mapping[str, Rewrite]  # SQLGlot node class name -> its rewrite
    list_type: str  # the type of a list of text, for a NULL list
    timestamp_type: str  # a zone-less UTC timestamp


@cache
def _tree(sql: str) -> exp.Expr:
    import sqlglot

    return sqlglot.parse_one(sql, read="duckdb")


def tables_read(sql: str) -> frozenset[str]:
    """The tables and views `sql` (DuckDB's dialect) reads, its own CTEs left out."""
    from sqlglot import exp

    tree = _tree(sql)
    own = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return frozenset(t.name for t in tree.find_all(exp.Table)) - own


def transpile(sql: str, params: Mapping[str, Any], target: Target) -> str:
    """`sql` (DuckDB's dialect, `$name` parameters) in `target`'s dialect, `params` bound as
    typed literals."""
    from sqlglot import exp

    def bind(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Placeholder) and node.name in params:
            return literal(node.name, params[node.name], target)
        return node

    def spell(node: exp.Expr) -> exp.Expr:
        rewrite = target.rewrites.get(type(node).__name__)
        return rewrite(node) if rewrite else node

    tree = _tree(sql).transform(bind).transform(spell)  # transform copies the cached tree
    return tree.sql(dialect=target.dialect, pretty=True)


def literal(name: str, value: Any, target: Target) -> exp.Expr:
    """A parameter of the portable subset as a typed literal of `target`: text, integers,
    booleans, zone-less UTC timestamps, lists of text (a missing one a typed NULL)."""
    from sqlglot import exp

    if name in scope.LISTS:  # never NULL (see `scope`): typed, so an empty one is too
        if not all(isinstance(v, str) for v in value):
            raise TypeError(f"parameter {name}: a list of text is expected")
        items = exp.Array(expressions=[exp.Literal.string(v) for v in value])
        return exp.cast(items, exp.DataType.build(target.list_type, dialect=target.dialect))
    if value is None:
        return exp.cast(exp.null(), exp.DataType.build("STRING", dialect=target.dialect))
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        return exp.Literal.number(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ValueError(f"parameter {name}: a zone-less UTC timestamp is expected")
        text = value.isoformat(sep=" ", timespec="microseconds")
        return exp.cast(
            exp.Literal.string(text),
            exp.DataType.build(target.timestamp_type, dialect=target.dialect),
        )
    if isinstance(value, str):
        return exp.Literal.string(value)
    raise TypeError(f"parameter {name}: {type(value).__name__} is not in the portable subset")


# Spark ------------------------------------------------------------------------------------
# What SQLGlot writes for Spark and Spark does not read, and DuckDB's `time_bucket`.


def _function(name: str) -> Rewrite:
    """A two-argument node written as Spark's function `name`."""

    def rewrite(node: exp.Expr) -> exp.Expr:
        from sqlglot import exp

        return exp.Anonymous(this=name, expressions=[node.this, node.expression])

    return rewrite


def _no_materialization_hint(node: exp.Expr) -> exp.Expr:
    node.set("materialized", None)  # AS [NOT] MATERIALIZED, a planner hint
    return node


def _spark_slot(node: exp.Expr) -> exp.Expr:
    """`time_bucket(INTERVAL n MINUTE, ts)` for Spark: the epoch seconds floored to the
    width (DuckDB's buckets start at 2000-01-03, a whole number of any minute-width since the
    epoch, so the edges agree), on an instant read in the pinned UTC session."""
    import sqlglot
    from sqlglot import exp

    width = node.this
    if (
        not (isinstance(width, exp.Interval) and width.text("unit").upper() == "MINUTE")
        or not str(width.this.name).isdigit()
    ):
        raise ValueError(f"time_bucket by {width.sql()}: only whole minutes are portable")
    seconds = int(width.this.name) * 60
    template = (
        f"CAST(TIMESTAMP_SECONDS(FLOOR(UNIX_SECONDS(CAST(ts AS TIMESTAMP_LTZ)) / {seconds})"
        f" * {seconds}) AS TIMESTAMP_NTZ)"
    )
    bucket = sqlglot.parse_one(template, read="spark")
    placeholder = bucket.find(exp.Column)
    assert placeholder is not None
    placeholder.replace(node.expression.copy())
    return bucket


SPARK = Target(
    dialect="spark",
    rewrites={
        "ArrayOverlaps": _function("ARRAYS_OVERLAP"),  # `&&`
        "PercentileCont": _function("PERCENTILE"),  # two-argument PERCENTILE_CONT
        "CTE": _no_materialization_hint,
        "DateBin": _spark_slot,  # Spark has no time_bucket
    },
    list_type="ARRAY<STRING>",
    timestamp_type="TIMESTAMP_NTZ",
)


# ClickHouse ---------------------------------------------------------------------------------


def _clickhouse_percentile(node: exp.Expr) -> exp.Expr:
    """`quantile_cont(x, p)`: ClickHouse's exact quantile with linear interpolation between
    closest ranks (numpy's default, as DuckDB's), a parametric aggregate `f(p)(x)`."""
    from sqlglot import exp

    return exp.ParameterizedAgg(
        this="quantileExactInclusive", expressions=[node.expression], params=[node.this]
    )


def _clickhouse_slot(node: exp.Expr) -> exp.Expr:
    """`time_bucket(INTERVAL n MINUTE, ts)`: ClickHouse floors to whole minute-widths since
    the epoch, as DuckDB does since 2000-01-03 (the edges agree for widths dividing a day)."""
    from sqlglot import exp

    return exp.Anonymous(this="toStartOfInterval", expressions=[node.expression, node.this])


CLICKHOUSE = Target(
    dialect="clickhouse",
    rewrites={
        "ArrayOverlaps": _function("hasAny"),  # `&&`
        "PercentileCont": _clickhouse_percentile,
        "CTE": _no_materialization_hint,
        "DateBin": _clickhouse_slot,
    },
    list_type="Array(String)",
    timestamp_type="DateTime64(6)",
)
