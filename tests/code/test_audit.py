"""`make audit` never reports "no known vulnerabilities" without having reached the database (issue 18 item 9)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.mark.skipif(shutil.which("uv") is None, reason="uv is not on PATH (make audit installs it)")
def test_audit_without_the_vulnerability_database_exits_2_and_says_not_checked() -> None:
    env = {
        **os.environ,
        "BIN": str(Path(sys.executable).parent),
        "UV": str(shutil.which("uv")),
        "PREDMAINT_AUDIT_PROBE_URL": "http://127.0.0.1:9/pypi/pip/json",  # discard port: refused at once
    }
    out = subprocess.run(
        [str(REPO / "deploy" / "audit.sh")], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 2, out.stdout + out.stderr
    assert "NOT CHECKED" in out.stderr and "cannot be reached" in out.stderr
    assert "no known vulnerabilities" not in (out.stdout + out.stderr).lower()
