"""Ingestion: land the AI4I table once, byte for byte, in ``data/raw/``.

Sources are tried in the order of ``data.source_order`` in params.yaml:

1. ``path`` — the real UCI CSV at ``data.csv_path`` (``PREDMAINT_DATA_PATH``);
2. ``url`` — the upstream UCI zip, when the machine is online (its sha256 is recorded);
3. ``simulator`` — the built-in generator of the documented process, with a loud banner.

The raw file is written read-only and never modified afterwards; the manifest gets a row with the
source. Ingesting again with the same bytes is a no-op; different bytes are refused.
"""

from __future__ import annotations

import hashlib
import io
import logging
import urllib.request
import zipfile
from dataclasses import dataclass, field
from typing import Any

from predmaint.data import tables
from predmaint.config import Params
from predmaint.data.lineage import DataVersion, Manifest

log = logging.getLogger(__name__)

SIMULATOR_BANNER = """
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!!  NO REAL DATA: the AI4I CSV was not found at {path}
!!  and the UCI download failed ({reason}).
!!  Falling back to the built-in SIMULATOR ({rows} rows, seed {seed}).
!!  Lineage records source: simulator. Set PREDMAINT_DATA_PATH to use real data.
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
"""


class IngestError(RuntimeError):
    """No source yielded the table, or the raw file would be modified."""


@dataclass
class SourceResult:
    """The bytes a source produced and what to record about them."""

    source: str
    payload: bytes
    details: dict[str, Any] = field(default_factory=dict)


def _sha256(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def from_path(params: Params) -> SourceResult:
    """Read the configured CSV file."""
    path = params.path(params.data.csv_path)
    if not path.is_file():
        raise FileNotFoundError(f"no file at {path}")
    payload = path.read_bytes()
    tables.read_table(payload)
    return SourceResult("path", payload, {"source_path": str(path), "sha256": _sha256(payload)})


def from_url(params: Params) -> SourceResult:
    """Download the upstream UCI zip and extract the CSV member."""
    url = params.data.url
    with urllib.request.urlopen(url, timeout=params.data.download_timeout_s) as resp:
        archive = resp.read()
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        payload = zf.read(params.data.url_member)
    tables.read_table(payload)
    return SourceResult("url", payload, {"url": url, "zip_sha256": _sha256(archive), "sha256": _sha256(payload)})


def from_simulator(params: Params) -> SourceResult:
    """Generate an AI4I-compatible table with the built-in simulator."""
    from predmaint.data.simulate import simulate

    frame = simulate(params, rows=params.data.simulator_rows)
    payload = frame.to_csv(index=False, lineterminator="\n").encode()
    return SourceResult(
        "simulator",
        payload,
        {"seed": params.simulator.seed, "rows": params.data.simulator_rows, "sha256": _sha256(payload)},
    )


SOURCES = {"path": from_path, "url": from_url, "simulator": from_simulator}


def fetch(params: Params) -> SourceResult:
    """Try the sources in the configured order and return the first that works."""
    failures: dict[str, str] = {}
    for name in params.data.source_order:
        if name == "simulator":
            print(
                SIMULATOR_BANNER.format(
                    path=params.path(params.data.csv_path),
                    reason=failures.get("url", "not tried"),
                    rows=params.data.simulator_rows,
                    seed=params.simulator.seed,
                ),
                flush=True,
            )
        try:
            result = SOURCES[name](params)
        except Exception as exc:
            failures[name] = f"{type(exc).__name__}: {exc}"
            log.warning("source %s unavailable: %s", name, failures[name])
            continue
        result.details["tried"] = failures
        return result
    raise IngestError("no source produced the AI4I table: " + "; ".join(f"{k}: {v}" for k, v in failures.items()))


def ingest(params: Params) -> DataVersion:
    """Land the raw table in ``paths.raw_file`` (read-only) and record it in the manifest.

    Raises:
        IngestError: No source worked, or a different raw file is already in place.
    """
    result = fetch(params)
    raw = params.path(params.paths.raw_file)
    manifest = Manifest(params.path(params.paths.manifest), params.root)
    if raw.exists():
        if raw.read_bytes() != result.payload:
            raise IngestError(
                f"{raw} exists with different content; raw data is immutable. "
                "Remove it deliberately (or `dvc checkout` another version) to ingest a new source."
            )
    else:
        raw.parent.mkdir(parents=True, exist_ok=True)
        tmp = raw.with_suffix(".tmp")
        tmp.write_bytes(result.payload)
        tmp.replace(raw)
    raw.chmod(0o444)
    rows = len(tables.read_table(result.payload))
    return manifest.record(raw, stage="ingest", rows=rows, details={"source": result.source, **result.details})
