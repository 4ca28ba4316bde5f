"""The operator's pages in a real headless Chromium, offline, after the demo's lifecycle.

The API's /docs, the MLflow UI (the registered model and its champion alias), the Prefect UI (the
demo's flow runs, against its own API), the Evidently dashboard (panels with data) and one
Evidently report, and the Data Docs (styled; the batch the gate passed shown as passed).
Screenshots go to reports/screenshots/ (git-ignored). Needs Debian's chromium (see browser.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from predmaint.config import Params
from tests.integration.browser import Browser, offline_browser, require_chromium

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_chromium()
    with offline_browser() as b:
        yield b


@pytest.fixture(scope="module")
def uis(lifecycle: tuple[Params, list[Any]]) -> Iterator[dict[str, Any]]:
    from predmaint.ops.ui import running_uis

    params, _ = lifecycle
    with running_uis(params, timeout_s=600) as started:
        yield started


@pytest.fixture(scope="module")
def api(lifecycle: tuple[Params, list[Any]]) -> Iterator[str]:
    from flows.demo import service

    params, _ = lifecycle
    with service(params, secrets.token_urlsafe(24)) as client:
        yield str(client.base_url)


def test_api_docs_list_the_operations_offline(browser: Browser, api: str) -> None:
    before = len(browser.blocked)
    page = browser.open(f"{api}/docs", wait_for=".opblock")
    text = page.inner_text("#swagger-ui")
    for path in ("/predict", "/feedback", "/ready", "/model"):
        assert path in text, path
    browser.shot(page, "api-docs")
    assert browser.blocked[before:] == [], "the docs page tried to load something from the internet"
    page.close()


def test_mlflow_ui_shows_the_registered_model_with_its_champion(
    browser: Browser, uis: dict[str, Any], lifecycle: tuple[Params, list[Any]]
) -> None:
    params, _ = lifecycle
    name = params.mlflow.registered_model
    page = browser.open(f"{uis['mlflow'].url}/#/models/{name}")
    page.get_by_text(params.mlflow.champion_alias).first.wait_for(timeout=120_000)
    assert name in page.inner_text("body")
    browser.shot(page, "mlflow-model")
    page.close()


def test_prefect_ui_shows_the_demo_flow_runs_from_its_own_api(browser: Browser, uis: dict[str, Any]) -> None:
    url = uis["prefect"].url
    page = browser.open(f"{url}/runs")
    page.get_by_text("monitoring day_01").first.wait_for(timeout=120_000)
    text = page.inner_text("body")
    assert "training-pipeline" in text and "Can't connect" not in text
    api_calls: list[str] = []
    page.on("request", lambda r: api_calls.append(r.url) if "/api/" in r.url else None)
    page.reload()
    page.get_by_text("monitoring day_01").first.wait_for(timeout=120_000)
    assert api_calls and all(u.startswith(url) for u in api_calls), api_calls[:5]
    browser.shot(page, "prefect-runs")
    page.close()


def test_evidently_dashboard_panels_have_data(browser: Browser, uis: dict[str, Any]) -> None:
    url = uis["evidently"].url
    [project] = httpx.get(f"{url}/api/projects", timeout=30).json()
    page = browser.open(f"{url}/projects/{project['id']}")
    for title in ("Drift share", "Per-feature drift", "Error rate", "Expected cost", "Alarm rate", "Model version"):
        page.get_by_text(title).first.wait_for(timeout=120_000)
    series = "svg path[stroke='#02B2AF']"
    page.wait_for_function(f"document.querySelectorAll({series!r}).length >= 5", timeout=120_000)
    plotted = page.locator(series).count()
    assert plotted >= 5, f"only {plotted} plotted series"
    browser.shot(page, "evidently-dashboard")
    page.close()


def test_evidently_report_names_window_model_and_reference(
    browser: Browser, lifecycle: tuple[Params, list[Any]]
) -> None:
    params, _ = lifecycle
    report = params.path(params.paths.monitoring_dir) / "day_01" / "drift.html"
    page = browser.open(report.as_uri(), wait_for="#predmaint-window-header")
    header = page.inner_text("#predmaint-window-header")
    assert "Window day_01" in header and "model v1" in header and "reference: v1 training window" in header
    page.wait_for_timeout(2000)
    browser.shot(page, "evidently-report-day01")
    page.close()


def test_data_docs_are_styled_and_show_the_passed_batch_as_passed(
    browser: Browser, lifecycle: tuple[Params, list[Any]]
) -> None:
    params, _ = lifecycle
    site = params.path(params.paths.data_docs_dir)
    before = len(browser.blocked)
    page = browser.open((site / "index.html").as_uri())
    page.get_by_text("gate-passed_").first.wait_for(timeout=60_000)
    assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith("-apple-system"), "unstyled"
    browser.shot(page, "data-docs-index")
    passed = next((site / "validations" / "raw").rglob("*.html"))
    page.goto(passed.as_uri())
    status = page.locator("text=Status:").first.locator("xpath=..").inner_text()
    assert "Passed by the gate" in status and "Failed" not in status, status
    browser.shot(page, "data-docs-validation")
    assert browser.blocked[before:] == [], browser.blocked[before:]
    assert not [e for e in browser.errors if "data_docs" in e], browser.errors
    page.close()
