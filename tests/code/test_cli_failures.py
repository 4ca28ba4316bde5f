"""Failures a user can cause are answered in one line, exit non-zero, and write nothing (issue 18)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from predmaint.cli import app
from predmaint.config import ConfigError, load_params
from tests.conftest import make_project


def _run(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(app, list(args))
    lines = [line for line in (result.stderr or result.output).splitlines() if line.strip()]
    return result.exit_code, lines


def _params(tmp_path: Path, **data: object) -> Path:
    params = make_project(tmp_path / "proj", data={"source_order": ["path", "simulator"], **data})
    return params.root / "params.yaml"


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("model", "random_forest", {"n_estimators": -5}),
        ("model", "hist_gradient_boosting", {"learning_rate": 0}),
        ("model", "logistic_regression", {"C": -1.0}),
    ],
)
def test_a_bad_hyperparameter_is_one_line_naming_the_key(
    tmp_path: Path, section: str, key: str, value: dict[str, object]
) -> None:
    file = _params(tmp_path)
    raw = yaml.safe_load(file.read_text())
    raw[section][key] = {**raw[section][key], **value}
    file.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(ConfigError) as err:
        load_params(file, environ={})
    (name,) = value
    assert "\n" not in str(err.value) and f"{section}.{key}" in str(err.value) and f"'{name}'" in str(err.value)
    code, lines = _run("--params", str(file), "ingest")
    assert code == 2 and len(lines) == 1 and name in lines[0]


def test_batch_of_a_missing_file_is_one_line(tmp_path: Path) -> None:
    code, lines = _run("--params", str(_params(tmp_path)), "batch", str(tmp_path / "missing.csv"))
    assert code == 1 and lines == [f"{tmp_path / 'missing.csv'}: input file not found"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"\xff\xfe\x00garbage\x00\x01", "UnicodeDecodeError"), (b"a,b\n1,2\n", "missing column")],
)
def test_an_unreadable_configured_csv_stops_ingest_without_falling_back(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    bad = tmp_path / "ai4i.csv"
    bad.write_bytes(content)
    file = _params(tmp_path, csv_path=str(bad))
    code, lines = _run("--params", str(file), "ingest")
    assert code == 1 and len(lines) == 1, lines
    assert str(bad) in lines[0] and reason in lines[0]
    params = load_params(file, environ={})
    assert not params.path(params.paths.raw_file).exists()
    assert not params.path(params.paths.manifest).exists()


def test_a_directory_as_the_configured_csv_is_an_error_not_a_fallback(tmp_path: Path) -> None:
    folder = tmp_path / "ai4i.csv"
    folder.mkdir()
    code, lines = _run("--params", str(_params(tmp_path, csv_path=str(folder))), "ingest")
    assert code == 1 and len(lines) == 1 and "IsADirectoryError" in lines[0]


def test_a_missing_csv_falls_back_to_the_simulator_only_when_listed(tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere.csv")
    code, _ = _run("--params", str(_params(tmp_path / "a", csv_path=missing)), "ingest")
    assert code == 0
    only_path = make_project(tmp_path / "b", data={"csv_path": missing, "source_order": ["path"]})
    code, lines = _run("--params", str(only_path.root / "params.yaml"), "ingest")
    assert code == 1 and len(lines) == 1 and "no file at" in lines[0]


@pytest.mark.parametrize("kind", ["loop", "dangling"])
def test_a_broken_link_as_the_configured_csv_is_an_error_not_a_fallback(tmp_path: Path, kind: str) -> None:
    link = tmp_path / "ai4i.csv"
    link.symlink_to(link if kind == "loop" else tmp_path / "unmounted" / "ai4i.csv")
    file = _params(tmp_path, csv_path=str(link))
    code, lines = _run("--params", str(file), "ingest")
    assert code == 1 and len(lines) == 1 and str(link) in lines[0] and "symbolic link" in lines[0], lines
    params = load_params(file, environ={})
    assert not params.path(params.paths.raw_file).exists()


def test_a_header_without_rows_is_not_ingested(tmp_path: Path) -> None:
    from predmaint import schema

    empty = tmp_path / "ai4i.csv"
    empty.write_text(",".join(schema.ALL_COLUMNS) + "\n")
    code, lines = _run("--params", str(_params(tmp_path, csv_path=str(empty))), "ingest")
    assert code == 1 and len(lines) == 1 and "no data rows" in lines[0], lines


def test_lineage_of_an_unknown_version_needs_no_mlflow_and_writes_nothing(tmp_path: Path) -> None:
    """``predmaint lineage 999`` answers without importing MLflow's reader (it took 4-11 s and created mlflow.db)."""
    file = _params(tmp_path)
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom predmaint.cli import app\n"
        f"r = CliRunner().invoke(app, ['--params', {str(file)!r}, 'lineage', '999'])\n"
        "heavy = sorted(m for m in ('predmaint.model.registry', 'mlflow', 'pandas') if m in sys.modules)\n"
        "print(r.exit_code, heavy, repr(r.output.strip()))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    exit_code, heavy, message = out.stdout.strip().split(" ", 2)
    assert (exit_code, heavy) == ("1", "[]"), out.stdout
    assert "no model registry at" in message and "\\n" not in message
    assert not (tmp_path / "proj" / "mlruns" / "mlflow.db").exists()


