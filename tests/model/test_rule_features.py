"""Rule-aware features: a model that never saw an HDF failure still flags readings that break the HDF rule."""

from __future__ import annotations

import numpy as np

from predmaint import physics, schema
from predmaint.config import Params
from predmaint.data.simulate import simulate
from predmaint.model import features
from predmaint.model.train import FitSettings, fit
from tests.model.conftest import SMALL_FOREST, reconfigure


def test_model_trained_without_hdf_flags_hdf_rule_readings(sim_params: Params) -> None:
    params = reconfigure(sim_params, model={"algorithm": "random_forest", "random_forest": SMALL_FOREST})
    frame = simulate(params.simulator, params.physics, rows=10_000, seed=3)
    hdf_rule = physics.rule_flags(frame, params.physics)["HDF"]
    train_rows = frame[~hdf_rule & (frame["HDF"] == 0)].reset_index(drop=True)
    assert train_rows["HDF"].sum() == 0 and train_rows[schema.TARGET].sum() > 20
    fitted = fit(FitSettings.of(params), train_rows)

    hot = simulate(params.simulator, params.physics, rows=10_000, seed=4, scenario="heat_wave", start_udi=20_001)
    breaking = hot[physics.rule_flags(hot, params.physics)["HDF"]]
    assert len(breaking) >= 10
    proba = fitted.pipeline.predict_proba(features.model_input(breaking))[:, 1]
    assert (proba >= fitted.threshold).mean() >= 0.9, np.sort(proba)[:10]


def test_rule_margins_agree_with_the_rule_flags(sim_params: Params) -> None:
    frame = simulate(sim_params.simulator, sim_params.physics, rows=3000, seed=5)
    step = features.PhysicsFeatures(sim_params.physics.model_dump(mode="json")).fit(features.model_input(frame))
    out = step.transform(features.model_input(frame))
    flags = physics.rule_flags(frame, sim_params.physics)
    for mode in physics.RULE_MODES:
        np.testing.assert_array_equal(out[f"fires_{mode}"].to_numpy().astype(bool), flags[mode])
        np.testing.assert_array_equal(out[f"margin_{mode}"].to_numpy() < 0, flags[mode])
    assert set(out.columns).isdisjoint({*schema.ID_COLUMNS, *schema.LABEL_COLUMNS})
