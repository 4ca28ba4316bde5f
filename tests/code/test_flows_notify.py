"""After a promotion the flows tell every API replica (``POST /admin/reload``), not only the API's poll."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from flows.common import SERVICE_URLS_ENV, notify_service, service_urls


class _Recorder(BaseHTTPRequestHandler):
    calls: ClassVar[list[tuple[str, str]]] = []

    def do_POST(self) -> None:
        self.calls.append((self.path, self.headers.get("Authorization", "")))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_service_urls_come_from_the_parameter_or_the_environment() -> None:
    env = {SERVICE_URLS_ENV: "http://api:8000, http://api-2:8000,"}
    assert service_urls(None, env) == ["http://api:8000", "http://api-2:8000"]
    assert service_urls("http://one:1", env) == ["http://one:1"]
    assert service_urls(None, {}) == []


def test_notify_posts_the_reload_with_the_bearer_token(api: str) -> None:
    _Recorder.calls.clear()
    assert notify_service.fn(api + "/", "t" * 32) == 200
    assert _Recorder.calls == [("/admin/reload", "Bearer " + "t" * 32)]
