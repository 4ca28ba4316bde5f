"""The micro-batcher: batching under concurrency, size cap, errors and cancellations."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import pytest

from predmaint.service.batcher import Job, MicroBatcher


class Recorder:
    """A process step that records batch sizes and answers each job with its row sums."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.batches: list[list[int]] = []
        self.gate = gate
        self.entered = threading.Event()

    def __call__(self, jobs: Sequence[Job]) -> None:
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(10)
        self.batches.append([j.rows for j in jobs])
        for job in jobs:
            job.future.set_result(job.numeric.sum(axis=1).tolist())


def _submit(b: MicroBatcher, rows: int, value: float) -> object:
    return b.submit(["L"] * rows, np.full((rows, 5), value), [f"{value}-{i}" for i in range(rows)])


@contextmanager
def _busy_worker() -> Iterator[tuple[MicroBatcher, Recorder, threading.Event, object]]:
    """A started batcher whose worker is inside a one-row job until the yielded gate is set."""
    gate = threading.Event()
    rec = Recorder(gate)
    batcher = MicroBatcher(rec, max_size=64, max_wait_s=0.002).start()
    try:
        blocker = _submit(batcher, 1, 0.0)
        assert rec.entered.wait(10)
        yield batcher, rec, gate, blocker
    finally:
        batcher.stop()


def test_queued_jobs_share_a_batch_and_each_gets_its_answer() -> None:
    with _busy_worker() as (batcher, rec, gate, blocker):
        futures = [_submit(batcher, 2, float(v)) for v in range(1, 11)]
        gate.set()
        assert blocker.result(10) == [0.0]  # type: ignore[attr-defined]
        for v, fut in enumerate(futures, start=1):
            assert fut.result(10) == [5.0 * v, 5.0 * v]  # type: ignore[attr-defined]
    assert rec.batches[0] == [1]
    assert sum(len(b) for b in rec.batches[1:]) == 10 and len(rec.batches) < 11


def test_batches_never_exceed_max_size_but_big_jobs_run_alone() -> None:
    gate = threading.Event()
    rec = Recorder(gate)
    batcher = MicroBatcher(rec, max_size=8, max_wait_s=0.002).start()
    try:
        futures = [_submit(batcher, 3, 1.0) for _ in range(6)] + [_submit(batcher, 20, 2.0)]
        gate.set()
        for fut in futures:
            fut.result(10)  # type: ignore[attr-defined]
    finally:
        batcher.stop()
    sizes = [sum(b) for b in rec.batches]
    assert 20 in sizes and all(s <= 8 for s in sizes if s != 20)
    assert sum(sizes) == 38


def test_an_exception_fails_only_that_batch() -> None:
    calls = {"n": 0}

    def flaky(jobs: Sequence[Job]) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ValueError("model exploded")
        for job in jobs:
            job.future.set_result("ok")

    batcher = MicroBatcher(flaky, max_size=4, max_wait_s=0.0).start()
    try:
        with pytest.raises(ValueError, match="model exploded"):
            _submit(batcher, 1, 1.0).result(10)  # type: ignore[attr-defined]
        assert _submit(batcher, 1, 1.0).result(10) == "ok"  # type: ignore[attr-defined]
    finally:
        batcher.stop()


def test_cancelled_jobs_are_skipped() -> None:
    gate = threading.Event()
    rec = Recorder(gate)
    batcher = MicroBatcher(rec, max_size=64, max_wait_s=0.0).start()
    try:
        first = _submit(batcher, 1, 1.0)
        assert rec.entered.wait(10)
        cancelled = _submit(batcher, 5, 2.0)
        assert cancelled.cancel()  # type: ignore[attr-defined]
        kept = _submit(batcher, 2, 3.0)
        gate.set()
        first.result(10)  # type: ignore[attr-defined]
        kept.result(10)  # type: ignore[attr-defined]
    finally:
        batcher.stop()
    assert 5 not in [rows for batch in rec.batches for rows in batch]


def test_submit_before_start_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="not running"):
        _submit(MicroBatcher(Recorder(), 4, 0.0), 1, 1.0)


def test_a_job_that_waited_past_the_budget_is_shed_not_scored() -> None:
    """While the worker is busy, jobs queued behind it age past the budget: they fail with ShedError unscored."""
    from predmaint.service.batcher import ShedError

    with _busy_worker() as (batcher, rec, gate, blocker):
        batcher.budget_s = 1e-6  # any job that has to queue behind the busy worker is past it
        late = [_submit(batcher, 1, float(v)) for v in range(1, 4)]
        gate.set()
        assert blocker.result(10) == [0.0]  # type: ignore[attr-defined]
        for fut in late:
            with pytest.raises(ShedError, match="waited over"):
                fut.result(10)  # type: ignore[attr-defined]
        batcher.budget_s = 10.0
        assert _submit(batcher, 1, 7.0).result(10) == [35.0]  # type: ignore[attr-defined]
    assert rec.batches == [[1], [1]], "the shed jobs never reached the model"


def test_collecting_ends_once_no_job_arrived_for_the_idle_gap() -> None:
    """Under concurrency a batch waits up to max_wait for company, but not past an idle gap."""
    gate = threading.Event()
    rec = Recorder(gate)
    batcher = MicroBatcher(rec, max_size=64, max_wait_s=60.0, idle_s=0.01).start()
    try:
        blocker = _submit(batcher, 1, 0.0)
        assert rec.entered.wait(10)
        pair = [_submit(batcher, 1, 1.0), _submit(batcher, 1, 2.0)]  # queued together: the next batch has 2 jobs
        gate.set()
        for fut in [blocker, *pair]:
            fut.result(10)  # type: ignore[attr-defined]
        assert rec.batches == [[1], [1, 1]]
        alone = _submit(batcher, 1, 3.0)  # collected "under concurrency", and nobody else comes
        assert alone.result(10) == [15.0]  # type: ignore[attr-defined]  # not after max_wait (60 s)
    finally:
        batcher.stop()
