"""Scoped bearer tokens of the API, kept hashed: the environment holds ``name=sha256:<hex>`` entries.

A client sends ``Authorization: Bearer <token>``; the service hashes what it receives and looks the
digest up, so the environment (compose file, secret store) never holds a usable token. The entry's
name is the caller's identity: it is recorded as the provenance of every label sent with it.
Tokens are long random strings (see ``python -m serving.tokens NAME``), so one SHA-256 is enough.

Run ``python -m serving.tokens replay`` to make a token: it prints the token (give it to the client)
and the entry to put in ``$PREDMAINT_PREDICT_TOKENS`` / ``$PREDMAINT_FEEDBACK_TOKENS``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sys

_ENTRY = re.compile(r"^(?P<name>[A-Za-z0-9_.@-]{1,64})=sha256:(?P<digest>[0-9a-f]{64})$")


def digest(token: str) -> str:
    """The hex SHA-256 of a token, as stored in the environment."""
    return hashlib.sha256(token.encode()).hexdigest()


def parse_tokens(value: str | None, env_name: str) -> dict[str, str]:
    """Digest → identity from an environment value ``name=sha256:<hex>[,name=sha256:<hex>…]``.

    Args:
        value: The variable's value; empty or None means no tokens (the scope is open).
        env_name: The variable's name, for the error message.

    Raises:
        ValueError: An entry is malformed or a name repeats; the message names the variable.
    """
    found: dict[str, str] = {}
    for raw in (value or "").replace("\n", ",").split(","):
        entry = raw.strip()
        if not entry:
            continue
        match = _ENTRY.match(entry)
        if match is None:
            shown = entry.split("=", 1)[0][:40]
            raise ValueError(f"${env_name}: entry {shown!r}… is not 'name=sha256:<64 hex digits>'")
        if match["name"] in found.values():
            raise ValueError(f"${env_name}: identity {match['name']!r} is listed twice")
        found[match["digest"]] = match["name"]
    return found


def new_token(name: str) -> tuple[str, str]:
    """A new random token for ``name`` and its environment entry."""
    token = secrets.token_urlsafe(32)
    entry = f"{name}=sha256:{digest(token)}"
    if _ENTRY.match(entry) is None:
        raise ValueError(f"identity {name!r} must be 1-64 characters of A-Z a-z 0-9 _ . @ -")
    return token, entry


if __name__ == "__main__":  # pragma: no cover - a tiny helper for operators
    who = sys.argv[1] if len(sys.argv) > 1 else "client"
    tok, env_entry = new_token(who)
    print(f"token (give to {who}): {tok}\nenvironment entry: {env_entry}")
