"""`make demo`: the whole lifecycle on embedded defaults, with progress and a closing summary.

training-pipeline flow (DVC stages + promotion) → a real uvicorn service on the champion → replay
of each production day and one simulated drift day over HTTP (labels via /feedback) → monitoring
flow per day → the trigger fires → retraining flow → promotion gate → the service hot-swaps
(``deployment_log.csv``). Prefect runs in its local ephemeral mode; MLflow is SQLite under mlruns/.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from flows.common import project_params
from predmaint.config import PARAMS_ENV, Params


@dataclass
class DayRow:
    """One line of the closing summary."""

    day: str
    rows: int
    drift_share: float
    error_rate: float | None
    training_error_rate: float | None
    fire: bool
    served_before: str
    served_after: str
    note: str


_T0 = time.monotonic()


def say(text: str) -> None:
    """Progress line with the elapsed time, flushed at once."""
    print(f"[demo {time.monotonic() - _T0:5.0f}s] {text}", flush=True)


def free_port(host: str, preferred: int) -> int:
    """``preferred`` if it is free on ``host``, else any free port."""
    for port in (preferred, 0):
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((host, port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise RuntimeError(f"no free port on {host}")


@contextmanager
def service(params: Params, port: int, token: str) -> Iterator[httpx.Client]:
    """A real uvicorn process serving the champion; stopped on exit."""
    from predmaint.service.process import running

    env = {**os.environ, PARAMS_ENV: str(params.root / "params.yaml"), params.serving.admin_token_env: token}
    cmd = [str(Path(sys.executable).parent / "predmaint"), "serve", "--port", str(port), "--workers", "1"]
    url = f"http://{params.serving.host}:{port}"
    log = params.path(params.paths.run_dir) / "demo-api.log"
    with running(cmd, f"{url}/ready", log, env, params.root), httpx.Client(base_url=url, timeout=60) as client:
        yield client


def served_version(client: httpx.Client) -> str:
    """The version the service answers with now."""
    return str(client.get("/model").json()["version"])


def wait_for_version(client: httpx.Client, version: str, timeout_s: float) -> bool:
    """Wait until the service's background poll has swapped in ``version``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if served_version(client) == version:
            return True
        time.sleep(0.5)
    return False


def reset_serving_state(params: Params) -> None:
    """Start the replay from a clean prediction log and decision history (MLflow history stays)."""
    for path in (
        params.path(params.paths.prediction_log),
        params.path(params.paths.monitoring_dir) / "decisions.csv",
    ):
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            if p.exists():
                say(f"reset from a previous demo: {p.relative_to(params.root)}")
                p.unlink()
    reports = params.path(params.paths.monitoring_dir)
    for child in reports.glob("day_*") if reports.is_dir() else []:
        shutil.rmtree(child)


def run_day(params: Params, client: httpx.Client, name: str, frames: tuple[Any, Any]) -> DayRow:
    """Replay one day, monitor it, and follow a retraining through to the served version."""
    from flows.monitoring import monitoring
    from predmaint.ops.replay import replay_frame

    before = served_version(client)
    day = replay_frame(
        client, name, frames[0], frames[1], params.replay.request_batch, params.monitoring.feedback_delay_s
    )
    say(f"{name}: {day.rows} readings scored by v{before} ({day.alarms} alarms), {day.labelled} labels sent")
    params_file = str(params.root / "params.yaml")
    result = monitoring(params_file, since=day.started_at - 1e-3, window_id=name, on_trigger="subflow")
    prod, train = result["production"], result["training"]
    note = "; ".join(result["reasons"][:2])
    retrain = result.get("retraining")
    if retrain:
        note = f"retrained v{retrain['challenger']}: {'promoted' if retrain['promoted'] else 'refused'}"
        if retrain["promoted"]:
            swapped = wait_for_version(client, str(retrain["challenger"]), params.serving.reload_poll_s + 30)
            note += ", hot-swapped" if swapped else ", NOT swapped in time"
    say(f"{name}: drift share {result['drift_share']:.2f}, retrain {'YES' if result['fire'] else 'no'} — {note}")
    return DayRow(
        name,
        day.rows,
        result["drift_share"],
        prod.get("error_rate"),
        train.get("error_rate"),
        result["fire"],
        before,
        served_version(client),
        note,
    )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def summary_table(rows: list[DayRow]) -> str:
    """The closing table: day, rows, drift share, error rate vs training, trigger, served version."""
    lines = [
        "| day | rows | drift share | error rate (prod / train) | retrain | served | note |",
        "| --- | ---: | ---: | --- | --- | --- | --- |",
    ]
    for r in rows:
        served = f"v{r.served_before}" + (f" → v{r.served_after}" if r.served_after != r.served_before else "")
        lines.append(
            f"| {r.day} | {r.rows} | {r.drift_share:.2f} | {_fmt(r.error_rate)} / {_fmt(r.training_error_rate)} "
            f"| {'YES' if r.fire else 'no'} | {served} | {r.note} |"
        )
    return "\n".join(lines)


