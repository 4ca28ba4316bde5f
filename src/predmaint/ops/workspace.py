"""Generated state of a project folder: what `predmaint reset` removes, and what it keeps."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

from predmaint.config import Params

KEEP = frozenset({".gitkeep", "README.md"})


def generated_paths(params: Params) -> list[Path]:
    """Everything the lifecycle writes: data versions, MLflow store, reports, logs, run state.

    The DVC cache and remote are kept, so ``dvc checkout``/``dvc pull`` can restore any version.
    """
    p = params.paths
    data_root = params.path(p.raw_dir).parent
    data_children = (
        [c for c in data_root.iterdir() if c.name not in {".gitkeep", "README.md"}] if data_root.is_dir() else []
    )
    mlruns = params.path(p.mlruns_dir)
    mlruns_children = [c for c in mlruns.iterdir() if c.name != ".gitkeep"] if mlruns.is_dir() else []
    singles = [p.reports_dir, p.models_dir, p.deployment_log, p.run_dir]
    return [*data_children, *mlruns_children, *(params.path(s) for s in singles)]


def _make_writable(path: Path) -> None:
    path.chmod(path.stat().st_mode | stat.S_IWUSR)


def reset(params: Params) -> list[Path]:
    """Delete the generated state and return what was removed."""
    removed = []
    for path in generated_paths(params):
        if not path.exists():
            continue
        if path.is_dir():
            for child in path.rglob("*"):
                if child.is_file():
                    _make_writable(child)
            shutil.rmtree(path)
        else:
            _make_writable(path)
            path.unlink()
        removed.append(path)
    return removed
