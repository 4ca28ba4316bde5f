"""`make demo`: the whole lifecycle on embedded defaults, with progress and a closing summary.

training-pipeline flow (DVC stages + promotion) → a real uvicorn service on the champion → replay
of each production day and a simulated drift period over HTTP (labels via /feedback) → monitoring
flow per day (the drift period as one window) → the trigger fires → retraining flow → promotion
gate → the service hot-swaps (``deployment_log.csv``). Prefect runs in its local ephemeral mode;
MLflow is SQLite under mlruns/.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import httpx

from flows.common import project_params
from flows.demo_report import (
    DayRow,
    data_source,
    decisions_table,
    shown,
    source_warning,
    summary_table,
    where_to_look,
)
from predmaint.config import PARAMS_ENV, Params

__all__ = ["DayRow", "main", "run_day", "run_lifecycle"]

_T0 = time.monotonic()
_ACTIVE: dict[str, Any] = {"console": None}
"""The :class:`flows.console.DemoConsole` while ``main`` runs; None when called as a library (tests)."""


def say(text: str) -> None:
    """A progress line: above the rich progress display under ``main``, else printed with the elapsed time."""
    if _ACTIVE["console"] is not None:
        _ACTIVE["console"].say(text)
    else:
        print(f"[demo {time.monotonic() - _T0:5.0f}s] {text}", flush=True)


def loud(text: str) -> None:
    """A message nobody should miss (a boxed banner under ``main``)."""
    if _ACTIVE["console"] is not None:
        _ACTIVE["console"].banner(text)
    else:
        print("\n".join(["!" * 72, text, "!" * 72]), flush=True)


def step(description: str) -> Any:
    """A progress line for one phase (a no-op context outside ``main``); yields a ``describe(text)`` callable."""
    if _ACTIVE["console"] is not None:
        return _ACTIVE["console"].step(description)
    say(description)
    return nullcontext(lambda text: None)


@contextmanager
def service(params: Params, token: str) -> Iterator[httpx.Client]:
    """A real uvicorn process serving the champion on a socket bound here first; stopped on exit.

    The port is ``serving.port`` when free, else any free port; the child inherits the bound socket
    and readiness requires this run's instance id in ``/ready``, so no other server can be mistaken
    for it.
    """
    from predmaint.service.process import bind_preferred, new_instance_id, running

    env = {**os.environ, PARAMS_ENV: str(params.root / "params.yaml"), params.serving.admin_token_env: token}
    sock = bind_preferred(params.serving.host, params.serving.port)
    port = sock.getsockname()[1]
    cmd = [str(Path(sys.executable).parent / "predmaint"), "serve", "--fd", str(sock.fileno()), "--workers", "1"]
    url = f"http://{params.serving.host}:{port}"
    with (
        sock,
        running(
            cmd, f"{url}/ready", api_log(params), env, params.root, instance=new_instance_id(), pass_fds=[sock.fileno()]
        ),
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        yield client


def api_log(params: Params) -> Path:
    """Where the demo's API process writes its log."""
    return params.path(params.paths.run_dir) / "demo-api.log"


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
    removed = []
    for path in (
        params.path(params.paths.prediction_log),
        params.path(params.monitoring.decisions_log),
    ):
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            if p.exists():
                removed.append(str(p.relative_to(params.root)))
                p.unlink()
    if removed:
        say(f"reset from a previous demo: {', '.join(removed)}")
    reports = params.path(params.paths.monitoring_dir)
    for child in [*reports.glob("day_*"), reports / "workspace"] if reports.is_dir() else []:
        shutil.rmtree(child, ignore_errors=True)


