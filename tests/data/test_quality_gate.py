"""The GX gate with real Great Expectations: every kind of corrupted batch a plant produces is
rejected with a clear reason and quarantined; clean batches pass whatever their column order or
line endings; a check that raises is a check error, not bad data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from predmaint import schema
from predmaint.config import Params
from predmaint.data.lineage import Manifest, file_md5
from predmaint.quality import gate, suites
from predmaint.quality.gate import CheckError, GateError, validate_file, validate_frame
from predmaint.quality.results import RESULT_FILE, read_result
from tests.conftest import HAVE_REAL_DATA, REAL_DATA, make_project, needs_real_data

BASE_ROWS = 2000
FEATURES = [*schema.ID_COLUMNS, *schema.FEATURE_COLUMNS]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """A clean labelled batch: the first rows of the real data, or the simulator's."""
    if HAVE_REAL_DATA:
        return pd.read_csv(REAL_DATA, encoding="utf-8-sig").iloc[:BASE_ROWS]
    from predmaint.data.simulate import simulate

    project = make_project(tmp_path_factory.mktemp("sim"))
    return simulate(project.simulator, project.physics, rows=BASE_ROWS)


@pytest.fixture
def project(tmp_path: Path) -> Params:
    return make_project(tmp_path / "proj", data={"source_order": ["simulator"]})


def _write(params: Params, frame: pd.DataFrame | bytes, name: str = "batch.csv") -> Path:
    path = params.root / "incoming" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(frame, bytes):
        path.write_bytes(frame)
    else:
        frame.to_csv(path, index=False)
    return path


def _with(frame: pd.DataFrame, column: str, rows: list[int], value: object) -> pd.DataFrame:
    out = frame.copy()
    if isinstance(value, str) and out[column].dtype != object:
        out[column] = out[column].astype(object)
    out.loc[rows, column] = value
    return out


def _swap_temps(f: pd.DataFrame) -> pd.DataFrame:
    out = f.copy()
    out.loc[[3, 9], [schema.AIR_TEMP, schema.PROCESS_TEMP]] = out.loc[
        [3, 9], [schema.PROCESS_TEMP, schema.AIR_TEMP]
    ].to_numpy()
    return out


def _header_only(f: pd.DataFrame) -> bytes:
    return (",".join(f.columns) + "\n").encode()


# name -> (corruption, the check that must name it, its column (or None), its row count (or None))
CORRUPTIONS: dict[str, tuple[Callable[[pd.DataFrame], pd.DataFrame | bytes], str, str | None, int | None]] = {
    "celsius_for_kelvin": (
        lambda f: f.assign(**{schema.AIR_TEMP: f[schema.AIR_TEMP] - 273.15}),
        "expect_column_mean_to_be_between",
        schema.AIR_TEMP,
        None,
    ),
    "rpm_in_rad_per_s": (
        lambda f: f.assign(**{schema.SPEED: (f[schema.SPEED] * 2 * np.pi / 60).round().astype(int)}),
        "expect_column_values_to_be_between",
        schema.SPEED,
        BASE_ROWS,
    ),
    "missing_column": (lambda f: f.drop(columns=[schema.TORQUE]), "structure: missing columns", None, None),
    "extra_column": (lambda f: f.assign(Humidity=0.5), "structure: unexpected columns", None, None),
    "nulls": (
        lambda f: _with(f, schema.TORQUE, [1, 5, 8], np.nan),
        "expect_column_values_to_not_be_null",
        schema.TORQUE,
        3,
    ),
    "out_of_range": (
        lambda f: _with(f, schema.TOOL_WEAR, [7], 999),
        "expect_column_values_to_be_between",
        schema.TOOL_WEAR,
        1,
    ),
    "negative_torque": (
        lambda f: _with(f, schema.TORQUE, [2, 4], -5.0),
        "expect_column_values_to_be_between",
        schema.TORQUE,
        2,
    ),
    "unknown_category": (
        lambda f: _with(f, schema.TYPE, [11], "X"),
        "expect_column_values_to_be_in_set",
        schema.TYPE,
        1,
    ),
    "label_not_binary": (
        lambda f: _with(f, schema.TARGET, [6], 2),
        "expect_column_values_to_be_in_set",
        schema.TARGET,
        1,
    ),
    "text_in_numeric": (
        lambda f: _with(f, schema.SPEED, [3], "fast"),
        "structure: text in a numeric column",
        schema.SPEED,
        1,
    ),
    "duplicate_ids": (
        lambda f: pd.concat([f, f.iloc[[10]]], ignore_index=True),
        "expect_column_values_to_be_unique",
        schema.UDI,
        2,
    ),
    "bad_product_id": (
        lambda f: _with(f, schema.PRODUCT_ID, [12], "M1234"),
        "expect_column_values_to_match_regex",
        schema.PRODUCT_ID,
        1,
    ),
    "product_id_type_mismatch": (
        lambda f: _with(f, schema.TYPE, [f.index[f[schema.TYPE] == "L"][0]], "H"),
        "expect_column_pair_values_to_be_equal",
        schema.TYPE,
        1,
    ),
    "process_below_air": (_swap_temps, "expect_column_pair_values_a_to_be_greater_than_b", None, 2),
    "too_few_rows": (lambda f: f.iloc[:100], "expect_table_row_count_to_be_between", None, None),
    "empty_file": (lambda f: b"", "parse", None, None),
    "not_utf8": (lambda f: b"\xff\xfe" + f.to_csv(index=False).encode("utf-16-le"), "parse", None, None),
    "ragged_rows": (lambda f: (f.to_csv(index=False) + "1," * 20 + "\n").encode(), "parse", None, None),
    "header_only": (_header_only, "structure: no data rows", None, None),
}


