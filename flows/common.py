"""What every flow shares: the params of the project and task-retry settings from params.yaml."""

from __future__ import annotations

from pathlib import Path

from predmaint.config import Params, load_params
from predmaint.config.runtime import disable_telemetry, ensure_prefect_home


def project_params(params_path: str | None = None) -> Params:
    """Load params.yaml (``$PREDMAINT_PARAMS`` or ./params.yaml) with telemetry off."""
    disable_telemetry()
    ensure_prefect_home()
    return load_params(Path(params_path) if params_path else None)
