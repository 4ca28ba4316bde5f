"""Scoring paths for the hot path, and the fastest one that is provably the same.

``RandomForestClassifier.predict_proba`` dispatches every tree through joblib even with
``n_jobs=1``, which costs ~50–100 µs of Python per tree — for 100 trees that is most of a request's
time, and it holds the GIL while doing it. :class:`ForestSum` runs the very same per-tree
computation (``tree_.predict`` on float32 input, summed in estimator order, divided by the number
of trees) in a plain loop, so its output is identical to the bit. :func:`prepare` picks, per loaded
model, the fastest path (forest, numpy, pipeline) that reproduces the pipeline on probe readings.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.pipeline import Pipeline

from predmaint import schema
from predmaint.model import features
from predmaint.service import deployment_log

log = logging.getLogger(__name__)


class ForestSum:
    """``predict_proba`` of a fitted single-output forest classifier without joblib.

    Args:
        forest: A fitted ``RandomForestClassifier`` or ``ExtraTreesClassifier``.
    """

    def __init__(self, forest: RandomForestClassifier | ExtraTreesClassifier) -> None:
        self.trees = [est.tree_ for est in forest.estimators_]
        self.n_classes = int(forest.n_classes_)
        self.classes_ = forest.classes_

    def predict_proba(self, X: npt.ArrayLike) -> Any:  # noqa: N803
        """Class probabilities, as the forest's own ``predict_proba`` computes them."""
        x = np.ascontiguousarray(X, dtype=np.float32)
        out = np.zeros((x.shape[0], self.n_classes), dtype=np.float64)
        for tree in self.trees:
            out += tree.predict(x)[:, : self.n_classes]
        out /= len(self.trees)
        return out


def _is_forest(estimator: Any) -> bool:
    return isinstance(estimator, RandomForestClassifier | ExtraTreesClassifier) and estimator.n_outputs_ == 1


def accelerate(pipeline: Pipeline) -> Pipeline | None:
    """A copy of ``pipeline`` with its forest replaced by :class:`ForestSum` (None if no forest).

    The forest may be the final step or the estimator inside the shipped calibration
    (:class:`~predmaint.model.features.LogitCalibrated`), which then calibrates the summed trees.
    """
    final = pipeline.steps[-1][1]
    if _is_forest(final):
        fast_final: Any = ForestSum(final)
    elif isinstance(final, features.LogitCalibrated) and _is_forest(final.estimator):
        fast_final = copy.copy(final)
        fast_final.estimator = ForestSum(final.estimator)
    else:
        return None
    fast = Pipeline.__new__(Pipeline)
    fast.__dict__.update(pipeline.__dict__)
    fast.steps = [*pipeline.steps[:-1], (pipeline.steps[-1][0], fast_final)]
    return fast


@dataclass(frozen=True)
class ServedModel:
    """A loaded model ready for the hot path.

    ``scoring`` is how requests are scored: ``"forest"`` (numpy features + :class:`ForestSum`),
    ``"numpy"`` (``features.fast_predict_proba``) or ``"pipeline"`` (a DataFrame through the
    pipeline) — the fastest one that reproduced the pipeline's output on the probe readings.
    """

    loaded: Any
    loaded_at: str
    scoring: str = "pipeline"
    scorer: Any = None

    @property
    def version(self) -> str:
        """The registry version."""
        return str(self.loaded.version)

    @property
    def threshold(self) -> float:
        """The decision threshold chosen at training time."""
        return float(self.loaded.threshold)

    @property
    def fast_path(self) -> bool:
        """True if requests skip the per-request DataFrame."""
        return self.scoring != "pipeline"

    def predict(self, types: list[str] | npt.NDArray[Any], numeric: npt.NDArray[np.float64]) -> Any:
        """Failure probabilities of the readings."""
        if self.scoring != "pipeline":
            return features.fast_predict_proba(self.scorer, types, numeric)
        frame = pd.DataFrame(numeric, columns=list(schema.NUMERIC_FEATURES))
        frame.insert(0, schema.TYPE, np.asarray(types).astype(str))
        return self.loaded.pipeline.predict_proba(frame)[:, 1]


def prepare(loaded: Any, probe: tuple[list[str], npt.NDArray[np.float64]]) -> ServedModel:
    """Warm a loaded model up and pick the fastest scoring path that gives the pipeline's numbers."""
    types, numeric = probe
    slow = ServedModel(loaded, deployment_log.now_iso())
    reference = slow.predict(types, numeric)
    candidates = [("forest", accelerate(loaded.pipeline)), ("numpy", loaded.pipeline)]
    for name, scorer in candidates:
        if scorer is None:
            continue
        try:
            fast = features.fast_predict_proba(scorer, types, numeric)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            log.warning("model %s: %s scoring path unavailable (%s)", loaded.version, name, exc)
            continue
        if np.allclose(fast, reference, rtol=0, atol=1e-12):
            return replace(slow, scoring=name, scorer=scorer)
        log.warning("model %s: %s scoring path disagrees with the pipeline; not used", loaded.version, name)
    return slow
