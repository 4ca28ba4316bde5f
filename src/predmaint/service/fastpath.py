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


VECTOR_CELLS = 800
"""Walk all trees at once while ``rows × max_depth`` is at most this; beyond, tree by tree.

Measured on the default forest (200 trees, depth 6; ``bench/forest.py``), at once vs tree by tree:
1 row 45 vs 621 µs, 32 rows 266 vs 612, 64 rows 503 vs 697, 128 rows 929 vs 881, 256 rows
2,087 vs 1,292: the two meet near 128 rows × depth 6."""


class ForestSum:
    """``predict_proba`` of a fitted single-output forest classifier without joblib, all trees at once.

    The trees' nodes are laid end to end in flat arrays, and every (tree, reading) pair walks down
    one level per step in a few numpy gathers, so a batch costs ``max_depth`` vectorised steps
    instead of one Python call per tree. Each step makes the trees' own test (``x <= threshold`` on
    float32 input, a leaf points to itself), and the leaves' class fractions are summed in estimator
    order and divided by the number of trees: the forest's ``predict_proba``, to the bit. A batch
    with a missing value takes the per-tree path (it knows each split's side for missing values), and
    so does a large batch, where one Cython call per tree is cheaper (:data:`VECTOR_CELLS`).

    Args:
        forest: A fitted ``RandomForestClassifier`` or ``ExtraTreesClassifier``.
    """

    def __init__(self, forest: RandomForestClassifier | ExtraTreesClassifier) -> None:
        self.trees = [est.tree_ for est in forest.estimators_]
        self.n_classes = int(forest.n_classes_)
        self.classes_ = forest.classes_
        sizes = np.array([t.node_count for t in self.trees])
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        self.roots = starts.astype(np.intp)
        self.depth = max(int(t.max_depth) for t in self.trees)
        left = np.concatenate([t.children_left for t in self.trees]).astype(np.intp)
        right = np.concatenate([t.children_right for t in self.trees]).astype(np.intp)
        offset = np.repeat(starts, sizes)
        own = np.arange(len(left), dtype=np.intp)
        leaf = left < 0
        self.feature = np.where(leaf, 0, np.concatenate([t.feature for t in self.trees])).astype(np.intp)
        self.threshold = np.where(leaf, np.inf, np.concatenate([t.threshold for t in self.trees]))
        self.children = np.empty(2 * len(left), dtype=np.intp)  # node n's children at 2n (left), 2n + 1 (right)
        self.children[0::2] = np.where(leaf, own, left + offset)
        self.children[1::2] = np.where(leaf, own, right + offset)
        self.value = np.concatenate([t.value[:, 0, : self.n_classes] for t in self.trees]).astype(np.float64)

    def predict_proba(self, X: npt.ArrayLike) -> Any:  # noqa: N803
        """Class probabilities, as the forest's own ``predict_proba`` computes them."""
        x = np.ascontiguousarray(X, dtype=np.float32)
        if not 0 < x.shape[0] * self.depth <= VECTOR_CELLS or np.isnan(x).any():
            return self.tree_by_tree(x)
        return self.all_at_once(x)

    def all_at_once(self, x: npt.NDArray[np.float32]) -> Any:
        """Probabilities of float32 readings without missing values, every tree walked in step."""
        flat = x.ravel()
        row = np.arange(x.shape[0], dtype=np.intp) * x.shape[1]
        node = np.repeat(self.roots[:, None], x.shape[0], axis=1)
        for _ in range(self.depth):
            right = ~(flat[row + self.feature[node]] <= self.threshold[node])
            node = self.children[2 * node + right]
        out = np.add.reduce(self.value[node], axis=0)  # tree after tree: the forest's order of sums
        out /= len(self.trees)
        return out

    def tree_by_tree(self, x: npt.NDArray[np.float32]) -> Any:
        """Probabilities of float32 readings, one Cython ``tree_.predict`` per tree."""
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
