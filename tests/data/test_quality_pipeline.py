"""The gate in the pipeline: split refuses un-gated raw data, the CLI exits non-zero with a
summary, production days are gated, and Data Docs render the stored results."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from predmaint.cli import app
from predmaint.config import Params
from predmaint.data.ingest import ingest
from predmaint.data.lineage import file_md5
from predmaint.quality.docs import build_docs
from predmaint.quality.gate import GateError, validate_file, validate_production_day
from predmaint.quality.results import RESULT_FILE
from predmaint.data.split import production_days
from predmaint.ops.stages import split
from tests.conftest import make_project


@pytest.fixture
def sim(tmp_path: Path) -> Params:
    params = make_project(tmp_path / "proj", data={"source_order": ["simulator"]})
    ingest(params)
    return params


def test_split_refuses_raw_data_that_has_not_passed_the_gate(sim: Params) -> None:
    raw = sim.path(sim.paths.raw_file)
    with pytest.raises(GateError, match=re.escape(f"md5 {file_md5(raw)}") + ".*no passing 'raw'"):
        split(sim)
    assert not sim.path(sim.paths.reference_raw).exists()
    validate_file(sim, raw, "raw")
    assert split(sim).reference.rows == sim.split.train_rows


def test_split_refuses_a_file_whose_content_changed_after_the_gate(sim: Params) -> None:
    raw = sim.path(sim.paths.raw_file)
    validate_file(sim, raw, "raw")
    raw.chmod(0o644)
    raw.write_bytes(raw.read_bytes().replace(b"\n1,", b"\n1 ,", 1))
    with pytest.raises(GateError, match="no passing 'raw'"):
        split(sim)


def test_production_days_are_gated_with_the_production_suite(sim: Params) -> None:
    validate_file(sim, sim.path(sim.paths.raw_file), "raw")
    split(sim)
    result = validate_production_day(sim, production_days(sim)[0])
    assert result.success and result.result_path is not None
    assert result.result_path.parent.name == "production" and result.summary["suite"] == "production"


def test_cli_validate_exit_codes_and_docs(sim: Params, tmp_path: Path) -> None:
    runner = CliRunner()
    params_file = str(sim.root / "params.yaml")
    raw = sim.path(sim.paths.raw_file)
    ok = runner.invoke(app, ["--params", params_file, "validate", str(raw), "--suite", "raw"])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("PASSED") and "result:" in ok.output

    bad = tmp_path / "celsius.csv"
    bad.write_text(raw.read_text().replace(",29", ",2"))
    rejected = runner.invoke(app, ["--params", params_file, "validate", str(bad), "--suite", "raw"])
    assert rejected.exit_code == 1
    assert "FAILED" in rejected.output and "expect_column_values_to_be_between" in rejected.output
    assert "e.g. row" in rejected.output and "quarantined to" in rejected.output
    assert not bad.exists()

    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert runner.invoke(app, ["--params", params_file, "validate", str(empty)]).exit_code == 1
    unknown = runner.invoke(app, ["--params", params_file, "validate", str(raw), "--suite", "golden"])
    assert unknown.exit_code == 2 and "unknown suite 'golden'" in unknown.output

    docs = runner.invoke(app, ["--params", params_file, "docs"])
    assert docs.exit_code == 0, docs.output
    site = sim.path(sim.paths.data_docs_dir)
    assert "2 validation result(s) rendered" in docs.output and site.joinpath("index.html").is_file()
    assert {p.stem for p in (site / "expectations").glob("*.html")} == {"raw", "production"}
    assert len(list((site / "validations").rglob("*.html"))) == 2
    index = site.joinpath("index.html").read_text(encoding="utf-8")
    assert "gate-passed_" in index and "gate-rejected_" in index
    quarantined = sorted(sim.path(sim.paths.quarantine_dir).glob(f"*/{RESULT_FILE}"))
    assert (
        len(quarantined) == 2
        and f"not rendered (rejected before GX ran; see its REASON.txt): {quarantined[-1]}" in docs.output
    )


def test_build_docs_with_nothing_stored_still_renders_the_suites(tmp_path: Path) -> None:
    params = make_project(tmp_path / "proj")
    build = build_docs(params)
    assert build.index.is_file() and build.rendered == []


def test_data_docs_work_offline_name_the_asset_and_show_the_gate_verdict(real_params: Params) -> None:
    ingest(real_params)
    passed = validate_file(real_params, real_params.path(real_params.paths.raw_file), "raw")
    assert passed.success and passed.summary["warnings"], "the real data passes with a non-blocking warning"
    site = build_docs(real_params).index.parent
    pages = list(site.rglob("*.html"))
    for page in pages:
        html = page.read_text(encoding="utf-8")
        external = re.findall(r'<(?:script|link)\b[^>]*?(?:src|href)="(https?://[^"]+)"', html)
        assert not external, f"{page.relative_to(site)} loads {external}"
        for asset in re.findall(r'<(?:script|link)\b[^>]*?(?:src|href)="([^"]+)"', html):
            assert (page.parent / asset).resolve().is_file(), f"{page.relative_to(site)}: missing {asset}"
    [validation] = (site / "validations").rglob("*.html")
    html = validation.read_text(encoding="utf-8")
    assert "Passed by the gate (1 non-blocking warning)" in html and "Failed" not in html.split("Status:")[1][:200]
    assert "Data asset: ai4i2020.csv" in html and "__none__" not in html
