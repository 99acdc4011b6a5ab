"""The Spark tier: one local session per module, in a zone that is neither UTC nor the
workspaces' (a pin that did not hold would show)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lakes import HOSTILE_ZONE, small_lake
from pyspark.sql import SparkSession

from convoscope.engines import spark as engine


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    previous = os.environ.get("TZ")
    os.environ["TZ"] = HOSTILE_ZONE
    time.tzset()
    session = (
        SparkSession.builder.master("local[1]")
        .appName("convoscope-tests")
        .config("spark.sql.session.timeZone", HOSTILE_ZONE)
        .config("spark.driver.extraJavaOptions", f"-Duser.timezone={HOSTILE_ZONE}")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config(map=engine.BUILDER_SETTINGS)
        .getOrCreate()
    )
    try:
        yield session
    finally:
        session.stop()
        if previous is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = previous
        time.tzset()


@pytest.fixture(scope="module")
def derived(spark, tmp_path_factory) -> Path:
    """A lake of the first two files of each workspace, derived once for the module."""
    lake = small_lake(tmp_path_factory.mktemp("derived") / "lake")
    engine.sessionize(spark, lake)
    return lake.root
