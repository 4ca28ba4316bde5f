"""The prediction log in PostgreSQL: same tables and answers as SQLite, shared by several writers.

Runs against a throw-away server started from the machine's PostgreSQL binaries in a temp folder
(the ``postgres`` fixture of tests/integration/test_postgres.py); skipped, with the reason, without them.
"""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import pandas as pd
import pytest

from predmaint.config import Params, load_params
from predmaint.monitoring.sources import LOG_WINDOW, load_window
from predmaint.service import predlog
from predmaint.service.predlog import Feedback, PredictionLog, UnknownRequestIdsError
from predmaint.service.predlog_db import display
from tests.code.test_service_predlog import _row
from tests.integration.test_postgres import Server, postgres  # noqa: F401 (the server fixture)

_names = itertools.count()


@pytest.fixture
def url(postgres: Server) -> str:  # noqa: F811 (the fixture imported above)
    """A fresh database owned by a password-protected role, reached over TCP like a compose service."""
    import psycopg2

    name = f"predlog{next(_names)}"
    conn = psycopg2.connect(host=str(postgres.socket_dir), port=postgres.port, user="postgres", dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DO $$BEGIN CREATE ROLE predlog LOGIN PASSWORD 'predlog-pw'; EXCEPTION WHEN duplicate_object "
                    "THEN NULL; END$$")  # fmt: skip
        cur.execute(f"CREATE DATABASE {name} OWNER predlog")
    conn.close()
    return postgres.url("predlog", "predlog-pw", name)


def test_same_tables_and_answers_as_sqlite(url: str, tmp_path: Path) -> None:
    frames = []
    for where in (url, tmp_path / "predictions.db"):
        log = PredictionLog(where).start()
        try:
            log.append([_row("a", 100.0), _row("b", 200.0, "2")]).result()
            log.append([_row("c", 300.0)]).result()
            assert log.add_feedback([Feedback("a", 1, "OSF")]).result().recorded == ["a"]
            again = log.add_feedback([Feedback("a", 1, "OSF")]).result()
            assert again.unchanged == ["a"] and not again.recorded, "feedback is idempotent"
            with pytest.raises(UnknownRequestIdsError):
                log.add_feedback([Feedback("b", 0), Feedback("nope", 1)]).result()
            assert log.add_feedback([Feedback("a", 0, correction=True)]).result().updated == ["a"]
        finally:
            log.close()
        frames.append(predlog.read_window(where).drop(columns=["feedback_timestamp"]))
        assert list(predlog.read_window(where, since=100.0, limit=1)["request_id"]) == ["c"]
        assert predlog.counts(where) == {"predictions": 3, "labelled": 1}
    pd.testing.assert_frame_equal(frames[0], frames[1])
    assert frames[0].loc[0, "target"] == 0 and pd.isna(frames[0].loc[1, "target"]), "unknown ids changed nothing"


def test_replicas_share_one_log_with_group_commit(url: str) -> None:
    replicas = [PredictionLog(url).start() for _ in range(3)]
    try:

        def write(k: int) -> None:
            pending = [replicas[k].append([_row(f"{k}-{i}-{j}", float(i)) for j in range(5)]) for i in range(40)]
            for future in pending:
                assert future.result(60) == 5

        threads = [threading.Thread(target=write, args=(k,)) for k in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(r.transactions for r in replicas) < 3 * 40, "batches queued together share a commit"
        assert all(r.errors == 0 for r in replicas)
    finally:
        for r in replicas:
            r.close()
    assert predlog.counts(url)["predictions"] == 3 * 40 * 5


def test_monitoring_and_retraining_read_the_url_from_params(url: str, sim_params: Params) -> None:
    params = load_params(sim_params.root / "params.yaml", environ={"PREDMAINT_PATHS__PREDICTION_LOG_URL": url})
    assert predlog.location(params) == url and "predlog-pw" not in display(url)
    log = PredictionLog(predlog.location(params)).start()
    try:
        log.append([_row(f"m{i}", 10.0 + i) for i in range(30)]).result()
    finally:
        log.close()
    window = load_window(params, LOG_WINDOW, rows=20)
    assert list(window["request_id"]) == [f"m{i}" for i in range(10, 30)]
    assert not params.path(params.paths.prediction_log).exists(), "nothing went to the SQLite file"


def test_retention_prunes_a_postgresql_log_like_sqlite(url: str, tmp_path: Path) -> None:
    """The same prune as tests/code/test_retention.py, on PostgreSQL: archived, kept, reads unchanged."""
    from tests.code.test_retention import run

    run(url, tmp_path)
