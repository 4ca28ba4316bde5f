"""DVC from Python: the subprocess environment and tracking a new data version with ``dvc add``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def dvc_env() -> dict[str, str]:
    """The environment for DVC subprocesses: this interpreter's scripts first on PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("DVC_NO_ANALYTICS", "1")
    return env


def dvc_add(root: Path, path: Path) -> bool:
    """Track a file with DVC (cache + ``.dvc`` file); False when ``root`` is not a DVC repo."""
    if not (root / ".dvc").is_dir():
        return False
    done = subprocess.run(
        ["dvc", "add", "--quiet", str(path.relative_to(root))],
        check=False,
        cwd=root,
        env=dvc_env(),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"dvc add {path} failed:\n{done.stdout}{done.stderr}")
    return True
