"""Benchmark: the predmaint service vs ``mlflow models serve`` on the same model version.

Both servers run the same registered version with the same number of worker processes on
127.0.0.1; ``wrk`` sends single-reading POST requests at each concurrency for a fixed duration
(after a short warm-up) and the servers are measured alternately within one run, so machine
drift affects both alike. Prints a Markdown table (req/s, p50, p99, errors) and writes JSON.

Needs ``wrk`` (Debian: ``apt-get install -y wrk``). Examples::

    python bench/serving.py --bootstrap /tmp/bench-proj          # train the default model first
    python bench/serving.py --params params.yaml --workers 2     # the project's champion
    python bench/serving.py --params … --ours-only --prediction-log-url postgresql://u:pw@127.0.0.1:5432/db
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

from predmaint.service.process import running

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
READING = {
    "type": "M",
    "air_temperature_k": 298.9,
    "process_temperature_k": 309.1,
    "rotational_speed_rpm": 1410,
    "torque_nm": 45.7,
    "tool_wear_min": 91,
}
AI4I = ["Type", "Air temperature [K]", "Process temperature [K]", "Rotational speed [rpm]", "Torque [Nm]"]
MLFLOW_BODY = {"dataframe_split": {"columns": [*AI4I, "Tool wear [min]"], "data": [list(READING.values())]}}
WRK_TIMEOUT_S = 30  # wrk's default (2 s) drops slow answers from the latency and throughput counts
LUA = 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = {body}\n'
AUTH_LUA = 'wrk.headers["Authorization"] = "Bearer {token}"\n'


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bootstrap(root: Path) -> Path:
    """Create a project at ``root`` (this repo's params.yaml and contract) with the default model
    trained on the first ``split.train_rows`` rows and set as champion; returns its params file."""
    import pandas as pd
    import yaml
    from mlflow import MlflowClient

    from predmaint.config import load_params
    from predmaint.data.simulate import simulate
    from predmaint.model.run import train

    repo = load_params(REPO / "params.yaml", environ={})
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    raw["data"]["csv_path"] = str(repo.path(repo.data.csv_path))
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "expectations", root / "expectations", dirs_exist_ok=True)
    (root / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    params = load_params(root / "params.yaml", environ={})
    csv = params.path(params.data.csv_path)
    rows = params.split.train_rows
    frame = (
        pd.read_csv(csv, encoding="utf-8-sig").head(rows)
        if csv.is_file()
        else simulate(params.simulator, params.physics, rows=rows)
    )
    source = params.path(params.paths.reference)
    source.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(source, index=False)
    result = train(params, source)
    MlflowClient(tracking_uri=params.tracking_uri).set_registered_model_alias(
        params.mlflow.registered_model, params.mlflow.champion_alias, result.version
    )
    return root / "params.yaml"


@contextmanager
def server(name: str, cmd: list[str], ready: str, env: dict[str, str], log_dir: Path) -> Iterator[str]:
    """Start a server process, wait for ``ready`` to answer 200, yield its base URL, stop it."""
    url = "http://" + cmd[cmd.index("--host") + 1] + ":" + cmd[cmd.index("--port") + 1]
    with running(cmd, url + ready, log_dir / f"{name}.log", env, REPO, timeout_s=300):
        yield url


def all_workers_ready(
    url: str, body: str, headers: dict[str, str] | None = None, in_a_row: int = 40, timeout_s: float = 300
) -> str:
    """Wait until ``in_a_row`` consecutive requests succeed (every worker has loaded its model).

    Each request goes on a new connection (``Connection: close``): on one keep-alive connection every
    request reaches the same worker, and a worker still loading its model would answer 503 later.
    """
    deadline, ok, text = time.monotonic() + timeout_s, 0, ""
    fresh = {"content-type": "application/json", "connection": "close", **(headers or {})}
    with httpx.Client(headers=fresh) as client:
        while ok < in_a_row:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer {in_a_row} requests in a row within {timeout_s} s")
            r = client.post(url, content=body)
            ok, text = (ok + 1, r.text) if r.status_code == 200 else (0, r.text)
            if not ok:
                time.sleep(0.5)
    return text


def wrk(url: str, script: Path, connections: int, seconds: float) -> dict[str, Any]:
    """Run wrk and parse req/s, p50, p99 (ms) and errors from its output."""
    threads = min(connections, 2)
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            f"--timeout={WRK_TIMEOUT_S}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + WRK_TIMEOUT_S + 60,
    ).stdout

    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            raise RuntimeError(f"cannot parse wrk output:\n{out}")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(int(g) for g in sock.groups()) if sock else 0)
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    peak = re.search(r"^\s*Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)", out, re.M)
    max_ms = float(peak.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[peak.group(2)] if peak else None
    return {
        "rps": rps,
        "p50_ms": ms("50"),
        "p99_ms": ms("99"),
        "max_ms": max_ms,
        "errors": errors,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "requests": total,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit code."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=Path, help="params.yaml of a project whose registry has a champion")
    ap.add_argument("--bootstrap", type=Path, help="create a project here and train the default model first")
    ap.add_argument("--workers", type=int, default=1, help="worker processes of each server")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 64])
    ap.add_argument("--duration", type=float, default=10.0, help="seconds measured per server and level")
    ap.add_argument("--warmup", type=float, default=2.0, help="seconds of load before each measurement")
    ap.add_argument("--out", type=Path, default=Path("reports/bench/serving.json"))
    ap.add_argument("--ours-only", action="store_true", help="skip mlflow models serve (quick A/B of a change)")
    ap.add_argument("--tokens", action="store_true", help="require a predict bearer token (sent by wrk)")
    ap.add_argument("--prediction-log-url", default="", help="log predictions to this PostgreSQL database")
    ap.add_argument("--event-loop", choices=["asyncio", "uvloop"], help="override serving.event_loop")
    args = ap.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk not found: install it (Debian/Ubuntu: apt-get install -y wrk)", file=sys.stderr)
        return 2
    if (args.params is None) == (args.bootstrap is None):
        ap.error("give exactly one of --params or --bootstrap")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    params_file = bootstrap(args.bootstrap) if args.bootstrap else args.params.resolve()

    from predmaint.config import load_params
    from predmaint.model.registry import resolve

    params = load_params(params_file, environ={})
    version = str(resolve(params).version)
    name = params.mlflow.registered_model
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREDMAINT_")}
    env |= {"PREDMAINT_PARAMS": str(params_file), "MLFLOW_TRACKING_URI": params.tracking_uri}
    if args.prediction_log_url:
        env["PREDMAINT_PATHS__PREDICTION_LOG_URL"] = args.prediction_log_url
    if args.event_loop:
        env["PREDMAINT_SERVING__EVENT_LOOP"] = args.event_loop
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    work = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    scripts = {
        "predmaint": (work / "predmaint.lua", "/predict", json.dumps(READING)),
        "mlflow": (work / "mlflow.lua", "/invocations", json.dumps(MLFLOW_BODY)),
    }
    for script, _, body in scripts.values():
        script.write_text(LUA.format(body=json.dumps(body)))
    auth: dict[str, str] = {}
    if args.tokens:
        sys.path.insert(0, str(REPO))  # this script's own name shadows the serving package
        from serving.tokens import new_token

        token, entry = new_token("bench")
        env[params.serving.predict_tokens_env] = entry
        auth = {"Authorization": f"Bearer {token}"}
        script = scripts["predmaint"][0]
        script.write_text(script.read_text() + AUTH_LUA.format(token=token))
    host = ["--host", "127.0.0.1"]
    ours = [
        str(BIN / "predmaint"),
        "serve",
        *host,
        "--port",
        str(free_port()),
        "--workers",
        str(args.workers),
    ]
    theirs = [
        str(BIN / "mlflow"),
        "models",
        "serve",
        "-m",
        f"models:/{name}/{version}",
        "--env-manager",
        "local",
    ]
    theirs += [*host, "--port", str(free_port()), "--workers", str(args.workers)]
    print(f"model {name} version {version}; {args.workers} worker(s) each; wrk {args.duration:g} s per cell")
    store = "PostgreSQL" if args.prediction_log_url else "SQLite"
    print(f"prediction log: {store}; event loop: {args.event_loop or params.serving.event_loop}")
    tools = ["predmaint"] if args.ours_only else ["mlflow", "predmaint"]
    commands = {"predmaint": (ours, "/ready"), "mlflow": (theirs, "/ping")}
    results: dict[str, dict[int, dict[str, Any]]] = {tool: {} for tool in tools}
    with ExitStack() as stack:
        urls = {tool: stack.enter_context(server(tool, *commands[tool], env, work)) for tool in tools}
        for tool in tools:
            _, path, body = scripts[tool]
            answer = all_workers_ready(urls[tool] + path, body, auth if tool == "predmaint" else None)
            print(f"{tool} answers: {answer[:120]}")
        for i, c in enumerate(args.concurrency):
            for tool in tools if i % 2 == 0 else tools[::-1]:
                script, path, _ = scripts[tool]
                wrk(urls[tool] + path, script, c, args.warmup)
                results[tool][c] = wrk(urls[tool] + path, script, c, args.duration)
                print(f"  c={c:<3} {tool:<9} {results[tool][c]}")
    print("\n| concurrency | server | req/s | p50 ms | p99 ms | errors |\n| --- | --- | --- | --- | --- | --- |")
    for c in args.concurrency:
        for tool in tools:
            row = results[tool][c]
            cells = f"{row['rps']:,.0f} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['errors']}"
            print(f"| {c} | {tool} | {cells} |")
        if "mlflow" in results:
            ratio = results["predmaint"][c]["rps"] / results["mlflow"][c]["rps"]
            print(f"| {c} | **ratio** | **{ratio:.1f}×** | | | |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"model": name, "version": version, "workers": args.workers, "duration_s": args.duration}
    meta["tokens"] = args.tokens
    meta["prediction_log"] = "postgresql" if args.prediction_log_url else "sqlite"
    meta["event_loop"] = args.event_loop or params.serving.event_loop
    args.out.write_text(json.dumps({**meta, "results": results}, indent=2))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
