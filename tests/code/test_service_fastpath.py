"""The forest fast path gives the pipeline's probabilities to the bit, and only for forests."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import ExtraTreesClassifier, HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.pipeline import Pipeline

from predmaint import schema
from predmaint.config import Params
from predmaint.model import features
from predmaint.service.fastpath import VECTOR_CELLS, ForestSum, accelerate


def _fit(params: Params, clf: object) -> tuple[Pipeline, object]:
    from predmaint.data.simulate import simulate

    frame = simulate(params.simulator, params.physics, rows=3000)
    pipe = Pipeline([*features.build_preprocessor(params.physics), ("clf", clf)])
    pipe.fit(features.model_input(frame), frame[schema.TARGET])
    return pipe, simulate(params.simulator, params.physics, rows=500, seed=99)


def test_forest_sum_is_bit_identical(sim_params: Params) -> None:
    pipe, new = _fit(sim_params, RandomForestClassifier(n_estimators=15, max_depth=6, random_state=0))
    fast = accelerate(pipe)
    assert fast is not None and isinstance(fast.steps[-1][1], ForestSum)
    numeric = new[list(schema.NUMERIC_FEATURES)].to_numpy(dtype=float)
    got = features.fast_predict_proba(fast, new[schema.TYPE].to_numpy(), numeric)
    expected = pipe.predict_proba(features.model_input(new))[:, 1]
    assert np.array_equal(got, expected)
    assert pipe.steps[-1][1].__class__ is RandomForestClassifier, "the original pipeline is untouched"


def test_other_models_are_not_accelerated(sim_params: Params) -> None:
    pipe, _ = _fit(sim_params, HistGradientBoostingClassifier(max_iter=10))
    assert accelerate(pipe) is None


EDGE = VECTOR_CELLS // 6  # rows of a depth-6 forest still walked all at once


@pytest.mark.parametrize(
    ("forest", "rows"),
    [
        (RandomForestClassifier(n_estimators=25, max_depth=6, random_state=0), 1),
        (RandomForestClassifier(n_estimators=25, max_depth=6, random_state=0), 40),
        (RandomForestClassifier(n_estimators=25, max_depth=6, random_state=0), EDGE),  # all at once up to here
        (RandomForestClassifier(n_estimators=25, max_depth=6, random_state=0), EDGE + 1),  # tree by tree from here
        (RandomForestClassifier(n_estimators=10, random_state=1), 3),  # unbounded depth: leaves at many levels
        (ExtraTreesClassifier(n_estimators=10, min_samples_leaf=3, random_state=2), 30),
    ],
)
def test_all_trees_at_once_gives_the_forests_probabilities_to_the_bit(
    sim_params: Params, forest: RandomForestClassifier | ExtraTreesClassifier, rows: int
) -> None:
    pipe, new = _fit(sim_params, forest)
    fast = accelerate(pipe)
    assert fast is not None
    fsum = fast.steps[-1][1]
    matrix = pipe[:-1].transform(features.model_input(new.head(rows)))
    vectorised = forest.max_depth is None or rows <= EDGE
    assert (rows * fsum.depth <= VECTOR_CELLS) is vectorised
    assert np.array_equal(fsum.predict_proba(matrix), forest.predict_proba(matrix))
    assert np.array_equal(fsum.predict_proba(matrix), fsum.tree_by_tree(np.asarray(matrix, dtype=np.float32)))


def test_a_missing_value_takes_each_splits_own_side(sim_params: Params) -> None:
    """sklearn ≥ 1.3 trees learn where missing values go; the vectorised walk leaves those to the trees."""
    pipe, new = _fit(sim_params, RandomForestClassifier(n_estimators=10, max_depth=6, random_state=0))
    forest = pipe.steps[-1][1]
    matrix = np.array(pipe[:-1].transform(features.model_input(new.head(5))), dtype=float)
    matrix[2, 3] = np.nan
    assert np.array_equal(ForestSum(forest).predict_proba(matrix), forest.predict_proba(matrix))
