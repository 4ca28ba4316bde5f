"""The README's day-to-day table, run as written in a fresh clone: every command must exit 0.

The commands are read from README.md (the backticked ``predmaint …`` / ``dvc …`` of the table's
command column), run top to bottom in a shell that activated the venv as the README says, with the
data path set. ``predmaint serve`` runs in the background until the table's last command.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from predmaint.service.process import running
from tests.conftest import HAVE_REAL_DATA, REAL_DATA, REPO, clone_project, subprocess_env
from tests.integration.serving_env import free_port

pytestmark = pytest.mark.slow

SERVE = "predmaint serve"


def table_commands(readme: str) -> list[str]:
    """The commands of the ``| step | command |`` table, in order."""
    lines = readme.splitlines()
    start = lines.index("| step | command |")
    commands: list[str] = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cell = line.rstrip("|").rsplit("|", 1)[-1]
        commands += [c for c in re.findall(r"`([^`]+)`", cell) if c.split()[0] in {"predmaint", "dvc"}]
    return commands


def test_the_table_is_read() -> None:
    commands = table_commands((REPO / "README.md").read_text(encoding="utf-8"))
    assert commands[0] == "predmaint ingest" and SERVE in commands and "dvc repro" in commands


def _shell(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = f"source {shlex.quote(str(REPO / '.venv' / 'bin' / 'activate'))} && {command}"
    return subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False
    )


def test_every_command_of_the_day_to_day_table_runs_as_written(tmp_path: Path) -> None:
    commands = table_commands((REPO / "README.md").read_text(encoding="utf-8"))
    root = clone_project(tmp_path / "clone" / "predmaint", keep_lock=True)
    data = {"PREDMAINT_DATA_PATH": str(REAL_DATA)} if HAVE_REAL_DATA else {}
    env = subprocess_env(**data, PREDMAINT_API_PORT=str(free_port()))
    # a plain shell: only the README's activation puts the venv on PATH
    env["PATH"] = ":".join(p for p in env["PATH"].split(":") if not p.rstrip("/").endswith(".venv/bin"))
    timings: list[str] = []
    with ExitStack() as stack:
        for command in commands:
            started = time.monotonic()
            if command == SERVE:
                port = env["PREDMAINT_API_PORT"]
                cmd = ["bash", "-c", f"source {shlex.quote(str(REPO / '.venv/bin/activate'))} && exec {command}"]
                stack.enter_context(running(cmd, f"http://127.0.0.1:{port}/ready", tmp_path / "serve.log", env, root))
            else:
                done = _shell(command, root, env)
                assert done.returncode == 0, f"`{command}` exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
            timings.append(f"{time.monotonic() - started:6.1f} s  {command}")
    print("\n".join(timings))
