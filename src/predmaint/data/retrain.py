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
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from predmaint import schema

from predmaint.data import tables
from predmaint.config import Params
from predmaint.data.lineage import DataVersion, Manifest
from predmaint.data.dvc import dvc_add


@dataclass(frozen=True)
class RetrainWindow:
    """The new training data version and the held-out recent window for the gate."""

    path: Path
    version: DataVersion
    rows: int
    production_rows: int
    gate_window: pd.DataFrame | None
    dvc_tracked: bool
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


def build_window(params: Params, reference: pd.DataFrame, production: pd.DataFrame) -> pd.DataFrame:
    """Concatenate reference and production rows per ``monitoring.retrain_policy``."""
    window = pd.concat([reference, production], ignore_index=True)
    if params.monitoring.retrain_policy == "sliding":
        window = window.iloc[-params.monitoring.sliding_window_rows :].reset_index(drop=True)
    return window


def prepare(params: Params, log_frame: pd.DataFrame, reason: str) -> RetrainWindow:
    """Write the new training window as a data version (manifest row, ``dvc add``).

    Args:
        params: The project parameters.
        log_frame: The prediction log with feedback (``predlog.read_window``).
        reason: Why retraining runs, recorded with the data version.

    Raises:
        ValueError: There are no labelled production rows yet.
    """
    ref_path = params.path(params.paths.reference)
    reference = tables.read_table(ref_path)
    extra = [c for c in reference.columns if c not in schema.ALL_COLUMNS]
    reference = reference.drop(columns=extra)
    production = labelled_production(log_frame, int(reference[schema.UDI].max()) + 1)
    if production.empty:
        raise ValueError("no labelled production rows with a recorded label source in the prediction log yet")
    hold = min(params.promotion.recent_window_rows, len(production) // 2)
    gate_window = production.iloc[-hold:].reset_index(drop=True) if hold else None
    train_part = production.iloc[: len(production) - hold]
    window = build_window(params, reference, train_part)

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = tables.write_table(window, params.path(params.paths.retrain_dir) / f"window_{stamp}.csv")
    manifest = Manifest(params.path(params.paths.manifest), params.root)
    parent = manifest.latest_for(ref_path)
    version = manifest.record(
        path,
        stage="retrain_window",
        rows=len(window),
        parents=(parent.version_id,) if parent else (),
        details={
            "policy": params.monitoring.retrain_policy,
            "reference_rows": len(reference),
            "production_rows": len(train_part),
            "held_out_for_gate": hold,
            "label_sources": label_sources(log_frame),
            "reason": reason,
        },
    )
    gate_version = None
    if gate_window is not None:
        gate_path = tables.write_table(gate_window, path.with_name(f"gate_{stamp}.csv"))
        gate_version = manifest.record(
            gate_path,
            stage="gate_window",
            rows=len(gate_window),
            parents=(),
            details={"held_out_of": version.version_id, "reason": reason},
        )
        dvc_add(params.root, gate_path)
    tracked = dvc_add(params.root, path)
    return RetrainWindow(path, version, len(window), len(train_part), gate_window, tracked, gate_version)
