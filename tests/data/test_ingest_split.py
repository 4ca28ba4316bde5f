"""Ingestion, the chronological split and the lineage manifest, on real and simulated data."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from predmaint import schema
from predmaint.config import Params, load_params
from predmaint.data.tables import read_table
from predmaint.data.ingest import IngestError, ingest
from predmaint.data.lineage import Manifest, file_md5
from predmaint.data.split import chronological_split, load_day, production_days, split
from tests.conftest import REAL_DATA, make_project, needs_real_data


def _manifest(params: Params) -> Manifest:
    return Manifest(params.path(params.paths.manifest), params.root)


@needs_real_data
def test_ingest_lands_real_bytes_once_and_read_only(real_params: Params) -> None:
    version = ingest(real_params)
    raw = real_params.path(real_params.paths.raw_file)
    assert raw.read_bytes() == REAL_DATA.read_bytes()
    assert version.details["source"] == "path"
    assert version.details["sha256"] == hashlib.sha256(REAL_DATA.read_bytes()).hexdigest()
    assert version.md5 == file_md5(raw) and version.rows == 10_000
    assert not raw.stat().st_mode & 0o222
    assert ingest(real_params).version_id == version.version_id
    assert len(_manifest(real_params).read()) == 1


@needs_real_data
def test_ingest_refuses_to_modify_raw(real_params: Params, tmp_path: Path) -> None:
    ingest(real_params)
    other = tmp_path / "other.csv"
    frame = pd.read_csv(REAL_DATA, encoding="utf-8-sig")
    frame.iloc[:50].to_csv(other, index=False)
    changed = make_project(real_params.root, data={"csv_path": str(other), "source_order": ["path"]})
    with pytest.raises(IngestError, match="immutable"):
        ingest(changed)
    assert file_md5(real_params.path(real_params.paths.raw_file)) == file_md5(REAL_DATA)


def test_robust_read_handles_bom_crlf_and_column_order(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        [[1, "M14860", "M", 298.1, 308.6, 1551, 42.8, 0, 0, 0, 0, 0, 0, 0]], columns=list(schema.ALL_COLUMNS)
    )
    shuffled = frame[list(reversed(schema.ALL_COLUMNS))]
    payload = "\ufeff" + shuffled.to_csv(index=False, lineterminator="\r\n")
    path = tmp_path / "x.csv"
    path.write_bytes(payload.encode())
    back = read_table(path)
    assert list(back.columns) == list(schema.ALL_COLUMNS)
    pd.testing.assert_frame_equal(back, frame)


def test_chronological_split_keeps_time_order() -> None:
    frame = pd.DataFrame({schema.UDI: range(1, 101)})
    ref, batches = chronological_split(frame, train_rows=70, production_rows=30, batch_size=10)
    assert ref[schema.UDI].tolist() == list(range(1, 71))
    assert [b[schema.UDI].iloc[0] for b in batches] == [71, 81, 91]
    with pytest.raises(ValueError, match="needs 110 rows"):
        chronological_split(frame, 100, 10, 5)


def _ingest_and_split(params: Params) -> None:
    from predmaint.quality.gate import validate_file

    ingest(params)
    raw = params.path(params.paths.raw_file)
    validate_file(params, raw, "raw")
    split(params, source=raw)


@needs_real_data
def test_split_real_data_days_labels_apart_and_manifest(real_params: Params) -> None:
    _ingest_and_split(real_params)
    ref = read_table(real_params.path(real_params.paths.reference_raw))
    assert len(ref) == 7000 and ref[schema.UDI].iloc[-1] == 7000
    assert production_days(real_params) == [1, 2, 3, 4, 5, 6]
    feats, labels = load_day(real_params, 1)
    assert feats[schema.UDI].iloc[0] == 7001 and len(feats) == 500
    assert not set(schema.LABEL_COLUMNS) & set(feats.columns)
    assert (feats[schema.UDI] == labels[schema.UDI]).all()
    hdf = sum(int(load_day(real_params, d)[1]["HDF"].sum()) for d in production_days(real_params))
    assert hdf == 0
    manifest = _manifest(real_params)
    recorded = {v.path for v in manifest.read()}
    days = sorted(real_params.path(real_params.paths.production_dir).rglob("*.csv"))
    written = [real_params.path(real_params.paths.reference_raw), *days]
    for path in written:
        rel = path.relative_to(real_params.root).as_posix()
        assert rel in recorded, f"manifest lacks a row for {rel}"
        assert manifest.latest_for(rel).md5 == file_md5(path)  # type: ignore[union-attr]
    chain = manifest.chain("data/production/day_03/labels.csv")
    assert [v.stage for v in chain] == ["split", "ingest"]


@needs_real_data
def test_changed_split_size_changes_output(tmp_path: Path) -> None:
    a = make_project(tmp_path / "a", data={"source_order": ["path"]})
    b = make_project(tmp_path / "b", data={"source_order": ["path"]}, split={"batch_size": 300})
    for p in (a, b):
        _ingest_and_split(p)
    assert production_days(a) == [1, 2, 3, 4, 5, 6]
    assert production_days(b) == list(range(1, 11))
    assert len(load_day(b, 1)[0]) == 300


def test_changed_seed_changes_simulated_raw(tmp_path: Path) -> None:
    a = make_project(tmp_path / "a", data={"source_order": ["simulator"], "simulator_rows": 10_000})
    b = make_project(
        tmp_path / "b", data={"source_order": ["simulator"], "simulator_rows": 10_000}, simulator={"seed": 7}
    )
    ingest(a)
    ingest(b)
    raw_a, raw_b = (p.path(p.paths.raw_file) for p in (a, b))
    assert file_md5(raw_a) != file_md5(raw_b)
    assert _manifest(a).read()[0].details["source"] == "simulator"


def test_params_file_is_required_by_every_stage(tmp_path: Path) -> None:
    from predmaint.config import ConfigError

    with pytest.raises(ConfigError, match="params file not found"):
        load_params(tmp_path / "params.yaml", environ={})


def test_ingest_from_the_upstream_zip_records_its_hashes(tmp_path: Path) -> None:
    """The URL source on a loopback HTTP server: the zip is fetched, its member landed, both hashed."""
    import http.server
    import io
    import threading
    import zipfile

    from predmaint.data.simulate import simulate

    params = make_project(tmp_path / "proj", data={"source_order": ["simulator"]})
    payload = simulate(params.simulator, params.physics, rows=1200).to_csv(index=False, lineterminator="\r\n").encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("ai4i2020.csv", payload)
    archive = buf.getvalue()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(archive)))
            self.end_headers()
            self.wfile.write(archive)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/ai4i.zip"
        online = make_project(tmp_path / "online", data={"source_order": ["url"], "url": url})
        version = ingest(online)
    finally:
        server.shutdown()
    raw = online.path(online.paths.raw_file)
    assert raw.read_bytes() == payload
    assert version.details["source"] == "url" and version.details["url"] == url
    assert version.details["zip_sha256"] == hashlib.sha256(archive).hexdigest()
    assert version.details["sha256"] == hashlib.sha256(payload).hexdigest()
    assert version.rows == 1200
