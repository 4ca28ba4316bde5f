"""What every flow shares: the params of the project, and telling the API about a new champion."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import httpx
from prefect import get_run_logger, task

from predmaint.config import Params, load_params
from predmaint.config.runtime import disable_telemetry, ensure_prefect_home


def project_params(params_path: str | None = None) -> Params:
    """Load params.yaml (``$PREDMAINT_PARAMS`` or ./params.yaml) with telemetry off."""
    disable_telemetry()
    ensure_prefect_home()
    return load_params(Path(params_path) if params_path else None)


SERVICE_URLS_ENV = "PREDMAINT_SERVICE_URLS"


def service_urls(service_url: str | None, environ: Mapping[str, str] | None = None) -> list[str]:
    """The APIs to notify: ``service_url`` or else ``$PREDMAINT_SERVICE_URLS``, comma-separated."""
    value = service_url or (os.environ if environ is None else environ).get(SERVICE_URLS_ENV, "")
    return [u.strip() for u in value.split(",") if u.strip()]


@task(name="notify-service", retries=2, retry_delay_seconds=2)
def notify_service(url: str, token: str) -> int:
    """Ask a running service to load the champion now instead of waiting for its poll."""
    resp = httpx.post(f"{url.rstrip('/')}/admin/reload", headers={"Authorization": f"Bearer {token}"}, timeout=60)
    resp.raise_for_status()
    return resp.status_code


def notify_after_promotion(params: Params, service_url: str | None) -> list[str]:
    """``POST /admin/reload`` on every API replica (needs the admin token in the environment).

    A replica that cannot be told is only a warning: it still picks the champion up at its next poll.

    Returns:
        The URLs that answered.
    """
    token = os.environ.get(params.serving.admin_token_env, "")
    told = []
    for url in service_urls(service_url) if token else []:
        try:
            notify_service(url, token)
            told.append(url)
        except Exception as exc:
            get_run_logger().warning("could not notify %s (%s); it reloads at its next poll", url, exc)
    return told