def run_day(params: Params, client: httpx.Client, name: str, frames: list[tuple[Any, Any]]) -> DayRow:
    """Replay one day (or each day of a period), monitor it as one window, and follow a retraining through.

    Each day's readings go to ``/predict``, then its labels to ``/feedback``; the monitoring flow
    then judges everything sent since the first day began.
    """
    from flows.monitoring import monitoring
    from predmaint.ops.replay import DayResult, replay_frame

    before = served_version(client)
    rows = sum(len(f[0]) for f in frames)
    with step(f"{name}: replaying {rows:,} readings to v{before}") as describe:
        sent: list[DayResult] = []
        for features, labels in frames:
            sent.append(replay_frame(
                client, name, features, labels, params.replay.request_batch, params.monitoring.feedback_delay_s
            ))  # fmt: skip
        day = DayResult(name, rows, sent[0].started_at, sum(d.alarms for d in sent), sum(d.labelled for d in sent))
        span = f" over {len(sent)} days" if len(sent) > 1 else ""
        describe(f"{name}: {day.rows:,} readings{span} scored by v{before} ({day.alarms} alarms); monitoring")
        params_file = str(params.root / "params.yaml")
        result = monitoring(params_file, since=day.started_at - 1e-3, window_id=name, on_trigger="subflow")
        prod, train = result["production"], result["training"]
        note, gate, verdict = "", "", ""
        retrain = result.get("retraining")
        if retrain:
            note = f"retrained v{retrain['challenger']}: {'promoted' if retrain['promoted'] else 'refused'}"
            gate, verdict = str(retrain.get("decision", note)), str(retrain.get("verdict", note))
            if retrain["promoted"]:
                swapped = wait_for_version(client, str(retrain["challenger"]), params.serving.reload_poll_s + 30)
                note += ", hot-swapped" if swapped else ", NOT swapped in time"
        fired = ("[bold red]RETRAIN[/]" if _ACTIVE["console"] else "RETRAIN") if result["fire"] else "no retrain"
        describe(f"{name}: {day.rows:,} readings, drift share {result['drift_share']:.2f}, {fired}"
                 + (f" — {note}" if note else ""))  # fmt: skip
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
        cost=prod.get("expected_cost_per_1000"),
        training_cost=train.get("expected_cost_per_1000"),
        reasons=list(result["headline"]),
        gate=gate,
        verdict=verdict,
    )


def run_lifecycle(params_path: str | None = None, drift: bool = True) -> tuple[Params, list[DayRow]]:
    """Train, serve, replay every production day (and a drift day), monitor, retrain, swap.

    Args:
        params_path: The params file (default: ``$PREDMAINT_PARAMS`` or ./params.yaml).
        drift: Also replay the simulated drift period (``replay.drift_days`` days of ``replay.drift_scenario``),
            monitored as one window once all its labels are in.

    Returns:
        The params and one summary row per replayed day.
    """
    from flows.training import training_pipeline
    from predmaint.data.split import production_days
    from predmaint.ops.replay import drift_days, production_day

    params = project_params(params_path)
    source, described = data_source(params)
    warning = source_warning(source, described)
    if warning:
        loud(warning)
    else:
        say(f"data: {described}")
    reset_serving_state(params)
    with step("training pipeline: DVC stages, Data Docs, promotion gate") as describe:
        trained = training_pipeline(params_path)
        ran = [s for s, r in trained["stages_ran"].items() if r]
        gate = trained["promotion"]
        verdict = f"v{gate['version']} {'promoted' if gate['promoted'] else 'not promoted'}"
        describe(f"training pipeline: ran {', '.join(ran) or 'nothing (up to date)'}; {verdict}")
    after, described_after = data_source(params)
    if after != source or (warning is None and source_warning(after, described_after)):
        loud(source_warning(after, described_after) or f"data source: {described_after}")

    token = secrets.token_urlsafe(24)
    rows: list[DayRow] = []
    with ExitStack() as running:
        with step("starting the API (uvicorn) on the champion") as describe:
            client = running.enter_context(service(params, token))
            describe(f"API on {client.base_url} serving v{served_version(client)}")
        days = [(f"day_{d:02d}", [production_day(params, d)]) for d in production_days(params)]
        if drift:
            period = drift_days(params)
            first, last = len(days) + 1, len(days) + len(period)
            span = f"{first:02d}" if first == last else f"{first:02d}-{last:02d}"
            days.append((f"day_{span}_{params.replay.drift_scenario}", period))
        for name, frames in days:
            rows.append(run_day(params, client, name, frames))
    return params, rows


def main(params_path: str | None = None) -> int:
    """Run the lifecycle demo quietly (third-party output to ``.run/demo-*.log``) and print the summary.

    Returns:
        The process exit code: 0, or 1 after printing the error in full.
    """
    from flows.console import DemoConsole

    params = project_params(params_path)
    console = DemoConsole(params.path(params.paths.run_dir))
    console.console.print(f"predmaint demo — third-party output goes to [bold]{shown(params, console.log_path)}[/]")
    t0 = time.monotonic()
    _ACTIVE["console"] = console
    try:
        with console.quiet():
            params, rows = run_lifecycle(params_path)
    except Exception as exc:
        console.failed(exc)
        return 1
    finally:
        _ACTIVE["console"] = None
    console.table(summary_table(rows))
    console.table(decisions_table(rows, str(params.monitoring.decisions_log)))
    source, described = data_source(params)
    warning = source_warning(source, described, short=True)
    if warning:
        console.banner(warning)
    for line in where_to_look(params, api_log(params), console.log_path):
        console.console.print(line)
    console.console.print(f"done in {time.monotonic() - t0:.0f} s")
    console.silence_rest()
    return 0


if __name__ == "__main__":
    sys.exit(main())
