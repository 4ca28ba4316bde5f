"""A real headless Chromium for the browser tests: Debian's ``chromium`` driven by Playwright.

No browser download: Playwright's Python package launches the system binary by path. Every request
that leaves the machine (anything but 127.0.0.1/localhost, ``file:``, ``data:`` and ``blob:``) is
aborted and recorded, so a page that only works online fails its test. Outside CI a missing
browser skips the tests with the reason; in CI (``CI=true``) it fails them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.conftest import REPO

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
SCREENSHOTS = REPO / "reports" / "screenshots"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def chromium_path() -> str | None:
    """Debian's chromium (or ``$CHROMIUM``), or None."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def require_chromium() -> str:
    """The browser's path; skip (fail under ``CI=true``) when it is missing."""
    path = chromium_path()
    if path is None:
        reason = "Debian's chromium is not installed (apt-get install chromium); browser tests need it"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@dataclass
class Browser:
    """An offline Chromium context; ``blocked`` lists the requests that tried to leave the machine."""

    context: Any
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def open(self, url: str, wait_for: str | None = None, timeout_ms: float = 60_000) -> Any:
        """A new page at ``url``; waits for the selector ``wait_for`` when given."""
        page = self.context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(f"{url}: {exc}"))
        page.goto(url, wait_until="load", timeout=timeout_ms)
        if wait_for:
            page.wait_for_selector(wait_for, timeout=timeout_ms)
        return page

    def shot(self, page: Any, name: str) -> Path:
        """Save a full-page screenshot as ``reports/screenshots/<name>.png``."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


def _is_local(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in {"file", "data", "blob", "about"} or parsed.hostname in LOCAL_HOSTS


@contextmanager
def offline_browser() -> Iterator[Browser]:
    """Launch Debian's chromium headless with a fresh profile; abort every non-local request."""
    from playwright.sync_api import sync_playwright

    executable = require_chromium()
    with sync_playwright() as pw, tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 900},
        )
        browser = Browser(context)

        def guard(route: Any) -> None:
            if _is_local(route.request.url):
                route.continue_()
            else:
                browser.blocked.append(route.request.url)
                route.abort()

        context.route("**/*", guard)
        try:
            yield browser
        finally:
            context.close()
