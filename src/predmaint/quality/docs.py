"""Great Expectations Data Docs: the suites and every stored validation result as a static site.

The gate runs GX in memory, so no GX project folder exists; the result JSON files it stored (passing
ones under ``paths.validation_dir``, failing ones in quarantine) are loaded back into a fresh
in-memory context and rendered to ``paths.data_docs_dir`` (git-ignored). Open its ``index.html``.

GX's own status counts non-blocking warnings as failures, so each run is named after the gate's
verdict (``gate-passed_…``, ``gate-rejected_…``, ``gate-check-error_…``), its success is the gate's,
and its page states the verdict with the warnings counted. The data asset is the batch's name.
The pages use vendored copies of their CSS/JS (:mod:`predmaint.quality.site`), so they render
styled without internet.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResultSchema
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)

from predmaint.config import Params
from predmaint.quality import results
from predmaint.quality.contract import load_contract
from predmaint.quality.site import localize, show_verdict
from predmaint.quality.suites import build_context

SITE = "predmaint"


@dataclass
class DocsBuild:
    """What the Data Docs build rendered."""

    index: Path
    rendered: list[Path] = field(default_factory=list)
    without_gx_result: list[Path] = field(default_factory=list)


def stored_results(params: Params) -> list[Path]:
    """Every stored result file: passing/errored ones and quarantined ones, oldest first by name."""
    passed = sorted(params.path(params.paths.validation_dir).glob("*/*.json"))
    passed += sorted(params.path(params.paths.retrain_dir).glob("*.json"))  # retraining windows' gate results
    rejected = sorted(params.path(params.paths.quarantine_dir).glob(f"*/{results.RESULT_FILE}"))
    return passed + rejected


def _checked_at(summary: dict[str, Any], path: Path) -> datetime:
    """When the batch was checked: the summary's time, else the result file's (stored results omit it)."""
    if summary.get("checked_at"):
        return datetime.fromisoformat(summary["checked_at"])
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)


def build_docs(params: Params) -> DocsBuild:
    """Rebuild the Data Docs site from the contract's suites and the stored results.

    Results that never reached GX (unparseable files, structural failures) have no GX result to
    render; they are listed in ``without_gx_result`` (their REASON.txt is in quarantine).
    """
    contract = load_contract(params)
    ctx = build_context(contract)
    site = params.path(params.paths.data_docs_dir)
    shutil.rmtree(site, ignore_errors=True)
    ctx.add_data_docs_site(
        site_name=SITE,
        site_config={
            "class_name": "SiteBuilder",
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site)},
        },
    )
    build = DocsBuild(index=site / "index.html")
    verdicts: dict[tuple[str, str], dict[str, Any]] = {}
    schema = ExpectationSuiteValidationResultSchema()
    for path in stored_results(params):
        document = results.read_result(path)
        summary, gx_result = document["summary"], document.get("gx_result")
        if not gx_result:
            build.without_gx_result.append(path)
            continue
        stem = path.parent.name if path.name == results.RESULT_FILE else path.stem
        verdict = "gate-passed" if summary["success"] else "gate-rejected"
        if summary.get("check_errors"):
            verdict = "gate-check-error"
        run_name = f"{verdict}_{stem}"
        meta = gx_result.setdefault("meta", {})
        run_time = _checked_at(summary, path)
        meta["run_id"] = {"run_name": run_name, "run_time": run_time.isoformat()}
        meta["active_batch_definition"] = {
            "datasource_name": "predmaint",
            "data_connector_name": "in-memory",
            "data_asset_name": summary["name"],
            "batch_identifiers": {},
        }
        meta["batch_spec"] = {
            "data_asset_name": summary["name"],
            "rows": summary.get("rows"),
            "md5": summary.get("md5"),
        }
        gx_result["success"] = bool(summary["success"])
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=summary["suite"]),
            run_id=RunIdentifier(run_name=run_name, run_time=run_time),
            batch_identifier=summary["name"],
        )
        ctx.validation_results_store.set(key, schema.load(gx_result))
        build.rendered.append(path)
        verdicts[(summary["suite"], run_name)] = summary
    ctx.build_data_docs(site_names=[SITE])
    localize(site)
    for (suite, run_name), summary in verdicts.items():
        for page in (site / "validations" / suite / run_name).glob("*/*.html"):
            show_verdict(page, bool(summary["success"]), len(summary["warnings"]), len(summary["failures"]))
    return build
