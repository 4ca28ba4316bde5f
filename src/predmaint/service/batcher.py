"""Micro-batching: concurrent requests share one model call on one worker thread.

A model call has a fixed cost besides its cost per row (the forest's 32-row batch costs ~0.5 ms,
one row ~0.2 ms), so the worker scores every request queued when it is free, up to ``max_size``
rows: while it scores, the next requests queue, so batches form by themselves under load. It can
also wait up to ``max_wait`` for company (the service's default is 0: no wait). The wait is
*adaptive*: it is only spent when the previous batch held more than one request, so a lone client
never waits, and it ends early once no request arrived for ``idle_s`` (the event loop has handed
over every request it had read: waiting longer only delays them). One worker thread owns the model
calls, which keeps the event loop free and avoids threads fighting over the GIL. A job that
waited longer than ``budget_s`` for its batch is not scored: it fails at once with
:class:`ShedError` (the service answers 503 + Retry-After), so an overload never makes anyone
wait past the budget for a model call that is already too late.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass
class Job:
    """One request's readings waiting for a model call.

    The result goes to ``future`` (a ``concurrent.futures.Future``, for :meth:`MicroBatcher.submit`)
    or, for jobs submitted from an event loop (:meth:`MicroBatcher.submit_async`), to ``waiter`` on
    ``loop`` (such a job has no ``future``: its lock would be built for nothing on the hot path).
    """

    types: list[str]
    numeric: npt.NDArray[np.float64]
    request_ids: list[str]
    future: Future[Any] | None = None
    loop: asyncio.AbstractEventLoop | None = None
    waiter: asyncio.Future[Any] | None = None
    queued_at: float = field(default_factory=time.monotonic)

    @property
    def rows(self) -> int:
        """Number of readings in the job."""
        return len(self.types)

    def claim(self) -> bool:
        """Mark the job as running; False if its caller gave up (cancelled) already."""
        if self.waiter is not None:
            return not self.waiter.cancelled()
        return self.future is None or self.future.set_running_or_notify_cancel()


def _settle_waiters(outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for waiter, result, error in outcomes:
        if waiter.done():
            continue
        if error is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(result)


def settle(jobs: Sequence[Job], results: Sequence[Any] | None, error: BaseException | None = None) -> None:
    """Complete jobs with their results (or one error), waking each event loop once per batch."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any, BaseException | None]]] = {}
    for i, job in enumerate(jobs):
        result = None if results is None else results[i]
        if job.waiter is not None and job.loop is not None:
            by_loop.setdefault(job.loop, []).append((job.waiter, result, error))
        elif job.future is not None and not job.future.done():
            if error is not None:
                job.future.set_exception(error)
            else:
                job.future.set_result(result)
    for loop, outcomes in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody is waiting any more
            loop.call_soon_threadsafe(_settle_waiters, outcomes)


class ShedError(RuntimeError):
    """The job waited longer than the batcher's budget and was not scored."""


Process = Callable[[Sequence[Job]], None]
"""Scores a batch of jobs and (now or later) completes each job's future."""


class MicroBatcher:
    """Collect jobs into batches and hand each batch to ``process`` on one worker thread.

    Args:
        process: Called with each batch on the worker thread; it must complete every job (now or
            later) with :func:`settle`; an exception it raises fails the whole batch.
        max_size: Stop collecting once a batch holds this many readings.
        max_wait_s: How long to collect under concurrency, at most.
        idle_s: Stop collecting sooner once no job arrived for this long (the event loop has read
            every waiting request); None = always collect for ``max_wait_s``.
        budget_s: Fail (:class:`ShedError`) a job that waited longer than this for its batch; None = never.
    """

    def __init__(
        self,
        process: Process,
        max_size: int,
        max_wait_s: float,
        budget_s: float | None = None,
        idle_s: float | None = None,
    ) -> None:
        self._process = process
        self.max_size = max_size
        self.max_wait_s = max_wait_s
        self.idle_s = idle_s
        self.budget_s = budget_s
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._carry: Job | None = None
        self._thread: threading.Thread | None = None
        self._concurrent = False
        self.batches = 0
        self.jobs = 0

    def start(self) -> MicroBatcher:
        """Start the worker thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="model-worker", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Finish queued jobs, then stop the worker thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def submit(self, types: list[str], numeric: npt.NDArray[np.float64], request_ids: list[str]) -> Future[Any]:
        """Queue one request's readings; the returned future resolves to what ``process`` sets."""
        if self._thread is None:
            raise RuntimeError("the micro-batcher is not running")
        future: Future[Any] = Future()
        self._queue.put(Job(types, numeric, request_ids, future))
        return future

    async def submit_async(self, types: list[str], numeric: npt.NDArray[np.float64], request_ids: list[str]) -> Any:
        """Queue one request's readings from an event loop and await the result."""
        if self._thread is None:
            raise RuntimeError("the micro-batcher is not running")
        loop = asyncio.get_running_loop()
        job = Job(types, numeric, request_ids, loop=loop, waiter=loop.create_future())
        self._queue.put(job)
        assert job.waiter is not None
        return await job.waiter

    def _next(self, timeout: float | None) -> Job | None:
        if self._carry is not None:
            job, self._carry = self._carry, None
            return job
        if timeout is None:
            return self._queue.get()
        return self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait()

    def _collect(self, first: Job) -> tuple[list[Job], bool]:
        batch, rows, stop = [first], first.rows, False
        deadline = time.monotonic() + (self.max_wait_s if self._concurrent else 0.0)
        while rows < self.max_size:
            left = deadline - time.monotonic()
            try:
                job = self._next(left if self.idle_s is None else min(left, self.idle_s))
            except queue.Empty:
                break
            if job is None:
                stop = True
                break
            if rows + job.rows > self.max_size:
                self._carry = job
                break
            batch.append(job)
            rows += job.rows
        return batch, stop

    def _run(self) -> None:
        stop = False
        while not stop:
            first = self._next(None)
            if first is None:
                break
            batch, stop = self._collect(first)
            live = self._shed([j for j in batch if j.claim()])
            self._concurrent = len(batch) > 1
            self.batches += 1
            self.jobs += len(batch)
            if not live:
                continue
            try:
                self._process(live)
            except BaseException as exc:
                settle(live, None, exc)
        if self._carry is not None:
            settle([self._carry], None, RuntimeError("the micro-batcher stopped"))

    def _shed(self, jobs: list[Job]) -> list[Job]:
        """The jobs still within the budget; the others fail with :class:`ShedError`."""
        if self.budget_s is None:
            return jobs
        oldest = time.monotonic() - self.budget_s
        late = [j for j in jobs if j.queued_at < oldest]
        if not late:
            return jobs
        settle(late, None, ShedError(f"overloaded: waited over {self.budget_s * 1000:g} ms for the model; retry later"))
        return [j for j in jobs if j.queued_at >= oldest]
