"""The data contract as plain Python: one definition, reasons written down, no GX import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from predmaint import schema
from predmaint.config import Params
from predmaint.quality.contract import ContractError, load_contract
from tests.conftest import REAL_DATA, make_project, needs_real_data


@pytest.fixture
def params(tmp_path: Path) -> Params:
    return make_project(tmp_path / "proj")


LIGHT_MODULES = [
    "predmaint.quality.contract",
    "predmaint.quality.results",
    "predmaint.quality.gate",
    "predmaint.data.split",
    "predmaint.cli",
]


@pytest.mark.parametrize("module", LIGHT_MODULES)
def test_light_modules_do_not_import_great_expectations(module: str) -> None:
    code = f"import sys, {module}; sys.exit(1 if 'great_expectations' in sys.modules else 0)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"importing {module} pulled in great_expectations\n{done.stderr}"


def test_bounds_cover_every_sensor_with_a_reason(params: Params) -> None:
    contract = load_contract(params)
    assert set(contract.bounds) == set(schema.NUMERIC_FEATURES)
    for column, (low, high) in contract.bounds.items():
        assert low < high
        assert len(contract.reasons[column]) > 40, f"{column} needs its reason written down"
    assert contract.product_types == schema.PRODUCT_TYPES
    assert set(contract.suite("raw").columns) == set(schema.ALL_COLUMNS)
    assert set(contract.suite("production").columns) == {*schema.ID_COLUMNS, *schema.FEATURE_COLUMNS}
    assert contract.rules["label_consistency"].blocking is False


@needs_real_data
def test_every_real_reading_is_inside_the_bounds_and_celsius_is_not(params: Params) -> None:
    frame = pd.read_csv(REAL_DATA, encoding="utf-8-sig")
    contract = load_contract(params)
    for column, (low, high) in contract.bounds.items():
        assert frame[column].between(low, high).all(), column
        mean_low, mean_high = contract.columns[column].mean or (low, high)
        assert mean_low <= frame[column].mean() <= mean_high
    low, high = contract.bounds[schema.AIR_TEMP]
    assert not (frame[schema.AIR_TEMP] - 273.15).between(low, high).any()


def test_reading_violations_name_the_field(params: Params) -> None:
    contract = load_contract(params)
    good = {
        schema.TYPE: "M",
        schema.AIR_TEMP: 298.1,
        schema.PROCESS_TEMP: 308.6,
        schema.SPEED: 1551,
        schema.TORQUE: 42.8,
        schema.TOOL_WEAR: 0,
    }
    assert contract.reading_violations(good) == []
    bad = {
        **good,
        schema.TYPE: "X",
        schema.AIR_TEMP: 25.0,
        schema.TORQUE: float("nan"),
        schema.PROCESS_TEMP: 297.0,
    }
    problems = contract.reading_violations(bad)
    assert any(p.startswith(f"{schema.TYPE}:") for p in problems)
    assert any(p.startswith(f"{schema.AIR_TEMP}: 25.0 is outside") for p in problems)
    assert any(p.startswith(f"{schema.TORQUE}:") and "finite" in p for p in problems)
    swapped = contract.reading_violations({**good, schema.AIR_TEMP: 308.6, schema.PROCESS_TEMP: 298.1})
    assert swapped == [f"{schema.PROCESS_TEMP}: 298.1 is not above {schema.AIR_TEMP} 308.6"]


def test_invalid_contract_names_file_and_key(params: Params) -> None:
    path = params.path(params.paths.contract)
    raw = yaml.safe_load(path.read_text())
    raw["columns"]["Torque [Nm]"]["min"] = 500.0
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ContractError, match=r"contract\.yaml.*\n.*Torque \[Nm\].*min 500\.0 is above max"):
        load_contract(params)
    raw["suites"]["raw"]["rules"] = ["no_such_rule"]
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ContractError, match="suites"):
        load_contract(params)
    with pytest.raises(ContractError, match="unknown suite 'golden'"):
        path.unlink()
        make_project(params.root)
        load_contract(params).suite("golden")


def test_the_documented_bounds_are_the_contract(params: Params) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "data-quality.md").read_text(encoding="utf-8")
    contract = load_contract(params)
    for column, (low, high) in contract.bounds.items():
        row = next(line for line in doc.splitlines() if line.startswith(f"| {column} |"))
        cells = [c.strip() for c in row.split("|")[2:4]]
        mean = contract.columns[column].mean
        assert mean is not None
        assert cells == [f"{low:g} – {high:g}", f"{mean[0]:g} – {mean[1]:g}"], row
