"""Run a server as a child process: start it, wait until it answers, stop it (TERM, then KILL)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


class ServerStartError(RuntimeError):
    """The server exited or did not become ready; the message points at its log."""


@contextmanager
def running(
    cmd: list[str], ready_url: str, log: Path, env: dict[str, str], cwd: Path, timeout_s: float = 120.0
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``cmd`` with its output in ``log``; yield once ``GET ready_url`` answers 200.

    Raises:
        ServerStartError: The process exited, or was not ready within ``timeout_s``.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise ServerStartError(f"{cmd[0]} exited with {proc.returncode}; see {log}")
            try:
                if httpx.get(ready_url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise ServerStartError(f"{ready_url} not ready after {timeout_s:.0f} s; see {log}")
            time.sleep(0.3)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
