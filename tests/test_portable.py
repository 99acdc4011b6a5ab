"""The one SQL source, checked statement by statement: every statement that runs on both
engines keeps to the portable subset written down in `convoscope.engine`, and its Spark text
is kept in tests/golden/spark so that a SQLGlot upgrade that changes it shows in review
(`CONVOSCOPE_UPDATE_GOLDEN=1 pytest tests/test_portable.py` rewrites the files). Running them
on both engines is `tests/test_spark.py`'s job."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from convoscope import lake, pages, rollups, scope
from convoscope import spark as spark_engine

GOLDEN = Path(__file__).parent / "golden" / "spark"
# Every statement both engines run, by name: the cut, every registered page (rows and rollups),
# the rollups' rows, the channel check of the lake. (DuckDB alone runs the maintenance of the
# DuckDB file: deletes, merges and temp tables of `conversations.refresh` and `rollups`.)
SHARED = {
    **dict(spark_engine.STATEMENTS),
    **pages.statements(),
    **{f"rollup_{r.table}": rollups.summed(r) for r in rollups.ROLLUPS},
    "lake_channels": lake.CHANNELS_SQL,
}
# The parameters statements may read: scalars, and the lists of text of `scope.LISTS`.
SCALARS = {"ws", "start", "end", "slot_end", "by_department", "no_department"}
# Functions SQLGlot does not know in one dialect or the other are engine-only unless listed
# here, with the reason they are portable: the names `SparkEngine` writes itself.
SPELLED_FOR_SPARK = {"ARRAYS_OVERLAP", "PERCENTILE", "TIMESTAMP_SECONDS"}


@pytest.mark.parametrize("name", sorted(SHARED))
def test_each_shared_statement_keeps_to_the_portable_subset(name):
    sql = SHARED[name]
    tree = sqlglot.parse_one(sql, read="duckdb")
    used = {p.name for p in tree.find_all(exp.Placeholder)}
    assert used <= SCALARS | set(scope.LISTS), used - SCALARS - set(scope.LISTS)
    assert not list(tree.find_all(exp.Avg)), "AVG: Spark averages BIGINT in DOUBLE"
    unknown = {f.name.upper() for f in tree.find_all(exp.Anonymous)}
    assert not unknown, f"functions SQLGlot cannot carry to Spark: {unknown}"
    spark_text = sqlglot.parse_one(spark_engine.statement(sql, {}), read="spark")
    assert {f.name.upper() for f in spark_text.find_all(exp.Anonymous)} <= SPELLED_FOR_SPARK
    assert not re.search(r"\bMATERIALIZED\b", spark_text.sql("spark"))


UPDATING = bool(os.environ.get("CONVOSCOPE_UPDATE_GOLDEN"))


@pytest.mark.parametrize("name", sorted(SHARED))
def test_the_spark_text_of_each_statement_is_kept_for_review(name):
    text = spark_engine.statement(SHARED[name], {}) + "\n"
    path = GOLDEN / f"{name}.sql"
    if UPDATING:
        # CI compares, never rewrites: a rewrite there would pass whatever the text became
        assert not os.environ.get("CI"), "CONVOSCOPE_UPDATE_GOLDEN is refused under CI"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text


def test_every_golden_file_is_a_statement_s():
    stray = {p.stem for p in GOLDEN.glob("*.sql")} - set(SHARED)
    if UPDATING and not os.environ.get("CI"):
        for name in stray:
            (GOLDEN / f"{name}.sql").unlink()
        stray = set()
    assert not stray, f"golden files of no statement (renamed or removed?): {sorted(stray)}"


def test_a_parameter_outside_the_subset_is_refused():
    with pytest.raises(TypeError, match="portable subset"):
        spark_engine.statement("SELECT $x", {"x": 1.5})
