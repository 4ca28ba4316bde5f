"""params.yaml is loaded once, validated, and overridable from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from predmaint.config import ConfigError, load_params
from tests.conftest import REPO, write_params


def test_repo_params_are_valid() -> None:
    params = load_params(REPO / "params.yaml", environ={})
    assert params.root == REPO
    assert params.split.train_rows == 7000
    assert params.model.hyperparameters()["n_estimators"] == 200
    assert params.backtest.origins == [4000, 5000, 6000, 7000] and params.training.calibration == "logit"


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: params file not found"):
        load_params(tmp_path / "nope.yaml", environ={})


def test_missing_key_names_file_and_key(tmp_path: Path) -> None:
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    del raw["split"]["batch_size"]
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError) as err:
        load_params(tmp_path / "params.yaml", environ={})
    assert str(tmp_path / "params.yaml") in str(err.value)
    assert "missing key 'split.batch_size'" in str(err.value)


def test_wrong_type_and_unknown_key_are_errors(tmp_path: Path) -> None:
    write_params(tmp_path, split={"batch_size": "many", "batch_sise": 3})
    with pytest.raises(ConfigError) as err:
        load_params(tmp_path / "params.yaml", environ={})
    assert "key 'split.batch_size'" in str(err.value)
    assert "unknown key 'split.batch_sise'" in str(err.value)


def test_env_overrides_nested_key_and_alias(tmp_path: Path) -> None:
    write_params(tmp_path)
    env = {"PREDMAINT_SERVING__PORT": "8123", "PREDMAINT_DATA_PATH": "/x/y.csv", "PREDMAINT_ADMIN_TOKEN": "s"}
    params = load_params(tmp_path / "params.yaml", environ=env)
    assert params.serving.port == 8123
    assert params.data.csv_path == Path("/x/y.csv")


def test_env_override_of_unknown_key_is_an_error(tmp_path: Path) -> None:
    write_params(tmp_path)
    with pytest.raises(ConfigError, match="PREDMAINT_SERVING__PROT"):
        load_params(tmp_path / "params.yaml", environ={"PREDMAINT_SERVING__PROT": "1"})


def test_relative_paths_resolve_against_params_folder(tmp_path: Path) -> None:
    params = load_params(write_params(tmp_path), environ={})
    assert params.path(params.paths.raw_file) == tmp_path / "data" / "raw" / "ai4i2020.csv"
    assert params.tracking_uri == f"sqlite:///{tmp_path}/mlruns/mlflow.db"
