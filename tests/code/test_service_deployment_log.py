"""deployment_log.csv: rows, validation, concurrent appends, what was live when."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest

from predmaint.service import deployment_log
from predmaint.service.deployment_log import Deployment


def _row(version: str, reason: str, previous: str = "", time: str = "2026-01-01T00:00:00.000+00:00") -> Deployment:
    return Deployment(time, "predmaint-failure", version, "r" * 32, "champion", "v3_clean", "abc", reason, previous, 1)


def test_rows_round_trip_and_live_at(tmp_path: Path) -> None:
    path = tmp_path / "deployment_log.csv"
    deployment_log.append(path, _row("1", "startup", time="2026-01-01T00:00:00.000+00:00"))
    deployment_log.append(path, _row("2", "alias change", "1", time="2026-01-02T00:00:00.000+00:00"))
    deployment_log.append(path, _row("1", "rollback", "2", time="2026-01-03T00:00:00.000+00:00"))
    rows = deployment_log.read(path)
    assert list(rows.columns) == list(deployment_log.FIELDS)
    assert list(rows["reason"]) == ["startup", "alias change", "rollback"]
    assert path.read_text().count("time,model_name") == 1
    live = deployment_log.live_at(path, "2026-01-02T12:00:00")
    assert live is not None and live["version"] == "2"
    assert deployment_log.live_at(path, "2025-12-31") is None


def test_unknown_reason_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="because"):
        deployment_log.append(tmp_path / "d.csv", _row("1", "because"))


def _writer(path: str, k: int) -> None:
    for i in range(25):
        deployment_log.append(Path(path), _row(f"{k}.{i}", "startup"))


def test_concurrent_processes_append_whole_rows(tmp_path: Path) -> None:
    path = tmp_path / "deployment_log.csv"
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(path), k)) for k in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    rows = deployment_log.read(path)
    assert len(rows) == 75 and set(rows["model_name"]) == {"predmaint-failure"}
