"""The prediction log: durable batched writes, feedback joins, the monitoring read API."""

from __future__ import annotations

import math
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from predmaint import schema
from predmaint.service import labels, predlog, predlog_db
from predmaint.service.predlog import Feedback, LabelConflictError, PredictionLog, UnknownRequestIdsError


def _row(rid: str, ts: float, version: str = "1") -> tuple:
    return (
        rid,
        ts,
        "L",
        300.0,
        310.0,
        1500.0,
        40.0,
        100.0,
        0.25,
        0,
        0.3,
        "OSF",
        "predmaint-failure",
        version,
    )


@pytest.fixture
def log(tmp_path: Path) -> PredictionLog:
    started = PredictionLog(tmp_path / "p" / "predictions.db").start()
    yield started
    started.close()


def test_read_window_shape_for_monitoring(log: PredictionLog) -> None:
    log.append([_row("a", 100.0), _row("b", 200.0, "2")]).result()
    log.add_feedback([Feedback("a", 1, "OSF")]).result()
    frame = predlog.read_window(log.path)
    assert list(frame["request_id"]) == ["a", "b"]
    for col in (*schema.FEATURE_COLUMNS, "prediction", "decision", "model_version", "target", "failure_mode"):
        assert col in frame.columns, col
    assert frame.loc[0, "target"] == 1.0 and math.isnan(frame.loc[1, "target"])
    assert frame.loc[0, "failure_mode"] == "OSF" and frame.loc[0, schema.TORQUE] == 40.0
    assert str(frame["timestamp"].dt.tz) == "UTC" and frame.loc[1, "model_version"] == "2"
    assert list(predlog.read_window(log.path, since=100.0)["request_id"]) == ["b"]
    assert list(predlog.read_window(log.path, limit=1)["request_id"]) == ["b"]
    since = pd.Timestamp(150.0, unit="s", tz="UTC").isoformat()
    assert list(predlog.read_window(log.path, since=since)["request_id"]) == ["b"]
    assert predlog.counts(log.path) == {"predictions": 2, "labelled": 1}


def test_request_ids_are_unique_time_ordered_uuid7() -> None:
    early = [predlog.new_request_id() for _ in range(5000)]
    time.sleep(0.003)
    late = [predlog.new_request_id() for _ in range(5000)]
    assert len(set(early + late)) == 10_000
    assert max(early) < min(late), "ids of a later millisecond sort after earlier ones"
    parsed = uuid.UUID(late[0])
    assert parsed.version == 7 and parsed.variant == uuid.RFC_4122 and str(parsed) == late[0]
    assert abs((parsed.int >> 80) / 1000 - time.time()) < 5, "the first 48 bits are UNIX milliseconds"


def _hold_writer(log: PredictionLog) -> threading.Event:
    """Keep the writer thread busy until the returned event is set (appends queue up meanwhile)."""
    gate, busy = threading.Event(), threading.Event()
    log.submit(lambda conn: (busy.set(), gate.wait(10)))
    assert busy.wait(10)
    return gate


def test_appends_queued_during_a_commit_share_the_next_transaction(log: PredictionLog) -> None:
    gate = _hold_writer(log)
    before = log.transactions
    futures = [log.append([_row(f"{k}-{j}", float(k)) for j in range(3)]) for k in range(10)]
    gate.set()
    assert [f.result(10) for f in futures] == [3] * 10
    assert log.transactions == before + 1
    assert predlog.counts(log.path)["predictions"] == 30


def test_a_bad_batch_in_a_group_fails_alone(log: PredictionLog) -> None:
    log.append([_row("taken", 0.0)]).result()
    gate = _hold_writer(log)
    good = [log.append([_row(f"g{k}", 1.0)]) for k in range(4)]
    bad = log.append([_row("fresh", 1.0), _row("taken", 1.0)])
    good.append(log.append([_row("g4", 1.0)]))
    gate.set()
    assert [f.result(10) for f in good] == [1] * 5
    with pytest.raises(sqlite3.IntegrityError):
        bad.result(10)
    ids = set(predlog.read_window(log.path)["request_id"])
    assert ids == {"taken", "g0", "g1", "g2", "g3", "g4"}, "the bad batch is rolled back whole"
    assert log.errors == 1


def test_missing_log_reads_as_empty(tmp_path: Path) -> None:
    frame = predlog.read_window(tmp_path / "none.db")
    assert frame.empty and "prediction" in frame.columns and "target" in frame.columns


