"""The build graph is ``dvc.yaml``; this module lets orchestration run its stages one by one.

Prefect does not keep a second copy of the DAG: the training flow asks DVC for the stages in
dependency order and runs each with ``dvc repro --single-item <stage>``, so DVC decides what is
stale (and skips the rest) while Prefect owns retries, logs and the gates between steps.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from graphlib import TopologicalSorter
from pathlib import Path

import yaml

from predmaint.config import PARAMS_ENV
from predmaint.data.dvc import dvc_env
from predmaint.model.tracking import FLOW_RUN_ENV


class StageError(RuntimeError):
    """A DVC stage failed; the message carries its output."""


@dataclass(frozen=True)
class StageRun:
    """What happened when a stage was reproduced."""

    stage: str
    ran: bool
    output: str


def stage_order(root: Path) -> list[str]:
    """The stages of ``root/dvc.yaml`` in dependency order (an output before its consumers).

    Raises:
        graphlib.CycleError: The stages depend on each other in a cycle.
    """
    stages = yaml.safe_load((root / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    producers: dict[str, str] = {}
    for name, spec in stages.items():
        for out in _paths([*spec.get("outs", []), *spec.get("metrics", []), *spec.get("plots", [])]):
            producers[out.rstrip("/")] = name
    graph: dict[str, set[str]] = {name: set() for name in stages}
    for name, spec in stages.items():
        for dep in _paths(spec.get("deps", [])):
            for out, producer in producers.items():
                if producer != name and (dep == out or dep.startswith(out + "/") or out.startswith(dep + "/")):
                    graph[name].add(producer)
    return list(TopologicalSorter(graph).static_order())


def _paths(entries: list[str | dict[str, object]]) -> list[str]:
    return [e if isinstance(e, str) else next(iter(e)) for e in entries]


def run_stage(root: Path, stage: str, force: bool = False, flow_run_id: str | None = None) -> StageRun:
    """Reproduce one stage with DVC (skipped by DVC when its inputs are unchanged).

    Args:
        root: The project (where dvc.yaml is).
        stage: The stage name.
        force: Run it even when DVC finds it up to date.
        flow_run_id: The Prefect flow run that orchestrates the stage; passed to the stage's process
            (``PREFECT__FLOW_RUN_ID``) so a model trained there records it. Not a DVC input.

    Raises:
        StageError: DVC exited non-zero.
    """
    cmd = ["dvc", "repro", "--single-item", stage] + (["--force"] if force else [])
    # The stage reads the params file DVC tracks (root/params.yaml), never a $PREDMAINT_PARAMS
    # left in this process's environment by another project.
    env = dvc_env() | {PARAMS_ENV: str(root / "params.yaml")} | ({FLOW_RUN_ENV: flow_run_id} if flow_run_id else {})
    done = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, check=False)
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise StageError(f"dvc stage {stage!r} failed (exit {done.returncode}):\n{output.strip()}")
    return StageRun(stage=stage, ran=f"Running stage '{stage}'" in output, output=output)
