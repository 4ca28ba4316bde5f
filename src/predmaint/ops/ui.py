"""``predmaint ui``: the MLflow, Prefect and Evidently UIs on free local ports, telemetry off.

Each UI runs as a child process on 127.0.0.1; the configured port (``orchestration.mlflow_port`` /
``prefect_port``) is used when free, else any free port. A UI counts as up only when its health
URL answers *and* the listening socket belongs to our child (:func:`owns_port`), so a server that
someone else runs on the same port is never taken for ours. The Prefect UI is pointed at its own
API (``PREFECT_UI_API_URL``), and reads the flow runs of ``make demo`` (``paths.run_dir/prefect``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from predmaint.config import Params
from predmaint.config.runtime import TELEMETRY_OPT_OUTS as TELEMETRY_OFF
from predmaint.monitoring.dashboard import workspace_path
from predmaint.service.process import ServerStartError, answers, bind_preferred, owns_port, stop, wait_ready


@dataclass(frozen=True)
class UI:
    """One running UI."""

    name: str
    url: str
    pid: int
    log: Path


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def free_port(host: str, preferred: int) -> int:
    """``preferred`` when free, else any free port (our child binds it right after; ownership is checked)."""
    with bind_preferred(host, preferred) as sock:
        return int(sock.getsockname()[1])


def prefect_env(params: Params, api_url: str | None = None) -> dict[str, str]:
    """Prefect's home (the demo's flow runs) and, for a server, its UI pointed at its own API."""
    env = {"PREFECT_HOME": str(params.path(params.paths.run_dir) / "prefect"), **TELEMETRY_OFF}
    if api_url:
        env["PREFECT_UI_API_URL"] = api_url
    return env


def commands(params: Params, ports: dict[str, int]) -> dict[str, tuple[list[str], dict[str, str], str]]:
    """Command, extra environment and health path of each UI for the given ports."""
    host = params.serving.host
    prefect_api = f"http://{host}:{ports['prefect']}/api"
    return {
        "mlflow": (
            [_bin("mlflow"), "ui", "--backend-store-uri", params.tracking_uri, "--host", host,
             "--port", str(ports["mlflow"]), "--workers", "1"],
            dict(TELEMETRY_OFF),
            "/health",
        ),
        "prefect": (
            [_bin("prefect"), "server", "start", "--host", host, "--port", str(ports["prefect"]), "--analytics-off"],
            prefect_env(params, prefect_api),
            "/api/health",
        ),
        "evidently": (
            [_bin("evidently"), "ui", "--workspace", str(workspace_path(params)), "--host", host,
             "--port", str(ports["evidently"])],
            dict(TELEMETRY_OFF),
            "/api/version",
        ),
    }  # fmt: skip


@contextmanager
def start(name: str, cmd: list[str], env: dict[str, str], url: str, health: str, log: Path, params: Params,
          timeout_s: float) -> Iterator[UI]:  # fmt: skip
    """Run one UI; yield once it answers on a port its own process listens on; stop it after."""
    port = int(url.rsplit(":", 1)[1])
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, cwd=params.root, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
    try:
        wait_ready(proc, lambda: owns_port(proc.pid, port) and answers(url + health), f"{name} UI", log, timeout_s)
        yield UI(name, url, proc.pid, log)
    finally:
        stop(proc, 15)


@contextmanager
def running_uis(params: Params, timeout_s: float = 180.0) -> Iterator[dict[str, UI]]:
    """Start the MLflow, Prefect and Evidently UIs; yield them by name; stop them on exit.

    Raises:
        ServerStartError: A UI exited or did not answer in time (its log is named).
    """
    host = params.serving.host
    o = params.orchestration
    ports = {"mlflow": free_port(host, o.mlflow_port), "prefect": free_port(host, o.prefect_port)}
    ports["evidently"] = free_port(host, 0)
    workspace_path(params).mkdir(parents=True, exist_ok=True)
    run_dir = params.path(params.paths.run_dir)
    uis: dict[str, UI] = {}
    with ExitStack() as stack:
        for name, (cmd, env, health) in commands(params, ports).items():
            url = f"http://{host}:{ports[name]}"
            uis[name] = stack.enter_context(
                start(name, cmd, env, url, health, run_dir / f"ui-{name}.log", params, timeout_s)
            )
        yield uis


__all__ = ["UI", "ServerStartError", "commands", "running_uis"]
