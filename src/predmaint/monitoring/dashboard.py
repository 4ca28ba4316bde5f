"""The monitoring dashboard across days: an Evidently workspace project fed by every window.

Each monitoring window adds one run to the project ``<project name> monitoring`` in the workspace
``<paths.monitoring_dir>/workspace``: a small Evidently report whose metrics are the numbers the
trigger used for that window (drift share, each feature's drift score, error rate and expected cost
beside the training baseline, alarm rate, the model version served). The project's dashboard plots
them over time in Evidently's own UI (``predmaint ui`` starts it). Each window's HTML reports also
get a header naming the window, the model version and the reference they were measured against.

Evidently is imported inside the functions: importing this module stays cheap.
"""

from __future__ import annotations

import html
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from predmaint import schema
from predmaint.config import Params, ProjectParams

if TYPE_CHECKING:
    from evidently.core.report import Snapshot
    from evidently.ui.workspace import Project, Workspace

    from predmaint.monitoring.summary import MonitoringSummary

WORKSPACE_DIR = "workspace"
COST = "expected_cost_per_1000"


@dataclass(frozen=True)
class WindowContext:
    """What a window's reports were measured with."""

    model_version: str
    reference: str


def workspace_path(params: Params) -> Path:
    """The Evidently workspace folder (under ``paths.monitoring_dir``)."""
    return params.path(params.paths.monitoring_dir) / WORKSPACE_DIR


def project_name(project: ProjectParams) -> str:
    """The dashboard project's name."""
    return f"{project.name} monitoring"


def _feature_key(column: str) -> str:
    return "drift_" + re.sub(r"[^a-z0-9]+", "_", column.lower()).strip("_")


def kpis(summary: MonitoringSummary, model_version: str) -> dict[str, float]:
    """The window's numbers as plain floats (NaN where a number is unknown, e.g. no labels yet)."""

    def num(value: Any) -> float:
        return float("nan") if value is None else float(value)

    out = {
        "drift_share": num(summary.drift_share),
        "drift_share_threshold": num(summary.drift_share_threshold),
        "error_rate": num(summary.production.get("error_rate")),
        "training_error_rate": num(summary.training.get("error_rate")),
        "expected_cost": num(summary.production.get(COST)),
        "training_expected_cost": num(summary.training.get(COST)),
        "alarm_rate": num(summary.alarm_rate),
        "model_version": num(model_version) if model_version.isdigit() else float("nan"),
        "rows": float(summary.rows),
    }
    for column in schema.FEATURE_COLUMNS:
        out[_feature_key(column)] = num(summary.columns.get(column, {}).get("score"))
    return out


def kpi_report(values: dict[str, float], name: str, timestamp: datetime | None = None) -> Snapshot:
    """An Evidently report whose ``MeanValue`` metrics are ``values`` (one-row dataset; NaN left out)."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import MeanValue

    known = {k: v for k, v in values.items() if not math.isnan(v)}
    with warnings.catch_warnings():  # a one-row dataset: Evidently's column statistics divide by zero
        warnings.simplefilter("ignore", RuntimeWarning)
        data = Dataset.from_pandas(pd.DataFrame([known]), data_definition=DataDefinition(numerical_columns=list(known)))
        report = Report([MeanValue(column=c) for c in known])
        return report.run(data, None, timestamp=timestamp, name=name)


def _line(title: str, series: Sequence[tuple[str, str]], subtitle: str, size: str = "half") -> Any:
    from evidently.sdk.models import PanelMetric
    from evidently.sdk.panels import line_plot_panel

    values = [PanelMetric(legend=legend, metric="MeanValue", metric_labels={"column": c}) for c, legend in series]
    return line_plot_panel(title, values, description=subtitle, size=size)


def panels() -> list[Any]:
    """The dashboard's panels, in display order."""
    from evidently.sdk.models import PanelMetric
    from evidently.sdk.panels import counter_panel

    features = [(_feature_key(c), c) for c in schema.FEATURE_COLUMNS]
    version = PanelMetric(legend="version", metric="MeanValue", metric_labels={"column": "model_version"})
    return [
        counter_panel("Model version served", [version], description="in the newest window", size="half"),
        _line(
            "Drift share",
            [("drift_share", "drift share"), ("drift_share_threshold", "trigger threshold")],
            "share of features drifted vs the training reference",
        ),
        _line("Per-feature drift", features, "drift score per feature (threshold per column in params.yaml)", "full"),
        _line(
            "Error rate",
            [("error_rate", "production"), ("training_error_rate", "training")],
            "labelled rows of the window vs the served model's training baseline",
        ),
        _line(
            "Expected cost per 1,000 readings",
            [("expected_cost", "production"), ("training_expected_cost", "training")],
            "costs from params.yaml vs the training baseline",
        ),
        _line("Alarm rate", [("alarm_rate", "share of readings alarmed")], "decisions at the served threshold"),
        _line("Model version over time", [("model_version", "version")], "the version served in each window"),
    ]


def open_project(params: Params) -> tuple[Workspace, Project]:
    """The workspace and its dashboard project, created (with its panels) on first use."""
    from evidently.ui.workspace import Workspace

    path = workspace_path(params)
    path.mkdir(parents=True, exist_ok=True)
    ws = Workspace.create(str(path))
    name = project_name(params.project)
    found = ws.search_project(name)
    if found:
        return ws, found[0]
    project = ws.create_project(name, description="Every monitoring window of the served model, over time.")
    for panel in panels():
        project.dashboard.add_panel(panel)  # one tab; add_panel(tab=...) lists a panel twice (Evidently 0.7.23)
    return ws, project


def record_window(params: Params, summary: MonitoringSummary, context: WindowContext) -> str:
    """Add a window to the dashboard project; return the run's id."""
    ws, project = open_project(params)
    name = f"{summary.window_id} · model v{context.model_version}"
    run = ws.add_run(project.id, kpi_report(kpis(summary, context.model_version), name))
    return str(run.id)


def header(summary: MonitoringSummary, context: WindowContext) -> str:
    """An HTML banner: which window, which model version, which reference."""
    span = f"{summary.window_start} → {summary.window_end}" if summary.window_start else "time span unknown"
    text = (
        f"<b>Window {html.escape(summary.window_id)}</b> ({summary.rows:,} readings, {html.escape(span)})"
        f" · model <b>v{html.escape(context.model_version)}</b>"
        f" · reference: {html.escape(context.reference)} ({summary.reference_rows:,} rows)"
    )
    style = "font:14px sans-serif;padding:10px 16px;background:#eef3fb;border-bottom:1px solid #c9d6ea"
    return f'<div id="predmaint-window-header" style="{style}">{text}</div>'


def label_reports(summary: MonitoringSummary, context: WindowContext) -> list[Path]:
    """Put :func:`header` at the top of the window's HTML reports; return the files changed."""
    banner = header(summary, context)
    changed = []
    for key, value in summary.files.items():
        if not key.endswith("_html"):
            continue
        path = Path(value)
        page = path.read_text(encoding="utf-8")
        page = re.sub(r'<div id="predmaint-window-header".*?</div>', "", page, count=1, flags=re.S)
        page = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + banner, page, count=1)
        path.write_text(page, encoding="utf-8")
        changed.append(path)
    return changed
