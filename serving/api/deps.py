"""Request dependencies: the running service, and the admin bearer-token check."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from serving.service import Service

_bearer = HTTPBearer(auto_error=False, description="The token in the env var named by serving.admin_token_env.")


def get_service(request: Request) -> Service:
    """The :class:`~serving.service.Service` of the app handling this request."""
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


def require_admin(
    service: ServiceDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    """Allow the call only with the configured bearer token.

    Raises:
        HTTPException: 403 if no token is configured (endpoint disabled) or the token is wrong,
            401 if none was sent.
    """
    configured = service.settings.admin_token
    env_name = service.settings.serving.admin_token_env
    if configured is None:
        raise HTTPException(403, f"admin endpoints are disabled: set ${env_name} to enable them")
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    if not hmac.compare_digest(credentials.credentials.encode(), configured.get_secret_value().encode()):
        raise HTTPException(403, "wrong admin token")
