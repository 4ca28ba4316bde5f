"""What MLflow shows about a model's data: datasets with digest and source, run names, version descriptions.

Every set a model is fitted, validated, backtested or gated on is logged with ``mlflow.log_input``
(an MLflow dataset: name, digest = md5 of the rows as canonical CSV, source = the data file, and
tags with the manifest version and the file's DVC md5), so the run's Dataset column and the
Datasets panel name the data. Run names say what happened (``train v2 · retrain on day_07_heat_wave``)
and a version's description carries its data, and later the promotion gate's verdict.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from predmaint import schema

CONTEXT_TAG = "mlflow.data.context"
GATE_PENDING = "Gate: not run yet."


def frame_digest(frame: pd.DataFrame) -> str:
    """md5 of the rows as canonical CSV (LF, no index): the same rows give the same digest anywhere."""
    return hashlib.md5(frame.to_csv(index=False, lineterminator="\n").encode(), usedforsecurity=False).hexdigest()


def _udi_span(frame: pd.DataFrame) -> str:
    if schema.UDI not in frame or frame.empty:
        return "n/a"
    return f"{int(frame[schema.UDI].min())}-{int(frame[schema.UDI].max())}"


def log_dataset(frame: pd.DataFrame, *, name: str, source: str, context: str, tags: dict[str, str]) -> None:
    """Log ``frame`` as an input of the active run (``training``, ``validation``, ``backtest`` or ``gate``)."""
    import mlflow
    from mlflow.data.pandas_dataset import from_pandas

    with warnings.catch_warnings():  # MLflow resolves a local source to its local-artifact type, with a warning
        warnings.filterwarnings("ignore", message="The specified dataset source can be interpreted")
        dataset = from_pandas(
            frame,
            source=source,
            targets=schema.TARGET if schema.TARGET in frame else None,
            name=name,
            digest=frame_digest(frame),
        )
    mlflow.log_input(dataset, context=context, tags={**tags, "rows": str(len(frame)), "udi_range": _udi_span(frame)})


def log_training_sets(
    fit_rows: pd.DataFrame,
    holdout: pd.DataFrame,
    stream: pd.DataFrame | None,
    tags: dict[str, str],
    production_dir: Path,
) -> None:
    """The fit rows (training), the validation slice and the labelled production stream (backtest)."""
    data_tags: dict[str, str] = {k: tags[k] for k in ("data_version", "data_md5", "data_source") if k in tags}
    version, path = tags.get("data_version", "data"), tags.get("data_path", "")
    log_dataset(fit_rows, name=f"{version} fit", source=path, context="training", tags=data_tags)
    log_dataset(holdout, name=f"{version} validation", source=path, context="validation", tags=data_tags)
    if stream is not None:
        production = production_dir.as_posix()
        log_dataset(stream, name="production days (labelled)", source=production, context="backtest", tags=data_tags)


def run_purpose(facts: dict[str, Any]) -> str:
    """What a training run does, from its data's lineage: the reference set, or a retraining and why."""
    production = facts.get("production")
    if production:
        trigger = production.get("trigger_window") or production.get("reason") or "labelled production rows"
        return f"retrain on {trigger}"
    return f"reference set {facts.get('data_version', 'unrecorded')}"


def training_description(facts: dict[str, Any], rows: int, tags: dict[str, str]) -> str:
    """A model version's description when it is registered (the gate's verdict is added later)."""
    production = facts.get("production") or {}
    lines = [
        f"{run_purpose(facts).capitalize()}: {facts.get('data_version')} ({rows} rows, md5 {tags.get('data_md5')}).",
        f"Data source: {facts.get('data_source')}.",
        f"Code: git {tags.get('git_commit', '')[:12]}{' (dirty)' if tags.get('git_dirty') == 'true' else ''}; "
        f"params sha256 {tags.get('params_hash', '')[:12]}.",
    ]
    if production:
        lines.append(
            f"Labelled production rows: {production.get('version_id')}, {production.get('feedback_rows')} with "
            f"feedback, prediction-log snapshot sha256 {str(production.get('prediction_log_sha256'))[:12]}."
        )
    return "\n".join([*lines, GATE_PENDING])


def log_gate_rows(name: str, decision: Any, rows: pd.DataFrame, challenger_run_id: str) -> None:
    """Log the rows the promotion gate judged both models on as the challenger run's ``gate`` dataset."""
    import mlflow

    source = f"{decision.rows_source or 'gate rows'} (judged for {name} v{decision.challenger})"
    with mlflow.start_run(run_id=challenger_run_id):
        log_dataset(rows, name="promotion gate rows", source=source, context="gate", tags={})


def with_verdict(current: str, verdict: str) -> str:
    """A version's description: its training lines, then the newest gate verdict (lines starting ``Gate``)."""
    base = "\n".join(line for line in current.splitlines() if not line.startswith("Gate"))
    return f"{base}\n{verdict}".strip()[:4900]
