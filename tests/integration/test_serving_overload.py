"""Load shedding on a real server (issue 18 item 5): a flood beyond ``serving.max_queue`` is answered at
once with 503 + ``Retry-After`` and a small JSON body, every shed request is counted in ``/metrics``,
nothing is a 500, and the service answers normally once the flood is over."""

from __future__ import annotations

import asyncio
import re
from collections import Counter

import httpx
import pytest

from predmaint.config import Params
from tests.integration.serving_env import GOOD, Server, champion_project

pytestmark = pytest.mark.timeout(600)
FLOOD = 300


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Params:
    base = tmp_path_factory.getbasetemp()
    return champion_project(base / "serving_champion", base / "serving_overload", serving={"max_queue": 4})


def shed_total(client: httpx.Client) -> float:
    text = client.get("/metrics").text
    return sum(float(v) for v in re.findall(r"^predmaint_shed_requests_total\{[^}]*\} (\S+)$", text, re.M))


async def flood(url: str) -> list[httpx.Response]:
    """``FLOOD`` concurrent single-reading requests, each on its own connection."""
    limits = httpx.Limits(max_connections=FLOOD, max_keepalive_connections=FLOOD)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as client:
        return list(await asyncio.gather(*(client.post("/predict", json=GOOD) for _ in range(FLOOD))))


def test_a_flood_beyond_the_queue_is_shed_with_retry_after_and_counted(
    server: Server, client: httpx.Client, project: Params
) -> None:
    before = shed_total(client)
    answers = asyncio.run(flood(server.url))
    statuses = Counter(r.status_code for r in answers)
    assert set(statuses) <= {200, 503}, statuses
    assert statuses[503] > 0 and statuses[200] >= project.serving.max_queue, statuses
    for r in (r for r in answers if r.status_code == 503):
        assert r.headers["Retry-After"] == str(project.serving.retry_after_s)
        assert r.headers["content-type"] == "application/json" and len(r.content) < 512
        assert r.json()["detail"].startswith("overloaded:")
    assert shed_total(client) - before == statuses[503], "every shed request is counted"
    for _ in range(20):  # the flood is over: normal service
        assert client.post("/predict", json=GOOD).status_code == 200
