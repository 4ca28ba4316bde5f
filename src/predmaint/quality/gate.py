"""The data-quality gate: validate a batch against a suite, report, quarantine or record.

``validate_file`` is what the CLI, the DVC stage and the flows call: a batch that fails a blocking
expectation (or cannot be parsed) is *moved* to ``<paths.quarantine_dir>/<UTC time>_<name>/`` with
the result JSON and a readable ``REASON.txt``, and :class:`GateError` is raised. A passing batch's
result is stored under ``paths.validation_dir`` and recorded in the lineage manifest. An
expectation that raised is a broken check (:class:`CheckError`): the data is not judged or moved.
"""

from __future__ import annotations

import logging
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from predmaint.config import Params
from predmaint.data.lineage import Manifest, file_md5
from predmaint.data.split import FEATURES_FILE, day_dir
from predmaint.quality import results
from predmaint.quality.contract import Contract, load_contract
from predmaint.quality.report import classify
from predmaint.quality.results import CheckError, GateError, GateResult, format_summary
from predmaint.quality.structure import ParseError, read_batch, structural_failures

__all__ = [
    "CheckError",
    "GateError",
    "GateResult",
    "validate_file",
    "validate_frame",
    "validate_production_day",
]

_RUNNERS: dict[tuple[str, str], Any] = {}


def quiet_gx_logging() -> None:
    """Keep GX's import-time INFO chatter out of the gate's report (call before importing GX)."""
    logging.getLogger("great_expectations").setLevel(logging.WARNING)


def _runner(contract: Contract) -> Any:
    """The GX suite runner of this contract version, built once per process."""
    key = (contract.source, contract.digest)
    if key not in _RUNNERS:
        quiet_gx_logging()
        from predmaint.quality.suites import SuiteRunner

        _RUNNERS[key] = SuiteRunner(contract)
    return _RUNNERS[key]


def _summary(suite: str, name: str, frame: pd.DataFrame | None, contract: Contract) -> dict[str, Any]:
    return {
        "suite": suite,
        "name": name,
        "rows": None if frame is None else len(frame),
        "columns": None if frame is None else [str(c) for c in frame.columns],
        "contract_version": contract.version,
        "contract_sha256": contract.digest,
        "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "failures": [],
        "warnings": [],
        "check_errors": [],
    }


def validate_frame(params: Params, frame: pd.DataFrame, suite: str, name: str) -> GateResult:
    """Validate a table in memory against ``suite``; nothing is written or moved.

    Args:
        params: The project parameters (contract path, number of example rows).
        frame: The batch, columns in any order, values as read (not coerced).
        suite: ``raw`` or ``production`` (a suite of the contract).
        name: A name for the batch in the summary.

    Returns:
        The result: ``success`` is False if a blocking expectation failed or a check errored.
    """
    contract = load_contract(params)
    limit = params.quality.example_rows
    frame = frame.reset_index(drop=True)
    summary = _summary(suite, name, frame, contract)
    structural = structural_failures(frame, contract, suite, limit)
    gx_dict = None
    if structural:
        summary.update(stage="structure", failures=structural)
    else:
        from great_expectations import __version__ as gx_version

        from predmaint.quality.suites import add_derived, derived_columns

        started = time.perf_counter()
        batch = add_derived(frame, derived_columns(contract, suite))
        gx_result = _runner(contract).validate(batch, suite, limit)
        summary.update(stage="expectations", gx_version=gx_version, **classify(gx_result, frame, limit))
        summary["statistics"] = dict(gx_result.statistics)
        summary["validate_seconds"] = round(time.perf_counter() - started, 4)
        gx_dict = gx_result.to_json_dict()
    summary["success"] = not summary["failures"] and not summary["check_errors"]
    spec = contract.suite(suite)
    counts = {r: 0 for r in spec.rules if not contract.rules[r].blocking and summary["stage"] == "expectations"}
    for warning in summary["warnings"]:
        key = warning["rule"] or warning["check"]
        counts[key] = counts.get(key, 0) + int(warning.get("unexpected_count", 0))
    summary["warning_counts"] = counts
    return GateResult(success=summary["success"], summary=results.to_jsonable(summary), gx_result=gx_dict)


