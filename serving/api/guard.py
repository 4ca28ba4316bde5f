"""Origin and credential checks in front of every route (pure ASGI middleware, a few µs a request).

* **Trusted hosts**: the ``Host`` header must name one of ``serving.trusted_hosts`` (400 otherwise),
  so a web page that resolves its own name to 127.0.0.1 (DNS rebinding) cannot reach the API.
* **One Host header**: two are a 400 whatever they say (the check must not depend on which one a
  proxy or the server reads); a malformed one (a non-numeric port, an unclosed ``[``) matches nothing.
  A trailing dot (``localhost.``) names the same host and is accepted.
* **JSON only**: ``POST /predict`` and ``POST /feedback`` need ``Content-Type: application/json``
  (or ``application/*+json``; a ``charset`` other than UTF-8 is refused, as JSON is UTF-8 and the body
  is read as such) (415 otherwise), so a browser cannot send them from another origin as a "simple" request.
* **Scoped tokens**: if ``$PREDMAINT_PREDICT_TOKENS`` / ``$PREDMAINT_FEEDBACK_TOKENS`` list tokens
  (:mod:`serving.tokens`), these routes need ``Authorization: Bearer <token>`` of their own scope
  (401 without, 403 for a token of no or another scope). The admin token is separate.

The caller's identity (``token:<name>``, or ``open:<client address>`` when the scope has no tokens)
goes into ``scope["state"]["identity"]``: it is the provenance recorded with every label.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from serving.api.responses import send_json
from serving.settings import Settings
from serving.tokens import digest

MAX_REMEMBERED_TOKENS = 256


def _bare(host: str) -> str | None:
    """A Host header's name without port, IPv6 brackets or a trailing dot, lower case; None if malformed.

    ``name``, ``name:port``, ``[v6]`` and ``[v6]:port`` are well formed (RFC 9110 §7.2); a port must be
    digits. A bare IPv6 address (``::1``) is accepted too, as trusted hosts are written that way.
    """
    host = host.strip().lower()
    port = ""
    if host.startswith("["):
        end = host.find("]")
        if end < 0 or (host[end + 1 :] and not host[end + 1 :].startswith(":")):
            return None
        name, port = host[1:end], host[end + 2 :]
    elif host.count(":") == 1:
        name, port = host.split(":")
    else:
        name = host
    if port and not port.isdigit():
        return None
    return name[:-1] if name.endswith(".") and not name.endswith("..") else name


def _is_json(content_type: bytes) -> bool:
    """``application/json`` or ``application/*+json``, with no charset other than UTF-8 (RFC 8259 §8.1)."""
    kind, _, rest = content_type.partition(b";")
    kind = kind.strip().lower()
    if not (kind == b"application/json" or (kind.startswith(b"application/") and kind.endswith(b"+json"))):
        return False
    for param in rest.split(b";"):
        name, _, value = param.partition(b"=")
        if name.strip().lower() == b"charset" and value.strip().strip(b'"').lower() not in (b"utf-8", b"utf8"):
            return False
    return True


async def _reject(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send_json(send, status, json.dumps({"detail": detail}).encode(), headers)


class GuardMiddleware:
    """Check the Host header everywhere, and content type and scoped token on the write routes.

    Args:
        app: The wrapped application.
        settings: Trusted hosts and the token digests of each scope.
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        s = settings.serving
        self.any_host = "*" in s.trusted_hosts
        self.hosts = frozenset(b for b in map(_bare, s.trusted_hosts) if b is not None)
        self.scopes: dict[str, tuple[dict[str, str], str]] = {
            "/predict": (settings.predict_tokens, s.predict_tokens_env),
            "/feedback": (settings.feedback_tokens, s.feedback_tokens_env),
        }
        self._accepted: dict[tuple[str, bytes], str] = {}  # (path, Authorization) → identity, accepted ones only

    def _identity(self, path: str, auth: bytes, tokens: dict[str, str]) -> str | None:
        """The identity of an accepted token (its hash looked up once per client token, not per request)."""
        who = self._accepted.get((path, auth))
        if who is None:
            who = tokens.get(digest(auth[7:].strip().decode("latin-1")))
            if who is not None:
                if len(self._accepted) >= MAX_REMEMBERED_TOKENS:
                    self._accepted.clear()
                self._accepted[(path, auth)] = who
        return who

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 400/401/403/415 for a request that fails a check; pass the rest on."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = content_type = auth = None
        hosts = 0
        for name, value in scope["headers"]:
            if name == b"host":
                host = value
                hosts += 1
            elif name == b"content-type":
                content_type = value
            elif name == b"authorization":
                auth = value
        if hosts > 1:  # RFC 9112 §3.2: a request with more than one Host header is a 400
            await _reject(send, 400, f"{hosts} Host headers in one request; send exactly one")
            return
        if not self.any_host and (host is None or _bare(host.decode("latin-1")) not in self.hosts):
            shown = host.decode("latin-1")[:80] if host is not None else "(none)"
            await _reject(send, 400, f"Host header {shown!r} is not in serving.trusted_hosts")
            return
        guarded = self.scopes.get(scope["path"]) if scope["method"] == "POST" else None
        if guarded is not None:
            tokens, env_name = guarded
            if content_type is None or not _is_json(content_type):
                given = content_type.decode("latin-1")[:80] if content_type is not None else "none"
                await _reject(send, 415, f"Content-Type must be application/json (UTF-8), got {given}")
                return
            if tokens:
                if auth is None or auth[:7].lower() != b"bearer ":
                    await _reject(send, 401, "missing bearer token", [(b"www-authenticate", b"Bearer")])
                    return
                who = self._identity(scope["path"], auth, tokens)
                if who is None:
                    await _reject(send, 403, f"token not accepted for {scope['path']} (see ${env_name})")
                    return
                identity = f"token:{who}"
            else:
                client = scope.get("client")
                identity = f"open:{client[0] if client else 'unknown'}"
            scope.setdefault("state", {})["identity"] = identity
        await self.app(scope, receive, send)