def test_a_version_missing_from_an_existing_registry_is_found_without_mlflow(tmp_path: Path) -> None:
    import typer
    from mlflow import MlflowClient

    from predmaint.cli.model import require_registry

    params = load_params(_params(tmp_path), environ={})
    client = MlflowClient(tracking_uri=params.tracking_uri)
    name = params.mlflow.registered_model
    client.create_registered_model(name)
    client.create_model_version(name, source=str(tmp_path), run_id=None)
    client.set_registered_model_alias(name, params.mlflow.champion_alias, "1")
    require_registry(params, "1")
    require_registry(params, params.mlflow.champion_alias)
    for missing in ("999", "nosuch"):
        with pytest.raises(typer.Exit):
            require_registry(params, missing)


@pytest.mark.parametrize("args", [["lineage", "--model", "999"], ["reproduce", "1"], ["rollback"], ["evaluate"]])
def test_model_commands_without_a_registry_say_so_and_create_none(tmp_path: Path, args: list[str]) -> None:
    file = _params(tmp_path)
    code, lines = _run("--params", str(file), *args)
    registry = load_params(file, environ={}).registry_file
    assert code == 1 and len(lines) == 1 and "no model registry at" in lines[0], lines
    assert registry is not None and not registry.exists()  # MLflow used to create an empty one


@pytest.mark.parametrize("case", ["bad params", "garbage csv", "missing batch"])
def test_user_failures_are_answered_before_pandas_loads(tmp_path: Path, case: str) -> None:
    """Such failures waited ~2-4 s for pandas, the simulator or GX to import (bench/cli_failures.py)."""
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(bytes(range(256)) * 4)
    file = _params(tmp_path, csv_path=str(garbage))
    args = {"bad params": ["ingest"], "garbage csv": ["ingest"], "missing batch": ["validate", "missing.csv"]}[case]
    if case == "bad params":
        raw = yaml.safe_load(file.read_text())
        raw["split"]["train_rows"] = "many"
        file.write_text(yaml.safe_dump(raw, sort_keys=False))
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom predmaint.cli import app\n"
        f"r = CliRunner().invoke(app, ['--params', {str(file)!r}, *{args!r}])\n"
        "print(r.exit_code, 'pandas' in sys.modules, len(r.output.strip().splitlines()))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    exit_code, pandas_loaded, lines = out.stdout.split()
    assert exit_code != "0" and pandas_loaded == "False" and lines == "1", out.stdout