@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
def test_corrupted_batch_is_rejected_and_quarantined(case: str, base: pd.DataFrame, project: Params) -> None:
    corrupt, check, column, count = CORRUPTIONS[case]
    path = _write(project, corrupt(base.copy()), f"{case}.csv")
    with pytest.raises(GateError) as info:
        validate_file(project, path, "raw")
    assert not isinstance(info.value, CheckError)
    message = str(info.value)
    assert message.startswith("FAILED:") and check in message and "quarantined to" in message
    assert column is None or column in message
    summary = info.value.result.summary  # type: ignore[union-attr]
    matching = [f for f in summary["failures"] if f["check"] == check and (column is None or f["column"] == column)]
    assert matching, summary["failures"]
    if count is not None:
        assert matching[0]["unexpected_count"] == count
        assert matching[0]["examples"], "a row-level failure must show example rows"
    assert not summary["check_errors"]
    assert not path.exists(), "a rejected file must be moved away"
    folders = list(project.path(project.paths.quarantine_dir).iterdir())
    assert len(folders) == 1 and folders[0].name.endswith(f"_{case}")
    assert (folders[0] / path.name).is_file() and (folders[0] / "REASON.txt").read_text().startswith("FAILED:")
    assert read_result(folders[0] / RESULT_FILE)["summary"]["success"] is False
    assert not project.path(project.paths.validation_dir).exists(), "no passing result may exist"


@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
def test_clean_batch_with_reordered_columns_and_any_line_endings_passes(
    line_end: str, base: pd.DataFrame, project: Params
) -> None:
    shuffled = base[list(reversed(base.columns))]
    payload = ("\ufeff" if line_end == "\r\n" else "") + shuffled.to_csv(index=False, lineterminator=line_end)
    path = _write(project, payload.encode())
    md5 = file_md5(path)
    result = validate_file(project, path, "raw")
    assert result.success and path.is_file() and file_md5(path) == md5
    assert result.result_path == project.path(project.paths.validation_dir) / "raw" / f"batch_{md5}.json"
    stored = read_result(result.result_path)
    assert stored["summary"]["success"] is True and stored["gx_result"]["success"] in (True, False)
    row = Manifest(project.path(project.paths.manifest), project.root).latest_for(result.result_path)
    assert row is not None and row.stage == "validate" and row.details["validated_md5"] == md5


