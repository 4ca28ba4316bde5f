"""The batch step the micro-batcher runs: score, decide, explain, log, then answer.

One call handles one micro-batch on the model worker thread: it takes the served model once (so
a hot swap never splits a batch), computes the probabilities on the numpy fast path, the decision
at the model's threshold and the physical reasons, hands the rows to the prediction log and
completes the requests' futures only when the log has committed them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import numpy as np

from predmaint.config import PhysicsParams
from predmaint.service.batcher import Job, settle
from predmaint.service.explain import explain
from predmaint.service.model_store import ModelStore
from predmaint.service.predlog import PredictionLog

log = logging.getLogger(__name__)


class ModelNotReadyError(RuntimeError):
    """No model has been loaded yet."""


@dataclass(frozen=True)
class Scored:
    """One job's answers (response-ready dicts) and the model version that produced them."""

    predictions: list[dict[str, Any]]
    model_name: str
    model_version: str


class Scorer:
    """The ``process`` of :class:`~predmaint.service.batcher.MicroBatcher` for the service.

    Args:
        store: Supplies the served model.
        predlog: The prediction log every answer is written to before it is returned.
        rules: The physics rules behind the explanations.
        near: Explain a mode once the reading reaches this fraction of its limit.
        observe: Called with ``(rows, decisions)`` after each batch (metrics).
    """

    def __init__(
        self,
        store: ModelStore,
        predlog: PredictionLog,
        rules: PhysicsParams,
        near: float,
        observe: Callable[[int, Any], None] | None = None,
    ) -> None:
        self.store = store
        self.predlog = predlog
        self.rules = rules
        self.near = near
        self.observe = observe

    def __call__(self, jobs: Sequence[Job]) -> None:
        """Score one micro-batch and complete its jobs' futures after the log commit."""
        served = self.store.current
        if served is None:
            raise ModelNotReadyError("no model loaded yet")
        types = [t for job in jobs for t in job.types]
        numeric = jobs[0].numeric if len(jobs) == 1 else np.vstack([job.numeric for job in jobs])
        proba = np.asarray(served.predict(types, numeric), dtype=float)
        threshold = served.threshold
        decision = proba >= threshold
        reasons = explain(types, numeric, self.rules, self.near)
        name, version = str(served.loaded.name), served.version
        model = {"name": name, "version": version}
        now = time.time()
        rows: list[tuple[Any, ...]] = []
        answers: list[Scored] = []
        i = 0
        for job in jobs:
            out = []
            for rid in job.request_ids:
                p, d, modes = float(proba[i]), bool(decision[i]), reasons[i]
                out.append(
                    {
                        "request_id": rid,
                        "failure_probability": p,
                        "failure_predicted": d,
                        "threshold": threshold,
                        "failure_modes": modes,
                        "model": model,
                    }
                )
                rows.append(
                    (
                        rid,
                        now,
                        types[i],
                        *numeric[i].tolist(),
                        p,
                        int(d),
                        threshold,
                        ";".join(m["mode"] for m in modes),
                        name,
                        version,
                    )
                )
                i += 1
            answers.append(Scored(out, name, version))
        if self.observe is not None:
            self.observe(len(types), decision)
        self.predlog.append(rows).add_done_callback(lambda fut: _complete(fut, jobs, answers))


def _complete(written: Future[int], jobs: Sequence[Job], answers: list[Scored]) -> None:
    error = written.exception()
    if error is not None:
        log.error("prediction log write failed for %d requests: %s", len(jobs), error)
        settle(jobs, None, PredictionLogError(f"prediction log write failed: {error}"))
    else:
        settle(jobs, answers)


class PredictionLogError(RuntimeError):
    """The prediction could not be stored; the request fails rather than go unlogged."""
