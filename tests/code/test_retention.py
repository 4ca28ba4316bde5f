"""Retention of the prediction log (issue 18 item 6): archive to Parquet data versions, then delete.

A real SQLite log (the PostgreSQL variant is in tests/integration/test_predlog_postgres.py): rows beyond
the horizon whose labels were used or never came move to Parquet files recorded in the manifest, labelled
rows no retraining has used stay, and reads across the archive return what they returned before.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from predmaint.config import ConfigError, RetentionParams, load_params
from predmaint.data.lineage import Manifest, file_md5
from predmaint.service import predlog
from predmaint.service.predlog import Feedback, PredictionLog
from predmaint.service.predlog_db import Location
from predmaint.service.retention import STAGE, mark_used, prune
from tests.code.test_service_predlog import _row

NOW = 1_000_000.0
DAY = 86_400.0


def fill(where: Location) -> None:
    """Nine predictions: four labelled (with a source), one labelled without one, four unlabelled."""
    log = PredictionLog(where).start()
    try:
        old = [("u1", 10.0), ("k1", 15.0), ("u2", 20.0), ("u3", 30.0), ("u4", 40.0), ("e1", 50.0), ("e2", 60.0)]
        log.append([_row(rid, ts) for rid, ts in old]).result()
        log.append([_row("n1", 70.0), _row("r1", NOW - 100.0)]).result()
        labels = [
            Feedback(r, 1 if r == "u2" else 0, "OSF" if r == "u2" else None, "token:plant")
            for r in ["u1", "u2", "u3", "u4", "k1"]
        ]
        log.add_feedback([*labels, Feedback("n1", 0)]).result()  # n1: no source, so never usable
    finally:
        log.close()


def used_version(tmp_path: Path) -> tuple[Manifest, str]:
    """A manifest holding the labelled-production version a retraining made from the log."""
    manifest = Manifest(tmp_path / "manifest.csv", tmp_path)
    labelled = tmp_path / "labelled.csv"
    labelled.write_text("x\n1\n")
    return manifest, manifest.record(labelled, stage="labelled_production", rows=1).version_id


def run(where: Location, tmp_path: Path) -> None:
    """Fill a log, mark u1–u4 used, prune (horizon 2 rows, 1-day label expiry, 2 rows per file), check."""
    fill(where)
    manifest, version = used_version(tmp_path)
    trusted = predlog.read_window(where).query("request_id in ['u1', 'u2', 'u3', 'u4']")
    assert mark_used(where, trusted, version) == 4
    before = {
        "all": predlog.read_window(where),
        "newest 6": predlog.read_window(where, limit=6),
        "since 25": predlog.read_window(where, since=25.0),
        "since 25, newest 3": predlog.read_window(where, since=25.0, limit=3),
    }
    folder = tmp_path / "archive"
    retention = RetentionParams(horizon_rows=2, label_expiry_days=1, archive_batch_rows=2)
    done = prune(where, folder, retention, manifest, now=NOW)

    # archivable, newest first: n1 (no source) 70, e2 60, e1 50, u4 40 … u1 10; the newest 2 stay
    assert done.archived == 5 and done.cutoff == 50.0 and len(done.files) == 3
    live = predlog.read_window(where)
    assert sorted(live["request_id"]) == ["e2", "k1", "n1", "r1"], "k1 (labelled, unused) and the horizon stay"
    archived = pd.concat([pd.read_parquet(p) for p in done.files])
    assert sorted(archived["request_id"]) == ["e1", "u1", "u2", "u3", "u4"]
    rows = {v.version_id: v for v in manifest.read() if v.stage == STAGE}
    assert list(rows) == done.versions
    for path, version_id in zip(done.files, done.versions, strict=True):
        row = rows[version_id]
        assert row.md5 == file_md5(path) and row.path == path.relative_to(tmp_path).as_posix()
    assert any(version in row.parents for row in rows.values()), "the archive's lineage names the retraining"

    after = {
        "all": predlog.read_window(where, archive=folder),
        "newest 6": predlog.read_window(where, limit=6, archive=folder),
        "since 25": predlog.read_window(where, since=25.0, archive=folder),
        "since 25, newest 3": predlog.read_window(where, since=25.0, limit=3, archive=folder),
    }
    for name, frame in before.items():
        pd.testing.assert_frame_equal(after[name], frame, obj=name)
    again = prune(where, folder, retention, manifest, now=NOW)
    assert again.archived == 0 and not again.files, "a second prune finds nothing more"


def test_prune_archives_beyond_the_horizon_and_reads_span_the_archive(tmp_path: Path) -> None:
    run(tmp_path / "predictions.db", tmp_path)


def test_a_label_corrected_after_use_or_during_archiving_stays_live(tmp_path: Path) -> None:
    where = tmp_path / "predictions.db"
    fill(where)
    manifest, version = used_version(tmp_path)
    mark_used(where, predlog.read_window(where).query("request_id in ['u1', 'u2']"), version)
    log = PredictionLog(where).start()
    try:
        log.add_feedback([Feedback("u1", 1, correction=True, source="token:plant")]).result()
    finally:
        log.close()
    retention = RetentionParams(horizon_days=0.5, label_expiry_days=1, archive_batch_rows=100)
    done = prune(where, tmp_path / "archive", retention, manifest, now=NOW)
    live = set(predlog.read_window(where)["request_id"])
    assert "u1" in live and "u2" not in live, "a corrected label is no longer 'used': it stays"
    assert {"u3", "u4", "k1", "r1"} <= live and done.archived == 4  # u2, e1, e2, n1


def test_a_row_whose_label_changes_while_archived_stays_and_is_read_live(tmp_path: Path) -> None:
    from predmaint.service import retention as r

    where = tmp_path / "predictions.db"
    fill(where)
    conn = predlog.connect(where)
    try:
        rows = r._batch(conn, NOW - DAY, 55.0, (float("-inf"), ""), 10)  # e1 (50): unlabelled, expired
        assert rows["request_id"].tolist() == ["e1"]
        log = PredictionLog(where).start()
        log.add_feedback([Feedback("e1", 1, source="token:plant")]).result()  # a late label arrives
        log.close()
        assert r._delete(conn, rows) == 1
    finally:
        conn.close()
    archive = tmp_path / "archive"
    r._write(rows[[*r.RAW_COLUMNS, "used_by"]], archive)
    frame = predlog.read_window(where, archive=archive).set_index("request_id")
    assert frame.loc["e1", "target"] == 1.0 and frame.index.is_unique, "the live copy (with its label) wins"


def test_retention_settings_are_validated(tmp_path: Path) -> None:
    text = Path("params.yaml").read_text()
    (tmp_path / "params.yaml").write_text(text.replace("  horizon_days: null", "  horizon_days: 30"))
    with pytest.raises(ConfigError, match=r"retention.*exactly one of horizon_rows and horizon_days"):
        load_params(tmp_path / "params.yaml", environ={})
    with pytest.raises(ConfigError, match=r"retention\.label_expiry_days"):
        load_params(Path("params.yaml"), environ={"PREDMAINT_RETENTION__LABEL_EXPIRY_DAYS": "0"})


def test_predmaint_log_prune_and_status(tmp_path: Path) -> None:
    """The CLI on a project: a dry run changes nothing, a prune archives and names the data versions."""
    from typer.testing import CliRunner

    from predmaint.cli import app
    from tests.conftest import make_project

    params = make_project(tmp_path / "proj")
    where = predlog.location(params)
    fill(where)  # the clock's now: every row is days old, so the unlabelled ones have expired
    args = ["--params", str(params.root / "params.yaml"), "log"]
    env = {"PREDMAINT_RETENTION__HORIZON_ROWS": "1"}
    dry = CliRunner().invoke(app, [*args, "prune", "--dry-run"], env=env)
    assert dry.exit_code == 0 and "3 rows would be archived" in dry.output, dry.output
    assert predlog.counts(where)["predictions"] == 9
    done = CliRunner().invoke(app, [*args, "prune"], env=env)
    assert done.exit_code == 0 and "3 rows archived" in done.output and "_prediction_archive" in done.output, (
        done.output
    )
    assert predlog.counts(where)["predictions"] == 6, "k1 and u1–u4 (labelled, unused) and the newest stay"
    status = CliRunner().invoke(app, [*args, "status"])
    assert "6 predictions, 5 labelled" in status.output and "1 Parquet file(s)" in status.output, status.output


def test_archive_files_are_pushed_to_the_dvc_remote_without_a_pointer_left(tmp_path: Path) -> None:
    """In a DVC repository each archive file is a data version: in the cache and the remote by its md5."""
    import subprocess

    from predmaint.data.dvc import dvc_env

    remote = tmp_path / "remote"
    for cmd in (["dvc", "init", "--no-scm", "-q"], ["dvc", "remote", "add", "-d", "local", str(remote)]):
        subprocess.run(cmd, cwd=tmp_path, env=dvc_env(), check=True, capture_output=True)
    where = tmp_path / "predictions.db"
    fill(where)
    manifest, version = used_version(tmp_path)
    mark_used(where, predlog.read_window(where).query("request_id in ['u1', 'u2', 'u3', 'u4']"), version)
    retention = RetentionParams(horizon_rows=2, label_expiry_days=1, archive_batch_rows=2)
    done = prune(where, tmp_path / "data" / "archive", retention, manifest, now=NOW)
    assert done.dvc and done.files
    rows = {v.version_id: v for v in manifest.read()}
    for path, version_id in zip(done.files, done.versions, strict=True):
        md5 = rows[version_id].md5
        assert md5 == file_md5(path)
        for store in (remote, tmp_path / ".dvc" / "cache"):
            assert (store / "files" / "md5" / md5[:2] / md5[2:]).is_file(), f"{path.name} not in {store}"
        assert not Path(f"{path}.dvc").exists(), "a run-time pointer would be an untracked file in git"
