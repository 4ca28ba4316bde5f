"""The MLflow model registry the service reads: the version behind the champion alias, and loading it.

A missing model or alias is a :class:`LookupError` (the registry answered: 409 at the API), any other
failure means the registry could not answer. For a SQLite registry the file's inode is remembered
when it is first read, so a file replaced under the service (a restore, a reset) is noticed and
reopened instead of reading the old, unlinked file forever; a file deleted under the service stays
an error (the registry is unreachable, ``/ready`` is 503) until it is back, instead of MLflow
creating an empty registry in its place.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from predmaint.model.registry import load_model


class MlflowRegistry:
    """The MLflow model registry of ``params`` (tracking URI, registered name, champion alias)."""

    def __init__(self, params: Any) -> None:
        self.params = params
        self.name: str = params.mlflow.registered_model
        self.alias: str = params.mlflow.champion_alias
        self.db_file: Path | None = params.registry_file
        self._opened: tuple[int, int] | None = None
        self._known = False  # the file has been read once: its disappearance is a fault, not "no registry yet"

    def _identity(self) -> tuple[int, int] | None:
        try:
            st = self.db_file.stat() if self.db_file else None
        except FileNotFoundError:
            return None
        return (st.st_dev, st.st_ino) if st else None

    def file_changed(self) -> str | None:
        """Why the SQLite file read so far is no longer the one at its path (None if it still is)."""
        if self.db_file is None or not self._known:
            return None
        now = self._identity()
        if now is None:
            return f"registry file {self.db_file} is missing"
        return None if now == self._opened else f"registry file {self.db_file} was replaced since it was opened"

    def reopen(self) -> None:
        """Drop MLflow's cached stores and engines of this URI, so the next call opens the file at the path anew.

        MLflow keeps one store per URI (an ``lru_cache``) holding its engine, and one engine per URI;
        both must go, or the cached store keeps reading the replaced (unlinked) file.
        """
        from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as RegistryStore
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as TrackingStore
        from mlflow.tracking._model_registry.utils import _get_store_registry
        from mlflow.tracking._tracking_service.utils import _tracking_store_registry

        for registry in (_get_store_registry(), _tracking_store_registry):
            type(registry)._get_store_with_resolved_uri.cache_clear()
        for store in (RegistryStore, TrackingStore):
            with store._engine_map_lock:
                engine = store._engine_map.pop(self.params.tracking_uri, None)
            if engine is not None:
                engine.dispose()
        self._opened = None

    def resolve(self) -> str:
        """The version behind the champion alias (raises if the registry cannot answer).

        Raises:
            LookupError: The registry answered: the model or the alias does not exist.
        """
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException

        if self._opened is None:
            self._opened = self._identity()
            if self._opened is None and self._known:  # MLflow would create an empty registry in its place
                raise FileNotFoundError(f"registry file {self.db_file} is missing")
            self._known = self._known or self._opened is not None
        client = MlflowClient(tracking_uri=self.params.tracking_uri, registry_uri=self.params.tracking_uri)
        try:
            return str(client.get_model_version_by_alias(self.name, self.alias).version)
        except MlflowException as exc:
            # A missing model is RESOURCE_DOES_NOT_EXIST; a missing alias INVALID_PARAMETER_VALUE "… not found".
            missing = exc.error_code == "RESOURCE_DOES_NOT_EXIST" or (
                exc.error_code == "INVALID_PARAMETER_VALUE" and "not found" in str(exc.message)
            )
            if missing:
                raise LookupError(f"no version of {self.name!r} has the alias @{self.alias}") from exc
            raise

    def load(self, version: str) -> Any:
        """Load one version through ``predmaint.model.registry.load_model``."""
        loaded = load_model(self.params, version=version)
        return loaded if loaded.alias else replace(loaded, alias=self.alias)
