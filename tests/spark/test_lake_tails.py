"""An incremental run re-cuts each thread that received events from its tail on, as the
database's deriver does (`conversations.TAILS_SQL`, `engines.spark._tails`), and reads only
the event files holding the tails' events: the database's hand-worked tail cases and random
scripts split across two runs give exactly what a full run gives (issue 22, item 5)."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import Script, at, examples
from hypothesis import given
from hypothesis import strategies as st
from lakes import full_copy, lake_rows, write_part
from test_derivation import TAIL_CASES, escalated
from test_properties import scripts

from convoscope.engines import spark as engine
from convoscope.lake import Lake


def _lake(root: Path) -> Lake:
    root.mkdir(parents=True, exist_ok=True)
    (root / "workspaces.json").write_text(json.dumps({}))
    return Lake(root)


def test_each_tail_case_re_cuts_as_a_full_run_reading_only_what_it_needs(spark, tmp_path):
    """One workspace per case of the database's deriver, plus a customer back two days
    later (beyond the escalated inactivity: the tail starts at the new message, so the file
    of the first conversation is not read) and a file that only sends events again (no
    tail at all)."""
    lake = _lake(tmp_path / "lake")
    cases = [*TAIL_CASES, (lambda s: s.customer_msg(at(60 * 48)), "a returning customer")]
    for i, _ in enumerate(cases):
        write_part(lake.root, f"case{i}", 0, escalated("ann").events)
    write_part(lake.root, "again", 0, escalated("ann").events)
    assert engine.sessionize(spark, lake)["mode"] == "full"
    for i, (new_event, _) in enumerate(cases):
        write_part(lake.root, f"case{i}", 1, new_event(Script("ann", prefix="new-")).events)
    write_part(lake.root, "again", 1, escalated("ann").events)  # sent again: nothing new
    done = engine.sessionize(spark, lake)
    assert done["mode"] == "incremental" and done["threads"] == len(cases)
    # every new file, and the first file of each case but the returning customer's
    assert done["read_files"] == 2 * len(cases) - 1 + 1
    assert lake_rows(spark, lake.root) == full_copy(spark, lake, tmp_path)


def test_new_events_that_cut_no_conversation_on_their_day_derive_incrementally(spark, tmp_path):
    """A new file whose only event is a close on a day when its workspace has no
    conversation (an orphan close): that day's rollups are recomputed from no rows, and the
    run stays incremental. (Found by the random scripts below: the run stopped with
    "derived tables missing; run with --full", as the day had no file of conversation
    events to read.)"""
    lake = _lake(tmp_path / "lake")
    write_part(lake.root, "quiet", 0, Script("bob").customer_msg(at(60 * 48)).events)
    assert engine.sessionize(spark, lake)["mode"] == "full"
    write_part(lake.root, "quiet", 1, Script("cy", prefix="new-").close(at(0)).events)
    done = engine.sessionize(spark, lake)
    assert done["mode"] == "incremental" and done["threads"] == 1
    assert done["rows"]["orphan_closes"] == 1
    rows = lake_rows(spark, lake.root)
    assert len(rows["orphan_closes"]) == 1 and len(rows["conversations"]) == 1
    assert rows == full_copy(spark, lake, tmp_path)


@examples(0.1)  # each example is three Spark runs
@given(st.lists(st.tuples(scripts(), st.floats(0, 1)), min_size=1, max_size=4))
def test_random_scripts_split_across_two_runs_equal_a_full_run(spark, tmp_path_factory, batch):
    """Random scripts (`test_properties.scripts`: late events, merges, surveys, closes,
    commerce), each a workspace, cut at a random arrival into a first file derived in full
    and a second derived incrementally."""
    tmp = tmp_path_factory.mktemp("split")
    lake = _lake(tmp / "lake")
    cuts = [(events, max(1, round(len(events) * share))) for events, share in batch]
    for i, (events, cut) in enumerate(cuts):
        write_part(lake.root, f"w{i}", 0, events[:cut])
    engine.sessionize(spark, lake)
    for i, (events, cut) in enumerate(cuts):
        if events[cut:]:
            write_part(lake.root, f"w{i}", 1, events[cut:])
    engine.sessionize(spark, lake)
    assert lake_rows(spark, lake.root) == full_copy(spark, lake, tmp)
