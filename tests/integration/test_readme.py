"""The README's day-to-day table, run as written in a fresh clone: every command must exit 0.

The commands are read from README.md: every backticked command of the table's command column, run
top to bottom in a shell that first ran the README's own activation line (``make setup && source
.venv/bin/activate``, also read from the README) in the clone, with the data path set. ``predmaint
serve`` runs in the background until the table's last command. Nothing is filtered out, so a
command added to the table is run, and a table that is not found fails the test.
"""

from __future__ import annotations

import re
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
ACTIVATE = re.compile(r"^\S.*source \.venv/bin/activate$")


def table_commands(readme: str) -> list[str]:
    """Every backticked command of the ``| step | command |`` table's last column, in order."""
    lines = readme.splitlines()
    start = lines.index("| step | command |")
    commands: list[str] = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cell = line.rstrip().rstrip("|").rsplit("|", 1)[-1]
        commands += re.findall(r"`([^`]+)`", cell)
    return commands


def activation(readme: str) -> str:
    """The README's one line that sets up and activates the environment (in a ```bash block)."""
    found = [line for line in readme.splitlines() if ACTIVATE.match(line)]
    assert len(found) == 1, f"expected one activation line in README.md, found {found}"
    return found[0]


def test_the_table_is_read() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    commands = table_commands(readme)
    assert commands[0] == "predmaint ingest" and SERVE in commands and "dvc repro" in commands
    assert all(c.split()[0] in {"predmaint", "dvc"} for c in commands), commands
    assert activation(readme) == "make setup && source .venv/bin/activate"


def test_every_command_of_the_day_to_day_table_runs_as_written(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    commands, activate = table_commands(readme), activation(readme)
    root = clone_project(tmp_path / "clone" / "predmaint", keep_lock=True)
    data = {"PREDMAINT_DATA_PATH": str(REAL_DATA)} if HAVE_REAL_DATA else {}
    env = subprocess_env(**data, PREDMAINT_API_PORT=str(free_port()))
    env.pop("VIRTUAL_ENV", None)
    # a plain shell: only the README's activation (the clone's own .venv) puts the tools on PATH
    env["PATH"] = ":".join(p for p in env["PATH"].split(":") if not p.rstrip("/").endswith(".venv/bin"))
    timings: list[str] = []
    with ExitStack() as stack:
        for command in commands:
            started = time.monotonic()
            if command == SERVE:
                port = env["PREDMAINT_API_PORT"]
                cmd = ["bash", "-c", f"{activate} >/dev/null && exec {command}"]
                stack.enter_context(running(cmd, f"http://127.0.0.1:{port}/ready", tmp_path / "serve.log", env, root))
            else:
                done = subprocess.run(
                    ["bash", "-c", f"{activate} && {command}"],
                    cwd=root,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=900,
                    check=False,
                )
                assert done.returncode == 0, f"`{command}` exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
            timings.append(f"{time.monotonic() - started:6.1f} s  {command}")
    assert (root / ".venv" / "bin" / "predmaint").is_file(), "the commands did not run from the clone's own venv"
    print("\n".join(timings))
