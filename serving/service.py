"""The parts of one running service process, wired together and started/stopped as one.

``Service`` owns the prediction log (writer thread), the model store (poll thread) and the
micro-batcher (model worker thread). Building it starts nothing; :meth:`Service.start` runs in the
app's lifespan, so importing or creating the app has no side effects.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np
import numpy.typing as npt

from predmaint import schema
from predmaint.service.batcher import MicroBatcher
from predmaint.service.health import file_identity, log_problem
from predmaint.service.mlflow_registry import MlflowRegistry
from predmaint.service.model_store import ModelStore, Registry, ServedModel
from predmaint.service.predlog import PredictionLog
from predmaint.service.predlog_db import display
from predmaint.service.scoring import Scorer
from serving.api.validation import BodyParser
from serving.metrics import Metrics
from serving.schemas import FeedbackItem, reading_model
from serving.settings import Settings

log = logging.getLogger(__name__)
PROBE_ROWS = 256


def probe_readings(settings: Settings, rows: int = PROBE_ROWS) -> tuple[list[str], npt.NDArray[np.float64]]:
    """Seeded readings spread uniformly over the contract's ranges (warm-up and scoring-path check)."""
    rng = np.random.default_rng(settings.params.project.seed)
    low, high = np.array([settings.bounds[c] for c in schema.NUMERIC_FEATURES]).T
    types = [settings.product_types[i % len(settings.product_types)] for i in range(rows)]
    return types, rng.uniform(low, high, size=(rows, len(low)))


def _get(meta: dict[str, Any], *path: str) -> Any:
    node: Any = meta
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def model_facts(loaded: Any) -> dict[str, Any]:
    """Training-data version, md5 and source, lineage ids, git commit and training metrics from metadata.json."""
    meta = getattr(loaded, "metadata", None) or {}
    metrics: dict[str, float] = {}
    for split, values in (_get(meta, "metrics") or {}).items():
        for name, value in (values or {}).items() if isinstance(values, dict) else ():
            if isinstance(value, int | float) and not isinstance(value, bool):
                metrics[f"{split}_{name}"] = float(value)
    dirty = _get(meta, "git", "dirty")
    commit = _get(meta, "git", "commit")
    return {
        "data_version": _get(meta, "data", "version_id"),
        "data_hash": _get(meta, "data", "md5"),
        "data_source": _get(meta, "data_source"),
        "lineage": [str(v) for v in _get(meta, "lineage", "chain") or []],
        "git_commit": f"{commit}{'+dirty' if dirty else ''}" if commit else None,
        "params_hash": _get(meta, "params_hash"),
        "prefect_flow_run_id": _get(meta, "prefect_flow_run_id"),
        "metrics": metrics,
    }


class Service:
    """The running parts of one service process.

    Args:
        settings: Validated settings.
        registry: Where models come from; the MLflow registry of ``settings.params`` by default.
    """

    def __init__(self, settings: Settings, registry: Registry | None = None) -> None:
        self.settings = settings
        s = settings.serving
        self.metrics = Metrics()
        self.readings = BodyParser(
            reading_model(
                settings.bounds, settings.product_types, settings.integer_columns, settings.process_above_air
            ),
            s.max_batch,
            "reading",
            settings.bounds,
            s.max_errors,
        )
        self.feedback = BodyParser(FeedbackItem, s.max_batch, "feedback item", max_errors=s.max_errors)
        self.predlog = PredictionLog(settings.prediction_log)
        self.store = ModelStore(
            registry or MlflowRegistry(settings.params),
            settings.deployment_log,
            probe_readings(settings),
            s.reload_poll_s,
            facts=lambda loaded: (
                model_facts(loaded)["data_version"] or "",
                model_facts(loaded)["git_commit"] or "",
            ),
        )
        self.store.on_swap.append(self._swapped)
        scorer = Scorer(
            self.store,
            self.predlog,
            settings.params.physics,
            s.explain_near_fraction,
            self.metrics.observe_batch,
        )
        self.batcher = MicroBatcher(
            scorer,
            s.microbatch_max_size,
            s.microbatch_max_wait_ms / 1000,
            s.queue_budget_ms / 1000,
            s.microbatch_idle_ms / 1000,
        )
        self.waiting = 0  # /predict requests between admission and answer (event-loop confined)
        self.log_opened: tuple[int, int] | None = None

    def _swapped(self, served: ServedModel, reason: str) -> None:
        self.metrics.observe_model(str(served.loaded.name), served.version, str(served.loaded.run_id), reason)

    def start(self) -> None:
        """Open the prediction log, start the model worker, start loading/polling the model."""
        s = self.settings.serving
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(int(s.registry_timeout_s)))
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", str(s.registry_max_retries))
        self.predlog.start()
        self.log_opened = file_identity(self.predlog.path)
        self.batcher.start()
        self.store.start()
        log.info(
            "service started: prediction log %s, polling %s@%s every %ss",
            display(self.settings.prediction_log),
            self.settings.params.mlflow.registered_model,
            self.settings.params.mlflow.champion_alias,
            self.settings.serving.reload_poll_s,
        )

    async def not_ready_because(self) -> list[str]:
        """What keeps the service from serving correctly now, beyond having a model (empty if nothing)."""
        problems = []
        replaced = self.store.registry_changed()
        if replaced is not None:
            self.store.wake()
            problems.append(f"{replaced}; reopening it")
        log_state = await log_problem(self.predlog, self.log_opened)
        if log_state is not None:
            problems.append(log_state)
        return problems

    def stop(self) -> None:
        """Stop polling, finish queued requests, flush the prediction log."""
        self.store.stop()
        self.batcher.stop()
        self.predlog.close()
