"""What the API answers for an exception: one mapping for the app's handlers and the hot route.

* an ``HTTPException`` keeps its status, detail and headers (FastAPI's own format);
* a :class:`~serving.api.validation.BodyValidationError` is a 422 listing the problems;
* a failure of the storage under the service (database driver, OS I/O) is a 503 with the reason and
  ``Retry-After``, never a 500;
* anything else is logged with its traceback and answered 500 with the exception's type only.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from fastapi import HTTPException

from serving.api.validation import BodyValidationError

log = logging.getLogger("serving")

_STORAGE_MODULES = ("sqlite3", "sqlalchemy", "psycopg", "psycopg2")


def is_storage_error(exc: BaseException) -> bool:
    """True for a failure of the storage under the service (database driver errors, OS I/O errors)."""
    if isinstance(exc, sqlite3.Error | OSError):
        return True
    return any(cls.__module__.split(".")[0] in _STORAGE_MODULES for cls in type(exc).__mro__)


def storage_errors() -> list[type[Exception]]:
    """Exception classes of the storage under the service (SQLite, the OS, SQLAlchemy when installed)."""
    kinds: list[type[Exception]] = [sqlite3.Error, OSError]
    try:
        from sqlalchemy.exc import SQLAlchemyError
    except ImportError:  # pragma: no cover - sqlalchemy comes with mlflow
        return kinds
    return [*kinds, SQLAlchemyError]


def error_answer(exc: Exception, method: str, path: str, retry_after_s: int) -> tuple[int, Any, dict[str, str]]:
    """The status, JSON content and headers answering ``exc`` raised while serving ``method path``."""
    if isinstance(exc, HTTPException):
        return exc.status_code, {"detail": exc.detail}, dict(exc.headers or {})
    if isinstance(exc, BodyValidationError):
        return 422, {"detail": exc.errors}, {}
    if is_storage_error(exc):
        log.error("storage failure on %s %s: %s", method, path, exc)
        reason = next(iter(str(exc).splitlines()), "")[:200]
        detail = f"storage unavailable ({type(exc).__name__}: {reason}); retry later"
        return 503, {"detail": detail}, {"Retry-After": str(retry_after_s)}
    log.error("unhandled error on %s %s", method, path, exc_info=exc)
    return 500, {"detail": f"internal error: {type(exc).__name__}"}, {}
