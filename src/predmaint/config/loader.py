"""Loading ``params.yaml``: the one place it is read, validated and overridden from the environment."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError, model_validator

from predmaint.config.base import Section
from predmaint.config.data import (
    CleanParams,
    DataParams,
    PathParams,
    PhysicsParams,
    ProjectParams,
    QualityParams,
    SimulatorParams,
    SplitParams,
)
from predmaint.config.model import (
    BacktestParams,
    CostParams,
    MlflowParams,
    ModelParams,
    PromotionParams,
    TrainingParams,
)
from predmaint.config.operations import (
    MonitoringParams,
    OrchestrationParams,
    ReplayParams,
    RetentionParams,
    ServingParams,
)

PARAMS_ENV = "PREDMAINT_PARAMS"
ENV_PREFIX = "PREDMAINT_"
_SQLITE = "sqlite:///"
ENV_ALIASES: dict[str, tuple[str, ...]] = {
    "PREDMAINT_DATA_PATH": ("data", "csv_path"),
    "PREDMAINT_TRACKING_URI": ("mlflow", "tracking_uri"),
    "PREDMAINT_API_HOST": ("serving", "host"),
    "PREDMAINT_API_PORT": ("serving", "port"),
}
_NOT_OVERRIDES = {PARAMS_ENV, "PREDMAINT_ADMIN_TOKEN"}


class ConfigError(RuntimeError):
    """The params file is missing, unreadable or invalid; the message names the file and key."""


class Params(Section):
    """The whole of ``params.yaml``; ``root`` is the folder relative paths are resolved against."""

    root: Path
    project: ProjectParams
    paths: PathParams
    data: DataParams
    split: SplitParams
    simulator: SimulatorParams
    clean: CleanParams
    quality: QualityParams
    physics: PhysicsParams
    model: ModelParams
    training: TrainingParams
    costs: CostParams
    mlflow: MlflowParams
    promotion: PromotionParams
    backtest: BacktestParams
    serving: ServingParams
    monitoring: MonitoringParams
    replay: ReplayParams
    retention: RetentionParams
    orchestration: OrchestrationParams

    @model_validator(mode="after")
    def _known_drift_scenario(self) -> Params:
        if self.replay.drift_scenario not in self.simulator.scenarios:
            known = sorted(self.simulator.scenarios)
            raise ValueError(f"key 'replay.drift_scenario': {self.replay.drift_scenario!r} is not one of {known}")
        return self

    def path(self, value: Path | str) -> Path:
        """Resolve a path from the params file against the project root."""
        p = Path(value)
        return p if p.is_absolute() else (self.root / p).resolve()

    @property
    def tracking_uri(self) -> str:
        """The MLflow tracking URI with a relative SQLite path made absolute."""
        uri = self.mlflow.tracking_uri
        if uri.startswith(_SQLITE) and not uri.startswith(_SQLITE + "/"):
            return _SQLITE + str(self.path(uri[len(_SQLITE) :]))
        return uri

    @property
    def registry_file(self) -> Path | None:
        """The SQLite file of the tracking URI (None for a server or another database)."""
        uri = self.tracking_uri
        return Path(uri[len(_SQLITE) :]) if uri.startswith(_SQLITE) else None


def default_params_path() -> Path:
    """The params file: ``$PREDMAINT_PARAMS`` or ``params.yaml`` in the working directory."""
    return Path(os.environ.get(PARAMS_ENV, "params.yaml")).resolve()


def _env_overrides(environ: dict[str, str]) -> list[tuple[tuple[str, ...], str, str]]:
    found: list[tuple[tuple[str, ...], str, str]] = []
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name in _NOT_OVERRIDES:
            continue
        if name in ENV_ALIASES:
            found.append((ENV_ALIASES[name], value, name))
        elif "__" in name:
            keys = tuple(k.lower() for k in name[len(ENV_PREFIX) :].split("__"))
            found.append((keys, value, name))
    return found


def _apply_override(raw: dict[str, Any], keys: tuple[str, ...], value: str, var: str, path: Path) -> None:
    node = raw
    for key in keys[:-1]:
        if not isinstance(node.get(key), dict):
            raise ConfigError(f"{var} overrides '{'.'.join(keys)}', which {path} does not have")
        node = node[key]
    if keys[-1] not in node:
        raise ConfigError(f"{var} overrides '{'.'.join(keys)}', which {path} does not have")
    node[keys[-1]] = yaml.safe_load(value) if value != "" else None


def _format_errors(path: Path, err: ValidationError) -> str:
    """One line: the file, then each problem naming its key (``; ``-separated)."""
    problems = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"])
        if e["type"] == "missing":
            problems.append(f"missing key '{key}'")
        elif e["type"] == "extra_forbidden":
            problems.append(f"unknown key '{key}'")
        elif e["type"] == "value_error" and not key:  # a check across sections names its keys itself
            problems.append(str(e["msg"]).removeprefix("Value error, "))
        elif e["type"] == "value_error":
            problems.append(f"key '{key}': {str(e['msg']).removeprefix('Value error, ')}")
        else:
            given = repr(e.get("input"))
            problems.append(f"key '{key}': {e['msg']} (got {given if len(given) <= 60 else given[:59] + '…'})")
    return f"{path}: invalid parameters: " + "; ".join(problems)


def load_params(path: Path | str | None = None, environ: dict[str, str] | None = None) -> Params:
    """Read, override from the environment, and validate the params file.

    Args:
        path: The params file; defaults to :func:`default_params_path`.
        environ: The environment to read overrides from; defaults to ``os.environ``.

    Returns:
        The validated parameters.

    Raises:
        ConfigError: The file is missing or unreadable, or a key is missing, unknown or of the
            wrong type. The message names the file and the key.
    """
    file = Path(path).resolve() if path is not None else default_params_path()
    if not file.is_file():
        raise ConfigError(f"{file}: params file not found (set {PARAMS_ENV} or run from the project root)")
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: expected a mapping of sections at the top level")
    for keys, value, var in _env_overrides(dict(os.environ if environ is None else environ)):
        _apply_override(raw, keys, value, var, file)
    raw["root"] = file.parent
    try:
        return Params.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_errors(file, exc)) from None


@lru_cache(maxsize=8)
def _cached(path: str, env_key: tuple[tuple[str, str], ...]) -> Params:
    return load_params(path, dict(env_key))


def get_params(path: Path | str | None = None) -> Params:
    """Return the params for this process, read once per (file, environment) pair."""
    file = str(Path(path).resolve() if path is not None else default_params_path())
    env_key = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(ENV_PREFIX)))
    return _cached(file, env_key)
