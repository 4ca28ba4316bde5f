"""The cleaning stage: the documented label-inconsistency policy, a sidecar of what was excluded,
a manifest row with its parent, and the raw data untouched through the whole chain."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from predmaint import schema

from predmaint.data import tables
from predmaint.data.clean import (
    FAILURE_WITHOUT_FLAG,
    FLAG_WITHOUT_FAILURE,
    REASON_COLUMN,
    CleanError,
    clean,
    clean_frame,
)
from predmaint.config import Params
from predmaint.data.ingest import ingest
from predmaint.data.lineage import Manifest, file_md5
from predmaint.quality.gate import validate_file
from predmaint.ops.stages import split
from tests.conftest import make_project, needs_real_data


def _frame() -> pd.DataFrame:
    rows = [
        [1, "L00001", "L", 300.0, 310.0, 1500, 40.0, 10, 0, 0, 0, 0, 0, 0],
        [2, "L00002", "L", 300.0, 310.0, 1500, 40.0, 10, 0, 0, 0, 0, 0, 1],  # flag, no failure
        [3, "M00003", "M", 300.0, 310.0, 1500, 40.0, 10, 1, 0, 0, 0, 0, 0],  # failure, no flag
        [4, "H00004", "H", 300.0, 310.0, 1500, 40.0, 10, 1, 0, 1, 0, 0, 0],
    ]
    return pd.DataFrame(rows, columns=list(schema.ALL_COLUMNS))


def test_drop_policy_excludes_inconsistent_rows_with_reasons() -> None:
    cleaned, excluded = clean_frame(_frame(), "drop")
    assert cleaned[schema.UDI].tolist() == [1, 4]
    assert excluded[schema.UDI].tolist() == [2, 3]
    assert excluded[REASON_COLUMN].tolist() == [FLAG_WITHOUT_FAILURE, FAILURE_WITHOUT_FLAG]
    pd.testing.assert_frame_equal(cleaned, _frame().iloc[[0, 3]].reset_index(drop=True))


def test_keep_policy_changes_nothing() -> None:
    cleaned, excluded = clean_frame(_frame(), "keep")
    pd.testing.assert_frame_equal(cleaned, _frame())
    assert excluded.empty and REASON_COLUMN in excluded.columns
    with pytest.raises(ValueError, match="inconsistent_labels"):
        clean_frame(_frame(), "repair")


def test_clean_refuses_input_without_a_recorded_version(tmp_path: Path) -> None:
    params = make_project(tmp_path / "proj")
    with pytest.raises(CleanError, match="predmaint split"):
        clean(params)
    tables.write_table(_frame(), params.path(params.paths.reference_raw))
    with pytest.raises(CleanError, match="no recorded version"):
        clean(params)


def _chain(params: Params) -> tuple[str, Manifest]:
    ingest(params)
    raw = params.path(params.paths.raw_file)
    raw_md5 = file_md5(raw)
    validate_file(params, raw, "raw")
    split(params)
    clean(params)
    assert file_md5(raw) == raw_md5, "the chain modified the raw file"
    return raw_md5, Manifest(params.path(params.paths.manifest), params.root)


@pytest.mark.parametrize("policy", ["drop", "keep"])
def test_chain_on_simulated_data_records_the_cleaned_version(tmp_path: Path, policy: str) -> None:
    params = make_project(
        tmp_path / "proj", data={"source_order": ["simulator"]}, clean={"inconsistent_labels": policy}
    )
    _, manifest = _chain(params)
    ref = params.path(params.paths.reference)
    version = manifest.latest_for(ref)
    assert version is not None and version.stage == "clean"
    assert [v.stage for v in manifest.chain(version.version_id)] == ["clean", "split", "ingest"]
    assert version.details["policy"] == {"inconsistent_labels": policy}
    assert version.rows == len(tables.read_table(ref)) == version.details["output_rows"]
    assert (ref.parent / params.clean.excluded_rows_file).is_file()


@needs_real_data
def test_chain_on_real_data_drops_the_23_reference_quirks_and_keeps_raw(real_params: Params) -> None:
    raw_md5, manifest = _chain(real_params)
    version = manifest.latest_for(real_params.path(real_params.paths.reference))
    assert version is not None
    assert version.details["input_rows"] == 7000 and version.details["excluded_rows"] == 23
    assert version.rows == 6977 and version.details["inconsistent_labels"] == 23
    excluded = pd.read_csv(real_params.path(real_params.paths.reference).parent / "excluded_rows.csv")
    assert len(excluded) == 23 and excluded[REASON_COLUMN].str.startswith("label inconsistency").all()
    assert manifest.latest_for(real_params.path(real_params.paths.raw_file)).md5 == raw_md5  # type: ignore[union-attr]