def quarantine(params: Params, path: Path, result: GateResult) -> Path:
    """Move ``path`` to a new quarantine folder with the result JSON and a REASON.txt.

    Returns:
        The quarantine folder ``<paths.quarantine_dir>/<UTC timestamp>_<file stem>/``.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder = params.path(params.paths.quarantine_dir) / f"{stamp}_{path.stem}"
    folder.mkdir(parents=True, exist_ok=False)
    moved = Path(shutil.move(str(path), str(folder / path.name)))
    result.summary["quarantined_to"] = str(moved)
    result.quarantine_dir = folder
    results.write_result(folder / results.RESULT_FILE, result)
    (folder / results.REASON_FILE).write_text(
        f"{format_summary(result.summary)}\n\nOriginal location: {path}\n"
        "Nothing was repaired or dropped: fix the source and re-ingest,\n"
        "or move the file back deliberately.\n",
        encoding="utf-8",
    )
    return folder


def _record(params: Params, path: Path, result_path: Path, result: GateResult) -> None:
    manifest = Manifest(params.path(params.paths.manifest), params.root)
    parent = manifest.latest_for(path)
    parents = (parent.version_id,) if parent is not None and parent.md5 == result.summary["md5"] else ()
    s = result.summary
    details = {
        "suite": s["suite"],
        "validated": str(path),
        "validated_md5": s["md5"],
        "success": s["success"],
        "statistics": s.get("statistics"),
        "warning_counts": s.get("warning_counts"),
        "contract_sha256": s["contract_sha256"],
        "checked_at": s.get("checked_at"),
        "validate_seconds": s.get("validate_seconds"),
    }
    manifest.record(result_path, stage="validate", rows=int(s["rows"] or 0), parents=parents, details=details)


def validate_file(params: Params, path: Path, suite: str, result_dir: Path | None = None) -> GateResult:
    """The gate for one CSV file: validate, then store the result or quarantine the file.

    The stored result is deterministic (``results.stable``); the time and place of the check go to
    the manifest row.

    Args:
        params: The project parameters.
        path: The CSV batch (BOM or not, CRLF or LF, any column order).
        suite: ``raw`` or ``production``.
        result_dir: Store the result here instead of ``<paths.validation_dir>/<suite>`` (a folder
            that no DVC stage owns, for data versions made at run time such as retraining windows).

    Returns:
        The passing result, stored at ``result.result_path`` and recorded in the manifest.

    Raises:
        GateError: A blocking expectation failed or the file could not be parsed; the file has
            been moved to quarantine and the message names every failure with counts and examples.
        CheckError: An expectation raised; the file stays where it is and the result is stored
            with ``success: false`` so later stages still refuse it.
        FileNotFoundError: ``path`` does not exist.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"no file to validate at {path}")
    md5 = file_md5(path)
    load_contract(params).suite(suite)
    try:
        frame = read_batch(path)
    except ParseError as exc:
        contract = load_contract(params)
        summary = _summary(suite, path.name, None, contract)
        summary.update(stage="parse", success=False)
        summary["failures"] = [{"check": "parse", "column": None, "blocking": True, "message": str(exc)}]
        result = GateResult(success=False, summary=summary)
    else:
        result = validate_frame(params, frame, suite, path.name)
    result.summary.update(source=str(path), md5=md5)
    if result.summary["failures"]:
        folder = quarantine(params, path, result)
        raise GateError(f"{format_summary(result.summary)}\nquarantined to {folder}", result)
    target = results.result_file(params, suite, path.stem, md5, result_dir)
    result.result_path = results.write_result(target, result, deterministic=True)
    if result.summary["check_errors"]:
        raise CheckError(
            f"CHECK ERROR — the suite is broken, the data was not judged and stays in place.\n"
            f"{format_summary(result.summary)}\nresult: {result.result_path}",
            result,
        )
    _record(params, path, result.result_path, result)
    return result


def validate_production_day(params: Params, day: int) -> GateResult:
    """Gate production day ``day``'s features with the ``production`` suite (see :func:`validate_file`)."""
    return validate_file(params, day_dir(params, day) / FEATURES_FILE, "production")