def test_timestamps_never_hand_nan_to_to_datetime_with_a_unit(
    log: PredictionLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pandas 2.x rounds garbage behind NaN with ``unit=`` (pandas#58419): only known values may go in."""
    real = pd.to_datetime
    units: list[str] = []

    def checked(arg: object, *args: object, **kwargs: object) -> object:
        if kwargs.get("unit") is not None:
            units.append(str(kwargs["unit"]))
            assert not pd.isna(np.asarray(arg, dtype=float)).any(), "NaN handed to to_datetime with a unit"
        return real(arg, *args, **kwargs)

    monkeypatch.setattr(pd, "to_datetime", checked)
    log.append([_row(f"r{i}", 100.0 + i) for i in range(50)]).result()
    log.add_feedback([Feedback("r3", 1, "TWF")]).result()
    frame = predlog.read_window(log.path)
    assert units, "the log's seconds go through to_datetime with a unit"
    assert frame["feedback_timestamp"].isna().sum() == 49
    assert frame.loc[3, "feedback_timestamp"].tz is not None and pd.notna(frame.loc[3, "feedback_timestamp"])
    assert predlog.utc_from_seconds(pd.Series([np.nan, None], dtype=object)).isna().all()


def test_many_reads_of_a_log_with_unlabelled_rows_under_strict_float_errors(log: PredictionLog) -> None:
    log.append([_row(f"u{i}", 1000.0 + i) for i in range(500)]).result()
    log.add_feedback([Feedback(f"u{i}", i % 2) for i in range(0, 500, 7)]).result()
    with np.errstate(all="raise"):
        for _ in range(300):
            frame = predlog.read_window(log.path)
            assert len(frame) == 500 and frame["feedback_timestamp"].notna().sum() == 72


def test_feedback_is_idempotent_all_or_nothing_and_correctable(log: PredictionLog) -> None:
    log.append([_row("a", 1.0), _row("b", 2.0)]).result()
    first = log.add_feedback([Feedback("a", 1, "PWF")]).result()
    assert first.recorded == ["a"]
    again = log.add_feedback([Feedback("a", 1, "PWF"), Feedback("a", 1, "PWF")]).result()
    assert again.unchanged == ["a"] and not again.recorded and not again.updated
    with pytest.raises(UnknownRequestIdsError) as err:
        log.add_feedback([Feedback("b", 0), Feedback("x", 1), Feedback("y", 0)]).result()
    assert err.value.ids == ["x", "y"]
    assert math.isnan(predlog.read_window(log.path).set_index("request_id").loc["b", "target"])
    with pytest.raises(LabelConflictError) as conflict:  # a different label must say it is a correction
        log.add_feedback([Feedback("a", 0, source="token:plant-b")]).result()
    assert conflict.value.ids == ["a"]
    fixed = log.add_feedback([Feedback("a", 0, source="token:plant-b", correction=True)]).result()
    assert fixed.updated == ["a"]
    row = predlog.read_window(log.path).set_index("request_id").loc["a"]
    assert row["target"] == 0 and row["label_source"] == "token:plant-b"


def test_every_earlier_label_is_kept_in_the_history(log: PredictionLog) -> None:
    log.append([_row("a", 1.0)]).result()
    log.add_feedback([Feedback("a", 1, "PWF", source="token:one")]).result()
    log.add_feedback([Feedback("a", 0, source="token:two", correction=True)]).result()
    log.add_feedback([Feedback("a", 1, "TWF", source="token:three", correction=True)]).result()
    earlier = log.submit(lambda conn: labels.history(conn, "a")).result()
    assert [(t, m, s, by) for t, m, s, _, _, by in earlier] == [
        (1, "PWF", "token:one", "token:two"),
        (0, None, "token:two", "token:three"),
    ]


def test_an_old_log_gains_the_label_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(predlog_db.schema_sql(predlog.INPUT_COLUMNS, postgres=False))
    conn.close()
    log = PredictionLog(path).start()
    try:
        log.append([_row("a", 1.0)]).result()
        log.add_feedback([Feedback("a", 1, source="open:127.0.0.1")]).result()
    finally:
        log.close()
    assert predlog.read_window(path)["label_source"].tolist() == ["open:127.0.0.1"]


def test_concurrent_writers_share_the_file(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    logs = [PredictionLog(path).start() for _ in range(3)]

    def write(k: int) -> None:
        for i in range(20):
            logs[k].append([_row(f"{k}-{i}-{j}", float(i)) for j in range(10)]).result()

    threads = [threading.Thread(target=write, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for one in logs:
        one.close()
    assert predlog.counts(path)["predictions"] == 600
    conn = predlog.connect(path, readonly=True)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_acknowledged_rows_survive_a_killed_process(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    code = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from predmaint.service.predlog import PredictionLog
        log = PredictionLog(Path({str(path)!r})).start()
        for i in range(50):
            log.append([({{}}.get(0, f"r{{i}}"), float(i), "L", 300.0, 310.0, 1500.0, 40.0, 1.0,
                         0.1, 0, 0.3, "", "m", "1")]).result()
        print("acknowledged", flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "acknowledged"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert predlog.counts(path)["predictions"] == 50
