"""Process-level switches applied by every entry point (CLI, flows, service), never on import."""

from __future__ import annotations

import os
from pathlib import Path

TELEMETRY_OPT_OUTS: dict[str, str] = {
    "DO_NOT_TRACK": "true",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DVC_NO_ANALYTICS": "1",
    "GX_ANALYTICS_ENABLED": "False",
}
# MLflow 3.17's server starts a job runner and seven consumer processes the project never uses (~1.3 GiB).
UNUSED_SERVICES_OFF: dict[str, str] = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}


def disable_telemetry() -> None:
    """Turn telemetry off in GX, Prefect, DVC, MLflow and Evidently, and unused MLflow jobs, unless the user set it."""
    for name, value in {**TELEMETRY_OPT_OUTS, **UNUSED_SERVICES_OFF}.items():
        os.environ.setdefault(name, value)


def ensure_prefect_home() -> None:
    """Create ``$PREFECT_HOME`` with its parents (Prefect creates only the last folder)."""
    home = os.environ.get("PREFECT_HOME")
    if home:
        Path(home).expanduser().mkdir(parents=True, exist_ok=True)
