"""Make the GX Data Docs site self-contained: vendored assets instead of CDNs, the gate's verdict shown.

GX's page templates load Bootstrap, jQuery, bootstrap-table, Popper and Font Awesome from CDNs (and
Vega for profiling charts this project does not render); offline the pages show unstyled. After a
build, :func:`localize` copies the vendored files (``docs_assets/``, see its README) into the site
and rewrites every page to use them, dropping any other external script or stylesheet.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

ASSETS = Path(__file__).with_name("docs_assets")
VENDOR = "static/vendor"

_LOCAL = {
    "bootstrap-table.min.css": "css/bootstrap-table.min.css",
    "bootstrap-table-filter-control.css": "css/bootstrap-table-filter-control.min.css",
    "bootstrap-table-filter-control.min.css": "css/bootstrap-table-filter-control.min.css",
    "bootstrap.min.css": "css/bootstrap.min.css",
    "all.min.css": "css/fontawesome.min.css",
    "jquery-3.7.1.min.js": "js/jquery.min.js",
    "popper.min.js": "js/popper.min.js",
    "bootstrap.min.js": "js/bootstrap.min.js",
    "bootstrap-table.min.js": "js/bootstrap-table.min.js",
    "bootstrap-table-filter-control.min.js": "js/bootstrap-table-filter-control.min.js",
    "bootstrap-datepicker.min.css": "css/bootstrap-datepicker.min.css",
    "bootstrap-datepicker.min.js": "js/bootstrap-datepicker.min.js",
}
_TAG = re.compile(r"<(script|link)\b[^>]*?(?:src|href)=\"(https?://[^\"]+)\"[^>]*?>(?:\s*</script>)?", re.S)
_STATIC = re.compile(r"((?:src|href)=\")(?:\.\./)*static/")
_LOGO = re.compile(r"https://great-expectations-web-assets\.s3[^\"')]*?/(?:full_logo_dark|logo-long)\.png[^\"')]*")


def _rewrite_tag(match: re.Match[str], prefix: str) -> str:
    tag, url = match.group(0), match.group(2)
    local = _LOCAL.get(url.rsplit("/", 1)[-1].split("?")[0])
    if local is None:
        return ""
    tag = re.sub(r'\s(?:integrity|crossorigin)="[^"]*"', "", tag)
    return tag.replace(url, f"{prefix}{VENDOR}/{local}")


def localize_page(html: str, prefix: str) -> str:
    """One page with its CDN assets pointing at ``{prefix}static/vendor`` (``prefix`` leads to the root)."""
    html = _TAG.sub(lambda m: _rewrite_tag(m, prefix), html)
    html = _STATIC.sub(lambda m: f"{m.group(1)}{prefix}static/", html)  # GX gets the depth wrong on deep pages
    return _LOGO.sub(f"{prefix}static/images/logo-long.png", html)


def localize(site: Path) -> list[Path]:
    """Copy the vendored assets into ``site`` and rewrite every page; return the pages rewritten."""
    shutil.copytree(ASSETS, site / VENDOR, dirs_exist_ok=True, ignore=shutil.ignore_patterns("README.md"))
    pages = sorted(site.rglob("*.html"))
    for page in pages:
        depth = len(page.relative_to(site).parts) - 1
        page.write_text(localize_page(page.read_text(encoding="utf-8"), "../" * depth), encoding="utf-8")
    return pages


_STATUS = re.compile(r"(<span class=\"h6\" >Status:</span>).*?(?=\n|</span>)", re.S)


def show_verdict(page: Path, passed: bool, warnings: int, failures: int) -> None:
    """Replace GX's status line on a validation page with the gate's verdict.

    GX counts a non-blocking warning as a failed expectation; the gate does not, so a batch that
    passed with warnings says "Passed by the gate" with the warnings counted, not "Failed".
    """
    if passed:
        icon, text = "fas fa-check-circle text-success", "Passed by the gate"
        detail = f" ({warnings} non-blocking warning{'s' if warnings != 1 else ''})" if warnings else ""
    else:
        icon, text = "fas fa-times text-danger", "Rejected by the gate"
        detail = f" ({failures} blocking failure{'s' if failures != 1 else ''}; quarantined)"
    html = page.read_text(encoding="utf-8")
    html = _STATUS.sub(lambda m: f'{m.group(1)} <i class="{icon}" aria-hidden="true"></i> {text}{detail}', html, 1)
    page.write_text(html, encoding="utf-8")