def where_to_look(params: Params) -> str:
    """Commands and paths for the UIs and reports."""
    rel = lambda p: p.relative_to(params.root) if p.is_relative_to(params.root) else p  # noqa: E731
    mon = params.path(params.paths.monitoring_dir)
    return "\n".join(
        [
            "Where to look:",
            f"  MLflow UI      .venv/bin/mlflow ui --backend-store-uri {params.mlflow.tracking_uri} --port 5000",
            "  Prefect UI     PREFECT_HOME=.run/prefect .venv/bin/prefect server start   (flow runs of this demo)",
            f"  Evidently      {rel(mon)}/day_XX/drift.html, performance.html",
            f"  Decisions      {rel(mon / 'decisions.csv')}",
            f"  Data Docs      {rel(params.path(params.paths.data_docs_dir))}/index.html",
            f"  Served models  {rel(params.path(params.paths.deployment_log))}",
            f"  Lineage        .venv/bin/predmaint lineage {params.paths.reference}",
        ]
    )


def run_lifecycle(params_path: str | None = None, drift: bool = True) -> tuple[Params, list[DayRow]]:
    """Train, serve, replay every production day (and a drift day), monitor, retrain, swap.

    Args:
        params_path: The params file (default: ``$PREDMAINT_PARAMS`` or ./params.yaml).
        drift: Also replay one simulated drift day (``replay.drift_scenario``).

    Returns:
        The params and one summary row per replayed day.
    """
    from flows.training import training_pipeline
    from predmaint.data.split import production_days
    from predmaint.ops.replay import drift_day, production_day

    params = project_params(params_path)
    say(f"project {params.root}; MLflow {params.tracking_uri}; Prefect ephemeral API")
    reset_serving_state(params)
    say("training-pipeline: DVC stages ingest → validate_raw → split → clean → train → evaluate, then the gate")
    trained = training_pipeline(params_path)
    ran = [s for s, r in trained["stages_ran"].items() if r]
    say(f"stages run: {', '.join(ran) or 'none (all up to date)'}")
    say(f"promotion: {trained['promotion']['summary']}")

    token = secrets.token_urlsafe(24)
    port = free_port(params.serving.host, params.serving.port)
    rows: list[DayRow] = []
    with service(params, port, token) as client:
        say(f"API on {client.base_url} serving v{served_version(client)} (try: curl {client.base_url}/model)")
        days = [(f"day_{d:02d}", production_day(params, d)) for d in production_days(params)]
        if drift:
            days.append((f"day_{len(days) + 1:02d}_{params.replay.drift_scenario}", drift_day(params)))
        for name, frames in days:
            rows.append(run_day(params, client, name, frames))
    return params, rows


def main(params_path: str | None = None) -> int:
    """Run the lifecycle demo and print the summary; return the process exit code."""
    t0 = time.monotonic()
    params, rows = run_lifecycle(params_path)
    print("\n" + summary_table(rows) + "\n", flush=True)
    print(where_to_look(params), flush=True)
    say(f"done in {time.monotonic() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