def test_production_suite_accepts_a_day_and_rejects_labels_or_unit_mistakes(
    base: pd.DataFrame, project: Params
) -> None:
    day = base[FEATURES].iloc[:500]
    assert validate_frame(project, day, "production", "day").success
    leaked = validate_frame(project, base.iloc[:500], "production", "with labels")
    assert not leaked.success and leaked.summary["failures"][0]["check"] == "structure: unexpected columns"
    celsius = day.assign(**{schema.PROCESS_TEMP: day[schema.PROCESS_TEMP] - 273.15})
    failed = {
        (f["check"], f["column"]) for f in validate_frame(project, celsius, "production", "c").summary["failures"]
    }
    assert ("expect_column_mean_to_be_between", schema.PROCESS_TEMP) in failed


def test_validate_frame_moves_and_writes_nothing(base: pd.DataFrame, project: Params) -> None:
    result = validate_frame(project, base.drop(columns=[schema.TYPE]), "raw", "in memory")
    assert not result.success and result.result_path is None and result.quarantine_dir is None
    assert not project.path(project.paths.quarantine_dir).exists()


def test_a_raising_expectation_is_a_check_error_not_bad_data(
    base: pd.DataFrame, project: Params, monkeypatch: pytest.MonkeyPatch
) -> None:
    import great_expectations.expectations as gxe

    def sql_only(spec: object, contract: object) -> list[gxe.Expectation]:
        return [gxe.UnexpectedRowsExpectation(unexpected_rows_query="SELECT * FROM {batch} WHERE UDI < 0")]

    monkeypatch.setattr(gate, "_RUNNERS", {})
    monkeypatch.setitem(suites.RULES, "process_above_air", sql_only)
    path = _write(project, base)
    with pytest.raises(CheckError, match="CHECK ERROR") as info:
        validate_file(project, path, "raw")
    summary = info.value.result.summary  # type: ignore[union-attr]
    assert summary["failures"] == [] and summary["check_errors"][0]["check"] == "unexpected_rows_expectation"
    assert "raised" in summary["check_errors"][0]["message"]
    assert path.is_file(), "a broken check must not quarantine the data"
    assert not project.path(project.paths.quarantine_dir).exists()
    stored = project.path(project.paths.validation_dir) / "raw" / f"batch_{file_md5(path)}.json"
    assert read_result(stored)["summary"]["success"] is False


def test_label_consistency_is_reported_but_not_blocking(base: pd.DataFrame, project: Params) -> None:
    frame = base.copy()
    quiet = frame.index[(frame[list(schema.LABEL_COLUMNS)] == 0).all(axis=1)]
    before = validate_frame(project, frame, "raw", "as is").summary["warning_counts"]["label_consistency"]
    frame.loc[quiet[0], "RNF"] = 1
    frame.loc[quiet[1], schema.TARGET] = 1
    result = validate_frame(project, frame, "raw", "quirky labels")
    assert result.success
    assert result.summary["warning_counts"]["label_consistency"] == before + 2
    assert {w["blocking"] for w in result.summary["warnings"]} == {False}


@needs_real_data
def test_real_data_passes_with_27_label_inconsistencies(project: Params) -> None:
    frame = pd.read_csv(REAL_DATA, encoding="utf-8-sig")
    result = validate_frame(project, frame, "raw", REAL_DATA.name)
    assert result.success, result.summary["failures"]
    assert result.summary["warning_counts"] == {"label_consistency": 27}


def test_stored_result_is_the_same_bytes_in_any_folder_and_at_any_time(base: pd.DataFrame, tmp_path: Path) -> None:
    """A DVC output holding the result must hash the same on every machine (issue 15)."""
    stored = []
    for folder in ("a", "a_much_longer_folder_name/nested"):
        project = make_project(tmp_path / folder)
        result = validate_file(project, _write(project, base.iloc[:1200]), "raw")
        assert result.summary["checked_at"] and result.summary["source"].startswith(str(project.root))
        stored.append(result.result_path.read_bytes() if result.result_path else b"")
        row = Manifest(project.path(project.paths.manifest), project.root).latest_for(result.result_path)
        assert row is not None and row.details["checked_at"] == result.summary["checked_at"]
    assert stored[0] == stored[1]
    text = stored[0].decode()
    assert str(tmp_path) not in text and "ge_load_time" not in text and '"checked_at"' not in text
