"""The retraining window: the reference data plus the labelled production data served so far.

Labelled production rows come from the prediction log (what the service scored, joined with the
ground truth that arrived through ``POST /feedback``). The API, like a plant's systems, does not
send the dataset's ids, so the rows get ``UDI``s that continue the reference numbering in arrival
order, and ``Product ID`` = type letter + UDI (the AI4I pattern). Failure-mode flags come from the
feedback's ``failure_mode``.

Only labels whose provenance is recorded (``label_source``: the feedback token's name or the client
address) are used; the window's manifest row counts the labelled rows per source and the labels
left out for having none (labels recorded before provenance existed).

For an unbiased promotion gate the newest ``promotion.recent_window_rows`` labelled rows (at most
half of them) are held out of the challenger's training window — so it neither fits nor tunes its
threshold or calibration on them — and written as their own data version (``gate_<stamp>.csv``,
stage ``gate_window`` in the manifest), which the gate judges both models on and records.

Each retraining makes data versions in ``paths.retrain_dir``, a folder no DVC stage owns (so no
``dvc repro`` removes them): the labelled production rows (parent: the prediction-log snapshot,
by hash, with the feedback count and the window that fired the trigger), the training window
(parents: the reference version and those rows), the gate rows and, from the flow, the window's GX
result. :func:`predmaint.data.dvc.dvc_version` stores them in DVC's cache and pushes them to the remote.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from predmaint import schema
from predmaint.config import MonitoringParams, Params
from predmaint.data import tables
from predmaint.data.lineage import DataVersion, Manifest


@dataclass(frozen=True)
class RetrainWindow:
    """The new training data version, the labelled rows it used and the held-out recent window."""

    path: Path
    version: DataVersion
    rows: int
    production_rows: int
    gate_window: pd.DataFrame | None
    labelled_path: Path
    labelled: DataVersion
    gate_version: DataVersion | None = None

    @property
    def gate_source(self) -> str | None:
        """The gate rows' data version and file, for the decision record."""
        v = self.gate_version
        return None if v is None else f"data version {v.version_id} ({v.path})"


def trusted_labels(log_frame: pd.DataFrame) -> pd.DataFrame:
    """The labelled rows of the log whose label has a recorded source (provenance)."""
    labelled = log_frame[log_frame["target"].notna()]
    if "label_source" not in labelled.columns:
        return labelled.iloc[0:0]
    return labelled[labelled["label_source"].notna()]


def label_sources(log_frame: pd.DataFrame) -> dict[str, int]:
    """Labelled rows per label source; ``"(none: not used)"`` counts labels without provenance."""
    labelled = log_frame[log_frame["target"].notna()]
    sources = labelled["label_source"] if "label_source" in labelled.columns else pd.Series(index=labelled.index)
    counts = {str(k): int(v) for k, v in sources.value_counts().items()}
    if missing := int(sources.isna().sum()):
        counts["(none: not used)"] = missing
    return counts


def labelled_production(log_frame: pd.DataFrame, first_udi: int) -> pd.DataFrame:
    """Turn labelled prediction-log rows with provenance into AI4I rows (ids assigned in arrival order)."""
    labelled = trusted_labels(log_frame).sort_values("timestamp", kind="stable")
    out = labelled.loc[:, list(schema.FEATURE_COLUMNS)].reset_index(drop=True)
    out.insert(0, schema.UDI, range(first_udi, first_udi + len(out)))
    out.insert(1, schema.PRODUCT_ID, [f"{t}{u:05d}" for t, u in zip(out[schema.TYPE], out[schema.UDI], strict=True)])
    out[schema.TARGET] = labelled["target"].astype(int).to_numpy()
    modes = labelled["failure_mode"].fillna("").to_numpy()
    for mode in schema.FAILURE_MODES:
        out[mode] = (modes == mode).astype(int)
    for col in (schema.SPEED, schema.TOOL_WEAR):
        out[col] = out[col].round().astype(int)
    return out


