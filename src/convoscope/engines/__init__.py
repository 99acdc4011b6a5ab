"""The engines that run the pages' statements, and the registry of those that read a lake.

`base` declares what an engine is (`Engine`: rows by column name, a snapshot, registered
small tables, the workspace's settings, the channels with data); `dialects` spells the one
SQL source for each engine; `duckdb` runs it on the store's file or a lake's Parquet;
`spark` on a Spark session over a lake (and derives the lake: `sessionize`); `clickhouse`
on ClickHouse's embedded engine (chDB) over a lake, the read side only. Spark and chDB are
optional dependencies: their modules are imported only when they are chosen.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from convoscope.engines.base import Engine, Frame, LakeOptions, Row, Tables
from convoscope.engines.duckdb import DuckEngine

if TYPE_CHECKING:
    from convoscope.lake import Lake

__all__ = ["LAKE_READERS", "DuckEngine", "Engine", "Frame", "LakeOptions", "Row", "Tables", "of"]

# `--engine` name -> the module whose `open_lake(lake, workspace, options)` opens an engine
# over a lake's derived tables for one workspace.
LAKE_READERS = {
    "duckdb": "convoscope.engines.duckdb",
    "spark": "convoscope.engines.spark",
    "clickhouse": "convoscope.engines.clickhouse",
}
LakeOpener = Callable[["Lake", str, LakeOptions], AbstractContextManager[Engine]]


def lake_reader(name: str) -> LakeOpener:
    """The `open_lake` of engine `name` (a KeyError when there is none)."""
    opener: LakeOpener = importlib.import_module(LAKE_READERS[name]).open_lake
    return opener


def of(source: Tables | Engine) -> Engine:
    """The engine for `source`: an engine as it is, DuckDB for a store or a lake's tables."""
    if hasattr(source, "rows"):
        return source  # type: ignore[return-value]
    return DuckEngine(source)  # type: ignore[arg-type]
