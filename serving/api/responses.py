"""A JSON answer sent straight over ASGI (the hot route and the guard answer without Starlette's response objects)."""

from __future__ import annotations

from starlette.types import Send

_JSON = (b"content-type", b"application/json")


async def send_json(send: Send, status: int, payload: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """Send ``payload`` (encoded JSON) with ``status``, its length and any extra ``headers``."""
    head = [_JSON, *(headers or ()), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": payload})
