"""Ingestion: land the AI4I table once, byte for byte, in ``data/raw/``.

Sources are tried in the order of ``data.source_order`` in params.yaml:

1. ``path`` — the real UCI CSV at ``data.csv_path`` (``PREDMAINT_DATA_PATH``);
2. ``url`` — the upstream UCI zip, when the machine is online (its sha256 is recorded);
3. ``simulator`` — the built-in generator of the documented process, with a loud banner.

Only a *missing* source falls through to the next: no file at ``data.csv_path``, or a download
that did not happen (offline, timeout, HTTP error). A file that is there but cannot be read or is
not the AI4I table (no data rows, a symbolic link to nothing or a link loop included), or a
download that arrives but is not the expected zip/table, stops the ingest with one line naming
the file and the reason, and nothing is written: bad data must never turn into simulated data
silently. The simulator is used only when ``data.source_order`` lists it.

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
from predmaint.data.simulate import simulate
from predmaint.data.source_file import IngestError, SourceMissingError, read_source_file
from predmaint.data.source_file import reason as _reason

__all__ = ["IngestError", "SourceMissingError", "SourceResult", "fetch", "ingest"]

log = logging.getLogger(__name__)

SIMULATOR_BANNER = """
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!!  NO REAL DATA: {reason}.
!!  Falling back to the built-in SIMULATOR ({rows} rows, seed {seed}).
!!  Lineage records source: simulator. Set PREDMAINT_DATA_PATH to use real data.
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
"""


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
    payload = read_source_file(path)  # missing → SourceMissingError; unreadable or not AI4I → IngestError
    try:
        if tables.read_table(payload).empty:
            raise ValueError("the table has a header but no data rows")
    except Exception as exc:
        raise IngestError(f"{path}: cannot ingest the configured data file: {_reason(exc)}") from None
    return SourceResult("path", payload, {"source_path": str(path), "sha256": _sha256(payload)})


def from_url(params: Params) -> SourceResult:
    """Download the upstream UCI zip and extract the CSV member."""
    url = params.data.url
    try:
        with urllib.request.urlopen(url, timeout=params.data.download_timeout_s) as resp:
            archive = resp.read()
    except OSError as exc:  # URLError, HTTPError, timeouts: the download did not happen
        raise SourceMissingError(f"download of {url} failed: {_reason(exc)}") from None
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zf:
            payload = zf.read(params.data.url_member)
        tables.read_table(payload)
    except Exception as exc:
        raise IngestError(f"{url}: the download is not the AI4I table: {_reason(exc)}") from None
    return SourceResult("url", payload, {"url": url, "zip_sha256": _sha256(archive), "sha256": _sha256(payload)})


def from_simulator(params: Params) -> SourceResult:
    """Generate an AI4I-compatible table with the built-in simulator."""
    frame = simulate(params.simulator, params.physics, rows=params.data.simulator_rows)
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
            missing = "; ".join(failures.values()) or "the simulator is the first source in data.source_order"
            print(
                SIMULATOR_BANNER.format(reason=missing, rows=params.data.simulator_rows, seed=params.simulator.seed),
                flush=True,
            )
        try:
            result = SOURCES[name](params)
        except SourceMissingError as exc:
            failures[name] = str(exc)
            log.debug("source %s unavailable: %s", name, failures[name])  # named in the banner or the error
            continue
        result.details["tried"] = failures
        return result
    raise IngestError(
        "no source produced the AI4I table (data.source_order): " + "; ".join(f"{k}: {v}" for k, v in failures.items())
    )


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
