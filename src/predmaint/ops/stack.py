"""The local multi-service stack without Docker: Prefect server, MLflow server, API, flow runner.

``make up`` starts each service as its own process group on 127.0.0.1 with its PID and log under
``paths.run_dir``; ``make down`` stops the groups (TERM, then KILL) so nothing is left behind;
``make status`` shows what runs and where. Ports come from params.yaml (and ``PREDMAINT_*``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from predmaint.config import Params
from predmaint.service.process import bind, owns_port


@dataclass(frozen=True)
class Service:
    """One process of the stack."""

    name: str
    cmd: list[str]
    url: str
    health: str
    env: dict[str, str] = field(default_factory=dict)
    port: int | None = None
    """The port the service itself listens on (checked to belong to its process); None for the runner."""


class StackError(RuntimeError):
    """A service did not become healthy; the message points at its log."""


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def urls(params: Params) -> dict[str, str]:
    """Base URLs of the Prefect API, the MLflow server and the predmaint API."""
    host = params.serving.host
    return {
        "prefect": f"http://{host}:{params.orchestration.prefect_port}",
        "mlflow": f"http://{host}:{params.orchestration.mlflow_port}",
        "api": f"http://{host}:{params.serving.port}",
    }


def client_env(params: Params) -> dict[str, str]:
    """Environment that points clients (flows, CLI, API) at the stack's servers."""
    u = urls(params)
    return {
        "PREDMAINT_PARAMS": str(params.root / "params.yaml"),
        "PREFECT_API_URL": f"{u['prefect']}/api",
        "PREDMAINT_TRACKING_URI": u["mlflow"],
        "MLFLOW_TRACKING_URI": u["mlflow"],
    }


def services(params: Params) -> list[Service]:
    """The stack's services in start order."""
    u, host = urls(params), params.serving.host
    run_dir = params.path(params.paths.run_dir)
    prefect_env = {"PREFECT_HOME": str(run_dir / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    return [
        Service(
            "prefect",
            [
                _bin("prefect"),
                "server",
                "start",
                "--host",
                host,
                "--port",
                str(params.orchestration.prefect_port),
            ],
            u["prefect"],
            f"{u['prefect']}/api/health",
            prefect_env,
            params.orchestration.prefect_port,
        ),
        Service(
            "mlflow",
            [
                _bin("mlflow"),
                "server",
                "--host",
                host,
                "--port",
                str(params.orchestration.mlflow_port),
                "--backend-store-uri",
                params.tracking_uri,
                "--artifacts-destination",
                str(params.path(params.mlflow.artifact_root)),
                "--workers",
                "1",
            ],
            u["mlflow"],
            f"{u['mlflow']}/health",
            {"MLFLOW_DISABLE_TELEMETRY": "true"},
            params.orchestration.mlflow_port,
        ),
        Service(
            "api", [_bin("predmaint"), "serve"], u["api"], f"{u['api']}/health", client_env(params), params.serving.port
        ),
        Service(
            "runner",
            [sys.executable, str(params.root / "flows" / "deployments.py")],
            f"{u['prefect']}/deployments",
            f"{u['prefect']}/api/deployments/name/training-pipeline/manual",
            {**prefect_env, **client_env(params)},
        ),
    ]


def _pid_file(params: Params, name: str) -> Path:
    return params.path(params.paths.run_dir) / f"{name}.pid"


def running_pid(params: Params, name: str) -> int | None:
    """The PID of a running service, or None (a stale PID file is removed)."""
    pid_file = _pid_file(params, name)
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text().strip())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pid_file.unlink()
        return None
    return pid


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def answering(service: Service, pid: int) -> bool:
    """The service answers its health URL from a port that ``pid`` (or a child) listens on.

    A 200 from a port held by another process (someone else's server) does not count.
    """
    if service.port is not None and not owns_port(pid, service.port):
        return False
    return not service.health or _healthy(service.health)


def _port_taken(service: Service, host: str) -> str | None:
    if service.port is None:
        return None
    try:
        bind(host, service.port).close()
    except OSError:
        return (
            f"{service.name}: port {service.port} on {host} is taken by another process; choose another in params.yaml"
        )
    return None


def _wait(service: Service, log: Path, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StackError(f"{service.name} exited with {proc.returncode}; see {log}")
        if answering(service, proc.pid):
            return
        time.sleep(0.5)
    raise StackError(f"{service.name} not healthy after {timeout_s:.0f} s at {service.health}; see {log}")


def up(params: Params, timeout_s: float = 180.0) -> list[str]:
    """Start every service that is not running; return one line per service.

    Raises:
        StackError: A service exited or did not become healthy (the others stay up; run down).
    """
    run_dir = params.path(params.paths.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    lines = []
    for svc in services(params):
        pid = running_pid(params, svc.name)
        if pid is not None:
            lines.append(f"{svc.name:8} already up (pid {pid})  {svc.url}")
            continue
        taken = _port_taken(svc, params.serving.host)
        if taken:
            raise StackError(taken)
        log = run_dir / f"{svc.name}.log"
        env = {**os.environ, **svc.env}
        with log.open("ab") as out:
            proc = subprocess.Popen(
                svc.cmd,
                cwd=params.root,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _pid_file(params, svc.name).write_text(str(proc.pid))
        _wait(svc, log, proc, timeout_s)
        lines.append(f"{svc.name:8} up (pid {proc.pid})  {svc.url}  log {log}")
    return lines


def down(params: Params, grace_s: float = 15.0) -> list[str]:
    """Stop every service's process group: TERM, then KILL after ``grace_s``."""
    lines = []
    for svc in reversed(services(params)):
        pid = running_pid(params, svc.name)
        if pid is None:
            continue
        for sig in (signal.SIGTERM, signal.SIGINT):
            _signal_group(pid, sig)
            if _gone(pid, grace_s / 2):
                break
        else:
            _signal_group(pid, signal.SIGKILL)
            _gone(pid, 5)
        _pid_file(params, svc.name).unlink(missing_ok=True)
        lines.append(f"{svc.name:8} stopped (pid {pid})")
    return lines or ["nothing was running"]


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def _gone(pid: int, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return True
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.2)
    return False


def status(params: Params) -> list[str]:
    """One line per service: up only when its process runs *and* answers on its own port."""
    lines = []
    for svc in services(params):
        pid = running_pid(params, svc.name)
        if pid is None:
            state = "down"
        elif answering(svc, pid):
            state = f"up (pid {pid})"
        else:
            state = f"NOT ANSWERING (pid {pid} runs; see {svc.name}.log)"
        lines.append(f"{svc.name:8} {state:16} {svc.url}")
    return lines
