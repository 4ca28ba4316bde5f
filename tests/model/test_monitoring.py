"""A monitored window end to end: Evidently reports on disk, the decision, MLflow run, CLI, log window."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from predmaint import physics, schema
from predmaint.cli import app
from predmaint.config import Params
from predmaint.data.simulate import simulate
from predmaint.monitoring import decide_and_record, log_window, monitor_window, read_decisions
from predmaint.monitoring.performance import compare
from predmaint.service.predlog import PREDICTION_COLUMNS, Feedback, PredictionLog
from tests.conftest import make_project

BASELINE = {
    "recall": 0.9,
    "precision": 0.5,
    "f1": 0.64,
    "expected_cost_per_1000": 30000.0,
    "tn": 1900,
    "fp": 60,
    "fn": 6,
    "tp": 54,
    "threshold": 0.5,
}


def scored(params: Params, frame: pd.DataFrame) -> pd.DataFrame:
    """A stand-in model with known behaviour: alarms where a physics rule is near or past its limit."""
    flags = physics.rule_flags(frame, params.physics)
    risky = np.logical_or.reduce(list(flags.values()))
    out = frame.copy()
    out["prediction"] = np.where(risky, 0.9, 0.05)
    return out


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Params:
    return make_project(tmp_path_factory.mktemp("monitoring") / "proj", data={"source_order": ["simulator"]})


@pytest.fixture(scope="module")
def reference(project: Params) -> pd.DataFrame:
    return scored(project, simulate(project.simulator, project.physics, rows=7000, seed=1))


def labelled_window(params: Params, scenario: str | None, seed: int) -> pd.DataFrame:
    frame = scored(
        params, simulate(params.simulator, params.physics, rows=500, scenario=scenario, seed=seed, start_udi=7001)
    )
    frame = frame.rename(columns={schema.TARGET: "target"}).astype({"target": float})
    frame.loc[frame.index[:50], "target"] = np.nan  # labels not yet arrived for some rows
    return frame


def test_drifted_window_reports_decides_and_logs(project: Params, reference: pd.DataFrame) -> None:
    window = labelled_window(project, "torque_sensor_bias", seed=5)
    summary = monitor_window(project, reference, window, BASELINE, window_id="day_07")

    folder = project.path(project.paths.monitoring_dir) / "day_07"
    for name in ("drift.html", "drift.json", "performance.html", "performance.json", "summary.json"):
        assert (folder / name).stat().st_size > 0, name
    assert (folder / "drift.html").stat().st_size > 1_000_000  # the self-contained Evidently page
    assert json.loads((folder / "summary.json").read_text())["window_id"] == "day_07"

    assert summary.rows == 500 and summary.labelled_rows == 450
    assert summary.columns[schema.TORQUE]["drifted"] and summary.drift_share >= 0.15
    y = window["target"].dropna().astype(bool).to_numpy()
    alarm = (window.loc[window["target"].notna(), "prediction"] >= 0.5).to_numpy()
    assert summary.production["recall"] == pytest.approx((y & alarm).sum() / y.sum())
    assert summary.production["error_rate"] == pytest.approx(np.mean(y != alarm))
    assert summary.training["error_rate"] == pytest.approx(66 / 2020)
    assert summary.ratio == compare(summary.production, summary.training)
    assert summary.evidently_classification["Recall"] == pytest.approx(summary.production["recall"])

    decisions = project.path(project.monitoring.decisions_log)
    decision = decide_and_record(summary, project.monitoring, decisions)
    assert decision.fire and "drift" in decision.rules_met
    row = read_decisions(decisions).iloc[-1]
    assert row["window_id"] == "day_07" and row["fire"] == "yes" and "Torque [Nm]" in row["reasons"]

    run_id = log_window(project, summary, decision)
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=project.tracking_uri)
    run = client.get_run(run_id)
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.name == project.mlflow.monitoring_experiment
    assert experiment.artifact_location.startswith(project.path(project.mlflow.artifact_root).as_uri())
    assert run.data.metrics["drift_share"] == pytest.approx(summary.drift_share)
    assert run.data.metrics["drift_score.torque_nm"] == pytest.approx(summary.columns[schema.TORQUE]["score"])
    assert run.data.metrics["trigger_fire"] == 1.0
    assert run.data.metrics["training.error_rate"] == pytest.approx(summary.training["error_rate"])
    assert "production.recall" in run.data.metrics and "ratio.error_rate" in run.data.metrics
    wear_tail = summary.tails["tool_wear_min"]
    assert run.data.metrics["tail_share.tool_wear_min"] == pytest.approx(wear_tail["beyond"] / wear_tail["rows"])
    assert run.data.metrics["failure_rate"] == pytest.approx(summary.failure_rate)
    assert run.data.tags["trigger_fire"] == "yes"
    assert run.info.run_name == f"monitor day_07 · retrain triggered · drift share {summary.drift_share:.2f}"
    artifacts = {a.path for a in client.list_artifacts(run_id, "evidently")}
    assert {"evidently/drift.html", "evidently/performance.html"} <= artifacts
    assert {a.path for a in client.list_artifacts(run_id)} >= {"summary.json", "decision.json"}


def test_calm_window_does_not_fire(project: Params, reference: pd.DataFrame, tmp_path: Path) -> None:
    window = reference.sample(500, random_state=9).rename(columns={schema.TARGET: "target"})
    summary = monitor_window(project, reference, window, BASELINE, window_id="calm")
    decision = decide_and_record(summary, project.monitoring, tmp_path / "decisions.csv")
    assert summary.drift_share < project.monitoring.drift_share_threshold
    assert not decision.fire and decision.rules_met == []
    assert summary.sensor_health == {}


def test_a_frozen_sensor_in_a_served_window_is_flagged(project: Params, reference: pd.DataFrame) -> None:
    window = reference.sample(500, random_state=9).rename(columns={schema.TARGET: "target"})
    window[schema.TORQUE] = 40.0  # the torque sensor is stuck
    summary = monitor_window(project, reference, window, BASELINE, window_id="stuck")
    assert "flat-lined" in summary.sensor_health[schema.TORQUE]
    assert any(note.startswith(f"sensor health: {schema.TORQUE}") for note in summary.notes)


def test_cli_on_a_csv_window(project: Params, reference: pd.DataFrame, tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj", data={"source_order": ["simulator"]})  # own decisions.csv
    csv = tmp_path / "window.csv"
    labelled_window(project, "product_mix_shift_L", seed=6).to_csv(csv, index=False)
    ref = tmp_path / "reference.csv"
    reference.to_csv(ref, index=False)
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"metrics": {"validation": BASELINE}}))
    params_file = project.root / "params.yaml"
    args = ["--params", str(params_file), "monitor", "--window", str(csv), "--window-id", "cli_day"]
    args += ["--reference", str(ref), "--baseline", str(baseline), "--no-mlflow"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Type" in result.output and "DRIFTED" in result.output and "retrain: YES" in result.output
    assert read_decisions(project.path(project.monitoring.decisions_log))["window_id"].iloc[-1] == "cli_day"

    missing = CliRunner().invoke(app, [*args[:4], str(tmp_path / "nope.csv"), "--baseline", str(baseline)])
    assert missing.exit_code == 1 and "window file not found" in missing.output


def test_window_from_the_prediction_log(project: Params, reference: pd.DataFrame, tmp_path: Path) -> None:
    from predmaint.monitoring.sources import load_window

    window = labelled_window(project, None, seed=8)
    log_params = make_project(tmp_path / "proj", data={"source_order": ["simulator"]})
    log = PredictionLog(log_params.path(log_params.paths.prediction_log)).start()
    now = time.time()
    rows = [
        (f"r{i}", now + i * 1e-3, r[schema.TYPE], *(float(r[c]) for c in schema.NUMERIC_FEATURES),
         float(r["prediction"]), int(r["prediction"] >= 0.5), 0.5, "", "predmaint-failure", "3")
        for i, (_, r) in enumerate(window.iterrows())
    ]  # fmt: skip
    assert len(rows[0]) == len(PREDICTION_COLUMNS)
    log.append(rows).result()
    labels = [Feedback(f"r{i}", int(y)) for i, y in enumerate(window["target"]) if not np.isnan(y)]
    log.add_feedback(labels).result()
    log.close()

    frame = load_window(log_params, "log", rows=400)
    assert len(frame) == 400 and frame["target"].notna().sum() == 400  # the newest 400; all labelled
    summary = monitor_window(log_params, reference, frame, BASELINE, window_id="from_log")
    assert summary.model_versions == ["3"] and summary.threshold == 0.5
    assert summary.window_start is not None and summary.labelled_rows == 400
