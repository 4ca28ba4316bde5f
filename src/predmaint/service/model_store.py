"""The model the service is serving, and how it changes without a failed request.

:class:`ModelStore` holds one :class:`ServedModel`. New versions are loaded and checked on a
background thread (the poll of the champion alias, or an admin reload), then swapped in with one
reference assignment: a micro-batch takes the reference once, so requests in flight finish on
the model they started with and the next batch uses the new one. A registry that cannot be
reached never stops serving: the error is kept for ``/ready`` and logged, and the poll retries.
A SQLite registry file replaced under the service (a restore, a reset) is noticed by its inode:
``/ready`` says so and the next poll drops MLflow's cached engines, reopens the file and reloads.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from predmaint.service import deployment_log
from predmaint.service.fastpath import ServedModel, prepare

log = logging.getLogger(__name__)


class Registry(Protocol):
    """Where model versions come from: the version behind the served alias, and loading one."""

    alias: str

    def resolve(self) -> str:
        """Return the version the alias points at now (LookupError if it points nowhere)."""

    def load(self, version: str) -> Any:
        """Return the loaded model (``predmaint.model.registry.LoadedModel``) of ``version``."""


@dataclass
class RegistryStatus:
    """The last conversation with the registry."""

    reachable: bool | None = None
    checked_at: str | None = None
    alias_version: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class ReloadResult:
    """What a reload did: ``swapped`` or ``unchanged``, from which version to which."""

    result: str
    version: str
    previous_version: str | None
    reason: str | None
    seconds: float


class ModelStore:
    """The current model, swapped atomically; a daemon thread polls the registry.

    Args:
        registry: Where versions come from.
        deployment_log_path: ``paths.deployment_log``; one row per version this process starts serving.
        probe: Readings to warm up and verify each new model with.
        poll_s: Seconds between polls of the alias.
        facts: Extra deployment-log fields from the model, e.g. ``lambda loaded: (data_version, git_commit)``.
    """

    def __init__(
        self,
        registry: Registry,
        deployment_log_path: Path,
        probe: tuple[list[str], npt.NDArray[np.float64]],
        poll_s: float,
        facts: Callable[[Any], tuple[str, str]],
    ) -> None:
        self.registry = registry
        self.deployment_log_path = deployment_log_path
        self.probe = probe
        self.poll_s = poll_s
        self.facts = facts
        self.status = RegistryStatus()
        self.load_error: str | None = None
        self.on_swap: list[Callable[[ServedModel, str], None]] = []
        self._current: ServedModel | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def current(self) -> ServedModel | None:
        """The model serving now (None until the first load succeeds)."""
        return self._current

    def start(self) -> ModelStore:
        """Start the poll thread: it loads the champion at once, then follows the alias."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._poll, name="model-poller", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop polling (a load in progress finishes first)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _poll(self) -> None:
        waiting_for = ""
        while not self._stop.is_set():
            try:
                self.reload(trigger="poll")
                waiting_for = ""
            except LookupError as exc:
                # no champion yet (before the first training run): normal, said once, not an error
                if str(exc) != waiting_for:
                    log.info("%s yet; still serving %s, polling every %s s", exc, self._served_version(), self.poll_s)
                waiting_for = str(exc)
            except Exception as exc:
                log.error("model poll failed, still serving %s: %s", self._served_version(), exc)
            self._wake.wait(self.poll_s)
            self._wake.clear()

    def wake(self) -> None:
        """Poll now instead of at the next interval."""
        self._wake.set()

    def registry_changed(self) -> str | None:
        """Why the registry's file is no longer the one opened (None if unchanged or not a file)."""
        check = getattr(self.registry, "file_changed", None)
        return check() if check is not None else None

    def _served_version(self) -> str:
        return self._current.version if self._current else "nothing"

    def _resolve(self) -> str:
        try:
            version = self.registry.resolve()
        except LookupError as exc:
            self.status = RegistryStatus(True, deployment_log.now_iso(), None, str(exc))
            raise
        except Exception as exc:
            self.status = RegistryStatus(False, deployment_log.now_iso(), self.status.alias_version, _short(exc))
            raise RegistryUnavailableError(f"registry unreachable: {_short(exc)}") from exc
        self.status = RegistryStatus(True, deployment_log.now_iso(), version, None)
        return version

    def reload(self, trigger: str = "manual reload", force: bool = False) -> ReloadResult:
        """Serve the version behind the alias now, if it is not served already (or ``force``).

        Args:
            trigger: ``"poll"`` (alias change / startup) or ``"manual reload"``.
            force: Reload even if that version is already served.

        Raises:
            RegistryUnavailableError: The registry could not be asked; the current model keeps serving.
            Exception: Loading or checking the new version failed; the current model keeps serving.
        """
        with self._lock:
            started = time.perf_counter()
            replaced = self.registry_changed()
            if replaced is not None:
                log.warning("%s; reopening it and reloading the champion", replaced)
                self.registry.reopen()  # type: ignore[attr-defined]
                force = True
            version = self._resolve()
            old = self._current
            if old is not None and old.version == version and not force:
                return ReloadResult("unchanged", version, old.version, None, time.perf_counter() - started)
            try:
                served = prepare(self.registry.load(version), self.probe)
            except Exception as exc:
                self.load_error = f"loading version {version} failed: {_short(exc)}"
                log.error("%s; still serving %s", self.load_error, self._served_version())
                raise
            self.load_error = None
            self._current = served
            gc.collect()
            gc.freeze()
            reason = _reason(trigger, old, served)
            self._record(served, reason, old)
            for callback in self.on_swap:
                callback(served, reason)
            log.info(
                "serving %s version %s (%s, previous %s, scoring path %s)",
                served.loaded.name,
                served.version,
                reason,
                old.version if old else "none",
                served.scoring,
            )
            return ReloadResult(
                "swapped", served.version, old.version if old else None, reason, time.perf_counter() - started
            )

    def _record(self, served: ServedModel, reason: str, old: ServedModel | None) -> None:
        data_version, git_commit = self.facts(served.loaded)
        deployment_log.append(
            self.deployment_log_path,
            deployment_log.Deployment(
                time=deployment_log.now_iso(),
                model_name=str(served.loaded.name),
                version=served.version,
                run_id=str(served.loaded.run_id),
                alias=str(served.loaded.alias or self.registry.alias),
                data_version=data_version,
                git_commit=git_commit,
                reason=reason,
                previous_version=old.version if old else "",
                pid=os.getpid(),
            ),
        )


class RegistryUnavailableError(RuntimeError):
    """The registry did not answer; the service keeps serving what it has."""


def _short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return text[:300]


def _reason(trigger: str, old: ServedModel | None, new: ServedModel) -> str:
    if old is None:
        return "startup"
    try:
        if int(new.version) < int(old.version):
            return "rollback"
    except ValueError:
        pass
    return "alias change" if trigger == "poll" else "manual reload"
