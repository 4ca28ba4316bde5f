"""The Evidently workspace dashboard is fed one run per window, and reports get their header."""

from __future__ import annotations

from pathlib import Path

from predmaint.config import Params
from predmaint.monitoring.dashboard import (
    WindowContext,
    label_reports,
    open_project,
    panels,
    record_window,
)
from predmaint.monitoring.summary import MonitoringSummary


def _summary(window_id: str, drift: float, error_rate: float | None, files: dict[str, str]) -> MonitoringSummary:
    return MonitoringSummary(
        window_id=window_id,
        created_at="2026-11-30T12:00:00+00:00",
        rows=1500,
        labelled_rows=1400,
        reference_rows=7000,
        drift_rows=1500,
        drift_share=drift,
        drifted_columns=1,
        dataset_drift=False,
        drift_share_threshold=0.3,
        columns={"Torque [Nm]": {"score": 0.2, "drifted": True}, "Type": {"score": 0.01, "drifted": False}},
        production={"error_rate": error_rate, "expected_cost_per_1000": 5200.0},
        training={"error_rate": 0.03, "expected_cost_per_1000": 4800.0},
        ratio={},
        threshold=0.3,
        window_start="2026-11-30T10:00:00",
        window_end="2026-11-30T11:00:00",
        alarm_rate=0.04,
        files=files,
    )


def test_every_window_becomes_a_run_of_the_dashboard_project(sim_params: Params) -> None:
    context = WindowContext("1", "training window of v1 (data/processed/reference.csv)")
    record_window(sim_params, _summary("day_01", 0.1, 0.02, {}), context)
    record_window(sim_params, _summary("day_02", 0.5, None, {}), context)  # no labels yet: error rate unknown
    ws, project = open_project(sim_params)
    assert len(ws.list_runs(project.id)) == 2
    titles = [p.title for p in ws.get_dashboard(project.id).panels]
    assert titles == [p.title for p in panels()] and len(titles) == len(set(titles))
    assert len(ws.search_project(project.name)) == 1, "reopening must not create a second project"


def test_reports_get_a_header_naming_window_model_and_reference(tmp_path: Path) -> None:
    html = tmp_path / "drift.html"
    html.write_text("<html><body><div id='report'></div></body></html>", encoding="utf-8")
    summary = _summary("day_07_heat_wave", 0.6, 0.05, {"drift_html": str(html), "drift_json": "x.json"})
    context = WindowContext("2", "training window of v1 (data/processed/reference.csv)")
    assert label_reports(summary, context) == [html]
    assert label_reports(summary, context) == [html]  # idempotent: one header, not two
    page = html.read_text(encoding="utf-8")
    assert page.count('id="predmaint-window-header"') == 1
    assert "Window day_07_heat_wave" in page and "model <b>v2</b>" in page and "training window of v1" in page
