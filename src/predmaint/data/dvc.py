"""DVC from Python: the subprocess environment, and versioning run-time data in DVC's cache and remote."""

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


def dvc_version(root: Path, files: list[Path]) -> bool:
    """Store ``files`` in DVC's cache and push them to the default remote; False outside a DVC repo.

    For data versions made at run time (a retraining window, its labelled rows, its gate result) in a
    folder no stage owns. ``dvc add`` writes a ``.dvc`` pointer beside each file; a pointer made at run
    time would be an untracked file in git (and DVC refuses git-ignored pointers), so once the data is
    pushed the pointer is removed: the lineage manifest's row (path + md5, the same md5 DVC uses) is
    the pointer, and the bytes stay retrievable from the cache or the remote by that md5.

    Raises:
        RuntimeError: ``dvc add`` or ``dvc push`` failed.
    """
    if not (root / ".dvc").is_dir():
        return False
    rel = [f.resolve().relative_to(root.resolve()).as_posix() for f in files]
    pointers = [f"{r}.dvc" for r in rel]
    for cmd in (["dvc", "add", "--quiet", *rel], ["dvc", "push", "--quiet", *pointers]):
        done = subprocess.run(cmd, check=False, cwd=root, env=dvc_env(), capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout}{done.stderr}")
    for pointer in pointers:
        (root / pointer).unlink(missing_ok=True)
    return True