def snapshot_hash(log_frame: pd.DataFrame) -> str:
    """sha256 of the prediction-log rows (with their feedback) a window was built from, in id order."""
    ordered = log_frame.sort_values("request_id", kind="stable") if "request_id" in log_frame else log_frame
    text = ordered.to_csv(index=False, lineterminator="\n", float_format="%.17g")
    return hashlib.sha256(text.encode()).hexdigest()


def build_window(policy: MonitoringParams, reference: pd.DataFrame, production: pd.DataFrame) -> pd.DataFrame:
    """Concatenate reference and production rows per ``monitoring.retrain_policy``."""
    window = pd.concat([reference, production], ignore_index=True)
    if policy.retrain_policy == "sliding":
        window = window.iloc[-policy.sliding_window_rows :].reset_index(drop=True)
    return window


def _log_facts(log_path: Path, log_frame: pd.DataFrame, trigger_window: str | None, reason: str) -> dict[str, object]:
    stamps = pd.to_datetime(log_frame["timestamp"], utc=True)
    return {
        "prediction_log": log_path.as_posix(),
        "prediction_log_sha256": snapshot_hash(log_frame),
        "predictions": len(log_frame),
        "feedback_rows": int(log_frame["target"].notna().sum()),
        "trigger_window": trigger_window,
        "reason": reason,
        "served_by_versions": sorted({str(v) for v in log_frame.get("model_version", pd.Series(dtype=str))}),
        "first_prediction": stamps.min().isoformat() if len(stamps) else None,
        "last_prediction": stamps.max().isoformat() if len(stamps) else None,
    }


def prepare(
    params: Params, log_frame: pd.DataFrame, reason: str, trigger_window: str | None = None
) -> RetrainWindow:
    """Write the labelled production rows and the new training window as data versions (manifest rows).

    Args:
        params: The project parameters.
        log_frame: The prediction log with feedback (``predlog.read_window``).
        reason: Why retraining runs, recorded with the data versions.
        trigger_window: The monitored window (day / drift scenario) whose decision fired the trigger.

    Raises:
        ValueError: There are no labelled production rows yet.
    """
    ref_path = params.path(params.paths.reference)
    reference = tables.read_table(ref_path)
    reference = reference.drop(columns=[c for c in reference.columns if c not in schema.ALL_COLUMNS])
    production = labelled_production(log_frame, int(reference[schema.UDI].max()) + 1)
    if production.empty:
        raise ValueError("no labelled production rows with a recorded label source in the prediction log yet")
    hold = min(params.promotion.recent_window_rows, len(production) // 2)
    gate_window = production.iloc[-hold:].reset_index(drop=True) if hold else None
    train_part = production.iloc[: len(production) - hold]
    window = build_window(params.monitoring, reference, train_part)

    folder = params.path(params.paths.retrain_dir)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    manifest = Manifest(params.path(params.paths.manifest), params.root)
    labelled_path = tables.write_table(production, folder / f"window_{stamp}_labelled.csv")
    facts = _log_facts(params.paths.prediction_log, log_frame, trigger_window, reason)
    labelled = manifest.record(
        labelled_path,
        stage="labelled_production",
        rows=len(production),
        details={**facts, "held_out_for_gate": hold},
    )
    path = tables.write_table(window, folder / f"window_{stamp}.csv")
    parent = manifest.latest_for(ref_path)
    version = manifest.record(
        path,
        stage="retrain_window",
        rows=len(window),
        parents=(*((parent.version_id,) if parent else ()), labelled.version_id),
        details={
            "policy": params.monitoring.retrain_policy,
            "reference_rows": len(reference),
            "production_rows": len(train_part),
            "held_out_for_gate": hold,
            "label_sources": label_sources(log_frame),
            "reason": reason,
            "trigger_window": trigger_window,
        },
    )
    gate_version = None
    if gate_window is not None:
        gate_path = tables.write_table(gate_window, path.with_name(f"gate_{stamp}.csv"))
        gate_version = manifest.record(
            gate_path,
            stage="gate_window",
            rows=len(gate_window),
            parents=(labelled.version_id,),
            details={"held_out_of": version.version_id, "reason": reason},
        )
    return RetrainWindow(
        path, version, len(window), len(train_part), gate_window, labelled_path, labelled, gate_version
    )
