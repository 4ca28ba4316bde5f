"""Typed, validated settings of the service: predmaint's params.yaml plus the environment.

Built once at start-up (:meth:`Settings.from_env` in the worker process), so a bad params file,
a contract without bounds for a model input, a too-short admin token, a malformed token list or a
non-loopback bind address without tokens stop the service before it accepts a request, with a
message naming the key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from predmaint import schema
from predmaint.config import PARAMS_ENV, Params, ServingParams, load_params
from predmaint.quality.contract import load_contract
from predmaint.service.predlog import location
from predmaint.service.process import INSTANCE_ENV, new_instance_id
from serving.tokens import parse_tokens

MIN_TOKEN_LENGTH = 16
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


class Settings(BaseModel):
    """Everything the app needs, validated.

    Attributes:
        params: The validated params.yaml (``serving``, ``paths``, ``mlflow``, ``physics`` are used).
        bounds: AI4I numeric column → (min, max) accepted at the API: the data contract's bounds.
        product_types: Accepted values of ``type``.
        integer_columns: AI4I columns the contract types as integers (whole numbers required).
        process_above_air: Enforce the contract's blocking rule "process temperature above air".
        admin_token: Bearer token of ``POST /admin/reload``; None disables the endpoint.
        predict_tokens: SHA-256 digest → identity of the tokens accepted by ``POST /predict``
            (``serving.predict_tokens_env``); empty = no token needed (allowed on loopback only).
        feedback_tokens: The same for ``POST /feedback`` (``serving.feedback_tokens_env``).
        instance_id: Reported by ``/ready`` so that whoever started this process can tell it from
            another server on the same port (``$PREDMAINT_INSTANCE_ID``; random when unset).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    params: Params
    bounds: dict[str, tuple[float, float]]
    product_types: tuple[str, ...]
    integer_columns: tuple[str, ...] = ()
    process_above_air: bool = False
    admin_token: SecretStr | None = None
    predict_tokens: dict[str, str] = {}
    feedback_tokens: dict[str, str] = {}
    instance_id: str = Field(default_factory=new_instance_id)

    @model_validator(mode="after")
    def _check(self) -> Settings:
        missing = [c for c in schema.NUMERIC_FEATURES if c not in self.bounds]
        if missing:
            raise ValueError(f"the data contract has no bounds for model input(s) {missing}")
        for column, (low, high) in self.bounds.items():
            if not low < high:
                raise ValueError(f"contract bounds of {column!r} are empty: [{low}, {high}]")
        if not self.product_types:
            raise ValueError("the data contract lists no product types")
        token = self.admin_token.get_secret_value() if self.admin_token else None
        if token is not None and len(token) < MIN_TOKEN_LENGTH:
            raise ValueError(
                f"${self.params.serving.admin_token_env} is shorter than {MIN_TOKEN_LENGTH} characters; "
                f"set a longer secret (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(24))'`) "
                "or unset it to disable POST /admin/reload"
            )
        s = self.params.serving
        if s.host not in LOOPBACK:
            for env_name, tokens in (
                (s.predict_tokens_env, self.predict_tokens),
                (s.feedback_tokens_env, self.feedback_tokens),
            ):
                if not tokens:
                    raise ValueError(
                        f"serving.host = {s.host} is not loopback, so ${env_name} must list tokens "
                        "(python -m serving.tokens NAME makes one)"
                    )
        return self

    @property
    def serving(self) -> ServingParams:
        """The ``serving`` section of params.yaml."""
        return self.params.serving

    @property
    def prediction_log(self) -> Path | str:
        """The prediction log: the SQLite file's absolute path, or the PostgreSQL URL."""
        return location(self.params)

    @property
    def deployment_log(self) -> Path:
        """Absolute path of ``deployment_log.csv``."""
        return self.params.path(self.params.paths.deployment_log)

    @classmethod
    def from_params(
        cls,
        params: Params,
        environ: Mapping[str, str] | None = None,
        bounds: Mapping[str, tuple[float, float]] | None = None,
        product_types: tuple[str, ...] | None = None,
    ) -> Settings:
        """Settings from loaded params; bounds and types from the data contract unless given.

        Args:
            params: Validated params.
            environ: Where the admin and scoped tokens are read (names in ``serving``); default ``os.environ``.
            bounds: Override the contract's bounds (AI4I column → (min, max)).
            product_types: Override the contract's product types.
        """
        env = os.environ if environ is None else environ
        contract = load_contract(params)
        bounds = contract.bounds if bounds is None else bounds
        rule = contract.rules.get("process_above_air")
        token = env.get(params.serving.admin_token_env) or None
        s = params.serving
        return cls(
            params=params,
            bounds={k: (float(v[0]), float(v[1])) for k, v in bounds.items() if k in schema.NUMERIC_FEATURES},
            product_types=tuple(contract.product_types if product_types is None else product_types),
            integer_columns=tuple(
                c for c in schema.NUMERIC_FEATURES if c in contract.columns and contract.columns[c].dtype == "integer"
            ),
            process_above_air=bool(rule and rule.blocking),
            admin_token=SecretStr(token) if token else None,
            predict_tokens=parse_tokens(env.get(s.predict_tokens_env), s.predict_tokens_env),
            feedback_tokens=parse_tokens(env.get(s.feedback_tokens_env), s.feedback_tokens_env),
            instance_id=env.get(INSTANCE_ENV) or new_instance_id(),
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings of this process: params from ``$PREDMAINT_PARAMS`` (or ./params.yaml) + env overrides."""
        env = dict(os.environ if environ is None else environ)
        return cls.from_params(load_params(env.get(PARAMS_ENV), env), env)
