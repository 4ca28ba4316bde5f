"""A faster, bit-identical scoring path for random forests on the service's hot path.

``RandomForestClassifier.predict_proba`` dispatches every tree through joblib even with
``n_jobs=1``, which costs ~50–100 µs of Python per tree — for 100 trees that is most of a request's
time, and it holds the GIL while doing it. :class:`ForestSum` runs the very same per-tree
computation (``tree_.predict`` on float32 input, summed in estimator order, divided by the number
of trees) in a plain loop, so its output is identical to the bit; the service still checks it
against the pipeline on probe readings before using it (``model_store.prepare``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.pipeline import Pipeline


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


def accelerate(pipeline: Pipeline) -> Pipeline | None:
    """A copy of ``pipeline`` with its final forest replaced by :class:`ForestSum` (None if no forest)."""
    final = pipeline.steps[-1][1]
    if not isinstance(final, RandomForestClassifier | ExtraTreesClassifier) or final.n_outputs_ != 1:
        return None
    fast = Pipeline.__new__(Pipeline)
    fast.__dict__.update(pipeline.__dict__)
    fast.steps = [*pipeline.steps[:-1], (pipeline.steps[-1][0], ForestSum(final))]
    return fast
