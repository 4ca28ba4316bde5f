"""Helpers for the serving tests: a project with a real registered champion, and a real server.

The champion is trained once per test session (real ``train`` on a small forest, real MLflow
SQLite store) and each test module gets its own copy of the project, so moving aliases in one
module never affects another.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from predmaint.config import Params, load_params
from predmaint.service.process import running
from tests.conftest import HAVE_REAL_DATA, REAL_DATA, REPO, make_project

SMALL_FOREST = {"n_estimators": 20, "max_depth": 8, "min_samples_leaf": 1, "random_state": 42, "n_jobs": 1}
ADMIN_TOKEN = "test-admin-token-0123456789"
GOOD: dict[str, Any] = {  # one ordinary reading, valid and far from every rule's limit
    "type": "L",
    "air_temperature_k": 300.0,
    "process_temperature_k": 310.0,
    "rotational_speed_rpm": 1500,
    "torque_nm": 40.0,
    "tool_wear_min": 100,
}


def _train_champion(cache: Path) -> None:
    from predmaint.model.run import train

    params = make_project(cache, data={"source_order": ["simulator"]}, model={"random_forest": SMALL_FOREST})
    if HAVE_REAL_DATA:
        frame = pd.read_csv(REAL_DATA, encoding="utf-8-sig").head(params.split.train_rows)
    else:
        from predmaint.data.simulate import simulate

        frame = simulate(params.simulator, params.physics, rows=params.split.train_rows)
    source = params.path(params.paths.reference)
    source.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(source, index=False)
    set_champion(params, train(params, source).version)


def champion_project(cache: Path, dest: Path, **overrides: dict[str, Any]) -> Params:
    """A copy (at ``dest``) of a project whose registry has a champion; trained once per ``cache``.

    Args:
        cache: Where the trained project is kept for the session.
        dest: The copy this caller may change (aliases, logs).
        overrides: Per-section params overrides for the copy.
    """
    cache.parent.mkdir(parents=True, exist_ok=True)
    with (cache.parent / f"{cache.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (cache / ".trained").exists():
            shutil.rmtree(cache, ignore_errors=True)
            _train_champion(cache)
            (cache / ".trained").touch()
    shutil.copytree(cache, dest, ignore=shutil.ignore_patterns(".trained", "predictions", "deployment_log.csv"))
    raw = yaml.safe_load((dest / "params.yaml").read_text())
    for section, values in overrides.items():
        raw[section].update(values)
    (dest / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return load_params(dest / "params.yaml", environ={})


def add_version(params: Params, threshold: float, alias: str | None = None) -> str:
    """Register another version of the champion's model with its own threshold tag; optionally alias it."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=params.tracking_uri)
    name = params.mlflow.registered_model
    base = client.get_model_version_by_alias(name, params.mlflow.champion_alias)
    mv = client.create_model_version(name, base.source, run_id=base.run_id, tags={"threshold": str(threshold)})
    if alias:
        client.set_registered_model_alias(name, alias, mv.version)
    return str(mv.version)


def set_champion(params: Params, version: str) -> None:
    """Point the champion alias at ``version``."""
    from mlflow import MlflowClient

    MlflowClient(tracking_uri=params.tracking_uri).set_registered_model_alias(
        params.mlflow.registered_model, params.mlflow.champion_alias, version
    )


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def service_env(params: Params, token: str | None = ADMIN_TOKEN) -> dict[str, str]:
    """The environment of a service process for ``params``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREDMAINT_")}
    env["PREDMAINT_PARAMS"] = str(params.root / "params.yaml")
    if token:
        env[params.serving.admin_token_env] = token
    return env


@dataclass
class Server:
    """A running ``predmaint serve`` process."""

    url: str
    proc: subprocess.Popen[bytes]
    log: Path


@contextmanager
def running_server(params: Params, token: str | None = ADMIN_TOKEN, timeout_s: float = 180) -> Iterator[Server]:
    """Start ``predmaint serve`` on a free loopback port; yield once ``/ready`` is 200; stop it after."""
    port = free_port()
    log = params.root / f"server-{port}.log"
    cmd = [
        str(Path(sys.executable).with_name("predmaint")),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    url = f"http://127.0.0.1:{port}"
    with running(cmd, f"{url}/ready", log, service_env(params, token), REPO, timeout_s) as proc:
        yield Server(url, proc, log)
