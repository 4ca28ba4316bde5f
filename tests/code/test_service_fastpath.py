"""The forest fast path gives the pipeline's probabilities to the bit, and only for forests."""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.pipeline import Pipeline

from predmaint import schema
from predmaint.config import Params
from predmaint.model import features
from predmaint.service.fastpath import ForestSum, accelerate


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
