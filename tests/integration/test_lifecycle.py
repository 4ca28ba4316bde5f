"""The whole lifecycle on small simulator data: real DVC stages, Prefect flows, MLflow and uvicorn.

Normal production days must not trigger anything; the simulated drift period (``replay.*``, the
demo's) must drift past the threshold, fire the trigger, register a new version that the gate
promotes on held-out drift rows, and the running service must hot-swap to it.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from predmaint.config import Params

pytestmark = pytest.mark.slow


def _client(params: Params) -> Any:
    from predmaint.model.registry import client

    return client(params)


def test_normal_days_do_not_drift_and_nothing_is_retrained(lifecycle: tuple[Params, list[Any]]) -> None:
    params, rows = lifecycle
    normal = rows[:-1]
    assert [r.day for r in normal] == ["day_01", "day_02"]
    for row in normal:
        assert row.drift_share < params.monitoring.drift_share_threshold
        assert not row.fire
        assert row.served_before == row.served_after == "1"


def test_drift_day_fires_retrains_and_the_service_serves_the_champion(lifecycle: tuple[Params, list[Any]]) -> None:
    params, rows = lifecycle
    drift = rows[-1]
    assert drift.day.endswith(params.replay.drift_scenario)
    assert drift.drift_share >= params.monitoring.drift_share_threshold
    assert drift.fire

    client = _client(params)
    versions = client.search_model_versions(f"name='{params.mlflow.registered_model}'")
    assert sorted(int(v.version) for v in versions) == [1, 2], "retraining must register exactly one new version"
    champion = client.get_model_version_by_alias(params.mlflow.registered_model, params.mlflow.champion_alias)
    assert drift.served_after == str(champion.version)

    with params.path(params.paths.promotions_log).open() as fh:
        decisions = list(csv.DictReader(fh))
    assert [d["challenger_version"] for d in decisions] == ["1", "2"]
    assert decisions[-1]["reasons"], "the gate's decision must carry its reasons"
    tags = client.get_model_version(params.mlflow.registered_model, "2").tags
    assert tags["gate_decision"] == "promoted" and tags["gate_reasons"], tags  # the demo's drift makes retraining pay
    assert str(champion.version) == "2" and decisions[-1]["promoted"] == "true" and drift.note.endswith("hot-swapped")
    assert decisions[-1]["rows_source"].startswith("data version ")  # the held-out gate window, recorded

    assert not (params.path(params.paths.monitoring_dir) / "decisions.csv").exists()
    with params.path(params.monitoring.decisions_log).open() as fh:
        fired = [r["fire"] for r in csv.DictReader(fh)]
    assert fired[-1] in {"yes", "True", "true"} and len(fired) == 3
    assert (params.path(params.paths.monitoring_dir) / drift.day / "drift.html").is_file()
    assert (params.path(params.paths.data_docs_dir) / "index.html").is_file()

    with params.path(params.paths.deployment_log).open() as fh:
        served = list(csv.DictReader(fh))
    assert served[0]["reason"] == "startup"
    demo_api = [r for r in served if r["pid"] == served[0]["pid"]]  # other tests start servers on this project too
    assert demo_api[-1]["version"] == "2" and demo_api[-1]["reason"] == "alias change", demo_api


def test_retraining_window_is_a_dvc_tracked_data_version(lifecycle: tuple[Params, list[Any]]) -> None:
    params, _ = lifecycle
    from predmaint.data.lineage import Manifest, file_md5

    manifest = Manifest(params.path(params.paths.manifest), params.root)
    folder = params.path(params.paths.retrain_dir)
    windows = [v for v in manifest.read() if v.stage == "retrain_window"]
    assert len(windows) == 1
    window = windows[0]
    assert file_md5(params.path(Path(window.path))) == window.md5
    labelled = manifest.find(window.parents[-1])
    assert labelled.stage == "labelled_production" and labelled.details["feedback_rows"] > 0
    assert labelled.details["prediction_log_sha256"] and labelled.details["trigger_window"].endswith(
        params.replay.drift_scenario
    )
    from predmaint.service import predlog, predlog_db

    conn = predlog.connect(predlog.location(params), readonly=True)
    try:  # retention may archive these labels now: the retraining marked each one it used
        used = dict(predlog_db.execute(conn, "SELECT used_by, COUNT(*) FROM feedback GROUP BY used_by"))
    finally:
        conn.close()
    assert used.get(labelled.version_id) == labelled.rows, used
    gate = manifest.validations({window.md5})
    assert gate and Path(gate[0].path).parent == folder.relative_to(params.root)
    assert not list(folder.glob("*.dvc")), "run-time pointers would be untracked files in git"
    remote = params.path(params.paths.dvc_remote) / "files" / "md5"
    for version in (window, labelled, gate[0]):
        assert (remote / version.md5[:2] / version.md5[2:]).is_file(), f"{version.path} not pushed"
    assert not any(params.path(params.paths.validation_dir).glob("raw/window_*")), "validate_raw's output touched"
