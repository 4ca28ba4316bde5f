"""Servers the project starts cannot be confused with a foreign server on the same port."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from predmaint.config import Params
from predmaint.service.process import ServerStartError, answers, bind, new_instance_id, owns_port, running
from tests.conftest import REPO
from tests.integration.serving_env import champion_project, service_env

pytestmark = pytest.mark.timeout(600)


class _Impostor(BaseHTTPRequestHandler):
    """Answers every GET with 200 and a plausible readiness body."""

    def do_GET(self) -> None:
        body = json.dumps({"ready": True, "model": {"name": "x", "version": "9"}}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def impostor() -> Iterator[int]:
    """A foreign HTTP server on 127.0.0.1 that says it is ready; yields its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Impostor)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Params:
    base = tmp_path_factory.getbasetemp()
    return champion_project(base / "serving_champion", base / "process_api")


def _serve(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("predmaint")), "serve", "--host", "127.0.0.1", *args]


def test_a_foreign_server_on_the_port_is_not_taken_for_ours(impostor: int, project: Params) -> None:
    url = f"http://127.0.0.1:{impostor}"
    assert answers(f"{url}/ready") and not answers(f"{url}/ready", new_instance_id())
    log = project.root / "impostor.log"
    with (
        pytest.raises(ServerStartError, match="exited"),
        running(
            _serve("--port", str(impostor)), f"{url}/ready", log, service_env(project), REPO, 60, new_instance_id()
        ),
    ):
        pass
    assert "cannot listen on 127.0.0.1:" in log.read_text()


def test_serve_on_an_inherited_socket_reports_its_instance(project: Params) -> None:
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    instance = new_instance_id()
    cmd = _serve("--fd", str(sock.fileno()))
    url = f"http://127.0.0.1:{port}"
    with running(
        cmd, f"{url}/ready", project.root / "fd.log", service_env(project), REPO, 600, instance, [sock.fileno()]
    ) as proc:
        sock.close()
        ready = httpx.get(f"{url}/ready").json()
        assert ready["instance"] == instance and ready["ready"] is True
        assert owns_port(proc.pid, port) and not owns_port(proc.pid, port + 1)


def test_stack_status_is_not_up_from_a_pid_alone(tmp_path: Path) -> None:
    from predmaint.ops.stack import status
    from tests.conftest import make_project

    foreign_sock = bind("127.0.0.1", 0)
    port = foreign_sock.getsockname()[1]
    foreign_sock.close()
    (tmp_path / "health").write_text("OK")  # the foreign server answers GET /health with 200
    foreign = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"], cwd=tmp_path)
    ours = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        params = make_project(tmp_path / "proj", orchestration={"mlflow_port": port})
        run_dir = params.path(params.paths.run_dir)
        run_dir.mkdir(parents=True)
        (run_dir / "mlflow.pid").write_text(str(ours.pid))
        assert _wait_for(lambda: answers(f"http://127.0.0.1:{port}/health"))
        [line] = [x for x in status(params) if x.startswith("mlflow")]
        assert "NOT ANSWERING" in line and "up (" not in line, line
        (run_dir / "mlflow.pid").write_text(str(foreign.pid))
        [line] = [x for x in status(params) if x.startswith("mlflow")]
        assert f"up (pid {foreign.pid})" in line, line
    finally:
        for proc in (foreign, ours):
            proc.kill()
            proc.wait()


def _wait_for(check: Callable[[], bool], timeout_s: float = 60) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("loop_name", ["asyncio", "uvloop"])
def test_connections_accepted_on_our_socket_send_without_nagle_delay(loop_name: str) -> None:
    """asyncio sets TCP_NODELAY only on sockets whose ``proto`` says TCP; without it a response
    written in two parts (head, body) waits for the client's delayed ACK (~40 ms per request)."""
    import asyncio
    import socket

    import uvloop

    listener = bind("127.0.0.1", 0)
    seen: list[int] = []

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted = transport.get_extra_info("socket")
            seen.append(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
        reader, writer = await asyncio.open_connection(*listener.getsockname()[:2])
        await reader.read()
        writer.close()
        server.close()

    loop = asyncio.new_event_loop() if loop_name == "asyncio" else uvloop.new_event_loop()
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    assert seen and seen[0] != 0
