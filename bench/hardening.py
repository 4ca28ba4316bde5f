"""Benchmark of issue 18's hardening: bounded error work (item 1) and load shedding (item 5).

1. **Flood of unknown keys**: wrk keeps a normal single-reading load on ``/predict`` (c=64) while a
   second client posts a ~1 MB JSON object with 90,000 unknown keys once a second; reported: the
   normal load's req/s and p99 with and without the flood, and the flood's answer time and size.
2. **1,000 connections**: wrk with ``-c 1000`` against one worker; reported: req/s, p50/p99/max
   latency end to end (wrk's timeout is 30 s, so long waits are counted, not dropped), whether the
   longest wait stayed within ``serving.queue_budget_ms``, 503s (shed with ``Retry-After``), the shed
   counter of ``/metrics`` and the service's own latency histogram.

Needs ``wrk``. Example (a project whose registry has a champion, e.g. from ``bench/serving.py
--bootstrap``)::

    nice .venv/bin/python bench/hardening.py --params /tmp/bench-proj/params.yaml
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this folder holds a serving.py too
from bench.serving import BIN, LUA, READING, free_port, server, wrk


def flood_body(keys: int = 90_000) -> bytes:
    """A JSON object of ``keys`` unknown keys (just under serving.max_body_bytes)."""
    return json.dumps({f"k{i:05d}": 1 for i in range(keys)}, separators=(",", ":")).encode()


def flooder(url: str, stop: threading.Event, out: list[tuple[float, int, int]]) -> None:
    """Post the flood body once a second; record (seconds, status, answer bytes)."""
    body = flood_body()
    with httpx.Client(headers={"content-type": "application/json"}, timeout=30) as client:
        while not stop.is_set():
            started = time.perf_counter()
            r = client.post(url, content=body)
            out.append((time.perf_counter() - started, r.status_code, len(r.content)))
            stop.wait(max(0.0, 1.0 - (time.perf_counter() - started)))


def main(argv: list[str] | None = None) -> int:
    """Run both parts; print Markdown tables and write JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=Path, required=True)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--out", type=Path, default=Path("reports/bench/hardening.json"))
    ap.add_argument("--parts", nargs="+", choices=["flood", "c1000"], default=["flood", "c1000"])
    ap.add_argument("--connections", type=int, default=1000, help="connections of the overload part")
    ap.add_argument(
        "--uvicorn-limit-concurrency",
        type=int,
        default=None,
        help="run uvicorn directly with --limit-concurrency N (its own 503s, for comparison)",
    )
    ap.add_argument("--event-loop", choices=["asyncio", "uvloop"], help="override serving.event_loop")
    args = ap.parse_args(argv)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREDMAINT_")}
    env |= {"PREDMAINT_PARAMS": str(args.params.resolve()), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    if args.event_loop:
        env["PREDMAINT_SERVING__EVENT_LOOP"] = args.event_loop
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-hardening-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    script = work / "predict.lua"
    script.write_text(LUA.format(body=json.dumps(json.dumps(READING))))
    cmd = [str(BIN / "predmaint"), "serve", "--host", "127.0.0.1", "--port", str(free_port()), "--workers", "1"]
    if args.uvicorn_limit_concurrency:
        cmd = [str(BIN / "uvicorn"), "serving.app:create_app_from_env", "--factory", "--no-access-log"]
        cmd += ["--host", "127.0.0.1", "--port", str(free_port())]
        cmd += ["--limit-concurrency", str(args.uvicorn_limit_concurrency)]
    results: dict[str, Any] = {}
    with server("predmaint", cmd, "/ready", env, work) as url:
        predict = url + "/predict"
        if "flood" in args.parts:
            results |= flood_part(predict, script, args.duration)
        if "c1000" in args.parts:
            results |= overload_part(url, script, args.connections, args.duration)
    if "c1000" in results:
        from predmaint.config import load_params

        budget = load_params(args.params, environ={}).serving.queue_budget_ms
        longest = results["c1000"]["max_ms"]
        results["budget_ms"], results["every_answer_within_budget"] = budget, longest <= budget
        print(f"{args.connections} connections: longest wait {longest:,.0f} ms, budget {budget:,.0f} ms")
    print(json.dumps(results, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    return 0


def flood_part(predict: str, script: Path, duration: float) -> dict[str, Any]:
    """c=64 normal load without and with the unknown-keys flood; the flood's answers."""
    results: dict[str, Any] = {}
    wrk(predict, script, 64, 2)
    results["normal"] = wrk(predict, script, 64, duration)
    stop, floods = threading.Event(), []  # type: ignore[var-annotated]
    thread = threading.Thread(target=flooder, args=(predict, stop, floods), daemon=True)
    thread.start()
    results["normal_with_flood"] = wrk(predict, script, 64, duration)
    stop.set()
    thread.join(30)
    results["flood"] = {
        "requests": len(floods),
        "statuses": sorted({s for _, s, _ in floods}),
        "max_ms": round(max(t for t, _, _ in floods) * 1000, 1),
        "median_ms": round(sorted(t for t, _, _ in floods)[len(floods) // 2] * 1000, 1),
        "max_answer_bytes": max(n for _, _, n in floods),
    }
    return results


def overload_part(url: str, script: Path, connections: int, duration: float) -> dict[str, Any]:
    """``connections`` connections on one worker: latency vs the budget, shed count (wrk and /metrics)."""
    predict = url + "/predict"
    wrk(predict, script, connections, 2)
    load = os.getloadavg()[:1]
    page = httpx.get(url + "/metrics").text
    before, hist_before = shed_counts(page), in_app(page)
    row = wrk(predict, script, connections, duration)
    page = httpx.get(url + "/metrics").text
    after, hist_after = shed_counts(page), in_app(page)
    return {
        "c1000": row,
        "in_app_seconds_le": {k: v - hist_before.get(k, 0.0) for k, v in hist_after.items()},
        "connections": connections,
        "loadavg_before_after": [round(x, 2) for x in (*load, os.getloadavg()[0])],
        "shed_counter": after,
        "shed_in_run": {k: v - before.get(k, 0.0) for k, v in after.items()},
    }


def shed_counts(metrics: str) -> dict[str, float]:
    """``predmaint_shed_requests_total`` by reason, from a /metrics page."""
    shed = re.findall(r'predmaint_shed_requests_total\{reason="(\w+)"\} ([\d.e+]+)', metrics)
    return {k: float(v) for k, v in shed}


def in_app(metrics: str) -> dict[str, float]:
    """Cumulative counts of ``/predict`` answers by in-app time (the latency histogram's buckets)."""
    pattern = r'^predmaint_http_request_duration_seconds_bucket\{le="([^"]+)",route="/predict"\} (\S+)$'
    return {le: float(n) for le, n in re.findall(pattern, metrics, re.M)}


if __name__ == "__main__":
    sys.exit(main())
