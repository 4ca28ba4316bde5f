"""Servers as child processes that cannot be confused with someone else's.

A server the project starts binds its socket before anything else (``bind``) and serves on that
socket, so a port taken in the meantime is an error at once, never a silent attach to another
server. Readiness checks then make sure it is *our* process answering: the predmaint API echoes
the instance id it was given (``$PREDMAINT_INSTANCE_ID``) in ``/ready``; for third-party servers
(MLflow, Prefect) :func:`owns_port` checks that the listening socket belongs to our child.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

INSTANCE_ENV = "PREDMAINT_INSTANCE_ID"
"""Environment variable carrying the id that a predmaint API process reports in ``/ready``."""


class ServerStartError(RuntimeError):
    """The server exited or did not become ready; the message points at its log."""


def new_instance_id() -> str:
    """A fresh random instance id."""
    return secrets.token_hex(8)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (0 = any free port), inheritable by child processes.

    Raises:
        OSError: The port is taken (the message names it).
    """
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def bind_preferred(host: str, preferred: int) -> socket.socket:
    """A listening socket on ``preferred`` if it is free, else on any free port."""
    try:
        return bind(host, preferred)
    except OSError:
        return bind(host, 0)


def owns_port(pid: int, port: int) -> bool:
    """True if ``pid`` or one of its descendants listens on TCP ``port``."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return False
    for proc in procs:
        try:
            conns = proc.net_connections(kind="tcp")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port for c in conns):
            return True
    return False


def answers(url: str, instance: str | None = None) -> bool:
    """True if ``GET url`` answers 200 (and, with ``instance``, reports that instance id)."""
    try:
        resp = httpx.get(url, timeout=2)
    except httpx.HTTPError:
        return False
    if resp.status_code != 200:
        return False
    if instance is None:
        return True
    try:
        return bool(resp.json().get("instance") == instance)
    except ValueError:
        return False


def wait_ready(
    proc: subprocess.Popen[bytes], ready: Callable[[], bool], what: str, log: Path, timeout_s: float
) -> None:
    """Poll ``ready()`` until it is true; fail fast when ``proc`` exits.

    Raises:
        ServerStartError: The process exited, or was not ready within ``timeout_s``.
    """
    deadline = time.monotonic() + timeout_s
    while not ready():
        if proc.poll() is not None:
            raise ServerStartError(f"{what} exited with code {proc.returncode}; see {log}")
        if time.monotonic() > deadline:
            raise ServerStartError(f"{what} not ready after {timeout_s:.0f} s; see {log}")
        time.sleep(0.3)


def stop(proc: subprocess.Popen[bytes], grace_s: float = 30.0) -> None:
    """TERM, then KILL after ``grace_s``."""
    proc.terminate()
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def running(
    cmd: list[str],
    ready_url: str,
    log: Path,
    env: dict[str, str],
    cwd: Path,
    timeout_s: float = 120.0,
    instance: str | None = None,
    pass_fds: Sequence[int] = (),
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``cmd`` with its output in ``log``; yield once ``GET ready_url`` answers 200.

    Args:
        cmd: The command line.
        ready_url: Polled until it answers 200.
        log: Where the process's output goes.
        env: The process's environment (``$PREDMAINT_INSTANCE_ID`` is set to ``instance``).
        cwd: Working directory.
        timeout_s: How long to wait for readiness.
        instance: Expected ``instance`` in the JSON answer, so that another server on the same
            port is never taken for ours.
        pass_fds: File descriptors the child inherits (a pre-bound listening socket).

    Raises:
        ServerStartError: The process exited, or was not ready within ``timeout_s``.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    if instance is not None:
        env = {**env, INSTANCE_ENV: instance}
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, pass_fds=pass_fds)
    try:
        wait_ready(proc, lambda: answers(ready_url, instance), Path(cmd[0]).name, log, timeout_s)
        yield proc
    finally:
        stop(proc)


def serve_on(app: str, sock: socket.socket, workers: int, **config: object) -> None:
    """Run the ASGI app factory ``app`` under uvicorn on an already-bound socket (blocks).

    With more than one worker, uvicorn's supervisor shares the socket with its worker processes.
    """
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    os.environ.setdefault(INSTANCE_ENV, new_instance_id())
    cfg = uvicorn.Config(app, factory=True, workers=workers, **config)  # type: ignore[arg-type]
    if workers > 1:
        Multiprocess(cfg, sockets=[sock]).run()
    else:
        uvicorn.Server(cfg).run(sockets=[sock])
