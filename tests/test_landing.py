"""Group commit (`ingest.Landing`): batches of concurrent requests land together, each with
its own outcome, and the store ends as if they had landed one by one in their order."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from helpers import Script, at, convs, load

from convoscope import ingest
from convoscope.event_fields import ConflictError
from convoscope.events import validate_batch
from convoscope.store import AppendResult, Store


def _batches() -> list[list[dict]]:
    """Eight batches of two threads each; batch 5 sends batch 4's events again."""
    out = []
    for n in range(8):
        a, b = Script(f"a{n}"), Script(f"b{n}")
        a.customer_msg(at(n)).bot(at(n + 1)).customer_msg(at(n + 2))
        b.customer_msg(at(n)).transfer(at(n + 1)).teammate(at(n + 3)).close(at(n + 9))
        out.append(a.events + b.events)
    out[5] = out[4]
    return out


def _held(store: Store) -> threading.Event:
    """Hold the store's writer until the returned event is set, so that requests gather."""
    release, holding = threading.Event(), threading.Event()

    def hold() -> None:
        with store.transaction():
            holding.set()
            release.wait(30)

    threading.Thread(target=hold, daemon=True).start()
    holding.wait(30)
    return release


def _land_concurrently(store: Store, batches: list[list[dict]]) -> list[object]:
    """Each batch from its own thread while the writer is held, then released: they gather
    and land in groups. The outcome of each (its result or the exception it raised)."""
    validated = [validate_batch(b, "w") for b in batches]
    release = _held(store)
    landing = ingest._LANDINGS.get(store) or ingest.Landing(store)
    ingest._LANDINGS[store] = landing

    def one(events: list) -> object:
        try:
            return ingest.store_events(store, "w", events)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(len(batches)) as pool:
        futures = [pool.submit(one, events) for events in validated]
        while len(landing._waiting) < len(batches) - 1:  # all but the leader wait
            threading.Event().wait(0.01)
        release.set()
        return [f.result(30) for f in futures]


def test_concurrent_batches_land_together_each_with_its_result(tmp_path):
    batches = _batches()
    with Store(tmp_path / "seq.duckdb") as one_by_one:
        one_by_one.ensure_workspace("w")
        expected = [load(one_by_one, b) for b in batches]
        expected_convs = convs(one_by_one)
    with Store(tmp_path / "group.duckdb") as store:
        store.ensure_workspace("w")
        commits = []
        transaction = store.transaction

        def counted(**kw):
            commits.append(1)
            return transaction(**kw)

        store.transaction = counted  # type: ignore[method-assign]
        outcomes = _land_concurrently(store, batches)
        landed = len(commits) - 1  # the holder's
        store.transaction = transaction  # type: ignore[method-assign]
        assert convs(store) == expected_convs
        (stored,) = store.con.execute("SELECT count(*) FROM events").fetchone()
    assert stored == sum(len(b) for b in batches) - len(batches[5])
    # the duplicates are the re-sent batch's, whichever of batches 4 and 5 landed first
    assert sorted(map(repr, outcomes)) == sorted(map(repr, expected))
    assert sum(o.duplicates for o in outcomes if isinstance(o, AppendResult)) == len(batches[5])
    assert landed < len(batches)  # grouped: fewer transactions than batches


def test_a_conflicting_batch_in_a_group_is_refused_alone(tmp_path):
    batches = _batches()
    changed = [dict(e) for e in batches[0]]
    changed[0]["ts"] = at(30)  # batch 0's first event id with another content
    batches[5] = changed
    with Store(tmp_path / "group.duckdb") as store:
        store.ensure_workspace("w")
        load(store, batches[0])  # first, so that batch 5 is the one in conflict
        outcomes = _land_concurrently(store, batches[1:])
        (stored,) = store.con.execute("SELECT count(*) FROM events").fetchone()
        with Store(tmp_path / "seq.duckdb") as one_by_one:
            one_by_one.ensure_workspace("w")
            for b in batches[:5] + batches[6:]:
                load(one_by_one, b)
            assert convs(store) == convs(one_by_one)
    conflicts = [o for o in outcomes if isinstance(o, ConflictError)]
    assert len(conflicts) == 1 and "web_chat-a0-1" in str(conflicts[0])
    assert stored == sum(len(b) for b in batches) - len(changed)


def test_a_batch_for_a_missing_workspace_is_refused_alone(tmp_path):
    with Store(tmp_path / "w.duckdb") as store:
        store.ensure_workspace("w")
        good = Script("c").customer_msg(at(0)).events
        with pytest.raises(ValueError, match="no workspace 'nowhere'"):
            ingest.store_events(store, "nowhere", validate_batch(good, "nowhere"))
        assert load(store, good) == AppendResult(1, 0)
