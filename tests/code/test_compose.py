"""Static checks of docker-compose.yml and the Dockerfile (no Docker engine runs here).

The compose file is validated against the Compose Specification JSON schema (tests/fixtures), its
commands against the project's real entry points, its ports and environment against params.yaml,
and its secrets against literal values. ``load_compose`` is reused by tests/integration/test_postgres.py.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from typer.testing import CliRunner

from predmaint.cli import app
from predmaint.config import Params, load_params
from predmaint.config.runtime import TELEMETRY_OPT_OUTS
from tests.conftest import REPO

COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
SCHEMA = REPO / "tests" / "fixtures" / "compose-spec.json"
SERVICES = {"postgres", "mlflow", "prefect-server", "runner", "api", "api-2"}
SECRETS = (
    "POSTGRES_PASSWORD",
    "MLFLOW_DB_PASSWORD",
    "PREFECT_DB_PASSWORD",
    "PREDICTIONS_DB_PASSWORD",
    "PREDMAINT_ADMIN_TOKEN",
    "PREDMAINT_PREDICT_TOKENS",
    "PREDMAINT_FEEDBACK_TOKENS",
    "PREDMAINT_PREDICT_TOKEN",
    "PREDMAINT_FEEDBACK_TOKEN",
)
VAR = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
REQUIRED_REF = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]+\}$")
SECRET_NAME = re.compile(r"PASSWORD|TOKEN|SECRET|API_KEY|PRIVATE")
BIN = Path(sys.executable).parent


class MissingVariableError(KeyError):
    """A ``${VAR:?message}`` reference whose variable is unset or empty."""


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Apply Compose variable interpolation (``${V}``, ``${V:-d}``, ``${V-d}``, ``${V:?e}``, ``$$``)."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(m: re.Match[str]) -> str:
        name, op, arg = m["name"], m["op"], m["arg"]
        current = env.get(name)
        unset = current is None or (current == "" and op is not None and op.startswith(":"))
        if op in (":?", "?") and unset:
            raise MissingVariableError(f"{name}: {arg}")
        if op in (":-", "-") and unset:
            return str(arg)
        return current or ""

    return VAR.sub(one, value.replace("$$", "\0")).replace("\0", "$")


def load_compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    """docker-compose.yml as Compose sees it: YAML anchors merged, variables interpolated."""
    raw = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return raw if env is None else interpolate(raw, env)


def secrets_env() -> dict[str, str]:
    """Every required secret, as `deploy/new-env.sh > .env` (the README's way) writes them."""
    out = subprocess.run(
        ["bash", str(REPO / "deploy" / "new-env.sh")], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if line and not line.startswith("#"))


def argv(service: dict[str, Any]) -> list[str]:
    command = service.get("command", [])
    return shlex.split(command) if isinstance(command, str) else [str(c) for c in command]


def option(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "environment must be a mapping"
    return {k: str(v) for k, v in env.items()}


def healthcheck_url(service: dict[str, Any]) -> str:
    found = re.search(r"https?://[^'\"\s]+", " ".join(service["healthcheck"]["test"]))
    assert found, service["healthcheck"]
    return found.group(0)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose(secrets_env())


def test_new_env_fills_every_secret_with_fresh_values_and_matching_token_hashes() -> None:
    from serving.tokens import digest, parse_tokens

    first, second = secrets_env(), secrets_env()
    assert set(SECRETS) <= set(first) and all(first[s] for s in SECRETS), first.keys()
    assert all(first[s] != second[s] for s in SECRETS), "every run draws new secrets"
    for scope in ("PREDICT", "FEEDBACK"):
        entries = parse_tokens(first[f"PREDMAINT_{scope}_TOKENS"], scope)
        assert entries == {digest(first[f"PREDMAINT_{scope}_TOKEN"]): "runner"}
        assert first[f"PREDMAINT_{scope}_TOKEN"] not in first[f"PREDMAINT_{scope}_TOKENS"], "the API gets hashes only"


@pytest.fixture(scope="module")
def params() -> Params:
    return load_params(REPO / "params.yaml", environ={})


def test_compose_file_validates_against_the_compose_specification(compose: dict[str, Any]) -> None:
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(compose)]
    assert not errors, errors
    broken = {**compose, "services": {**compose["services"], "api": {**compose["services"]["api"], "helthcheck": {}}}}
    assert not validator.is_valid(broken), "the schema must reject an unknown service key"
    assert set(compose["services"]) == SERVICES


def test_every_service_is_healthchecked_and_waits_for_healthy_dependencies(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, svc in services.items():
        assert svc.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        for dep, cond in svc.get("depends_on", {}).items():
            assert dep in services and cond == {"condition": "service_healthy"}, (name, dep, cond)
    assert set(services["runner"]["depends_on"]) == {"prefect-server", "mlflow"}
    assert set(services["mlflow"]["depends_on"]) == set(services["prefect-server"]["depends_on"]) == {"postgres"}
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]


def test_predmaint_commands_are_real_cli_commands(compose: dict[str, Any]) -> None:
    runner = CliRunner()
    commands = [argv(s) for s in compose["services"].values() if argv(s)[:1] == ["predmaint"]]
    assert commands == [["predmaint", "serve"]] * 2, "two API replicas"
    for command in commands:
        result = runner.invoke(app, [*command[1:], "--help"])
        assert result.exit_code == 0, (command, result.output)


def test_runner_command_is_the_deployments_entry_point_shipped_in_the_image(compose: dict[str, Any]) -> None:
    args = argv(compose["services"]["runner"])
    assert args == ["python", "flows/deployments.py"]
    script = REPO / args[1]
    assert script.is_file() and "__main__" in script.read_text(encoding="utf-8")
    assert re.search(r"^COPY flows \./flows$", _stage(DOCKERFILE.read_text(), "workspace"), re.M)


def test_mlflow_command_uses_only_real_server_options(compose: dict[str, Any]) -> None:
    from mlflow.cli import server

    assert (BIN / "mlflow").is_file()
    args = argv(compose["services"]["mlflow"])
    assert args[:2] == ["mlflow", "server"]
    opts = {o for p in server.params for o in p.opts}
    assert {a for a in args[2:] if a.startswith("--")} <= opts
    envvars = {p.name: p.envvar for p in server.params}
    assert envvars["backend_store_uri"] == "MLFLOW_BACKEND_STORE_URI"
    assert urlsplit(env_of(compose["services"]["mlflow"])["MLFLOW_BACKEND_STORE_URI"]).scheme == "postgresql"
    assert {"--serve-artifacts", "--artifacts-destination", "--allowed-hosts"} <= set(args)
    volumes = compose["services"]["mlflow"]["volumes"]
    assert any(v.split(":")[1] == option(args, "--artifacts-destination") for v in volumes)
    allowed = option(args, "--allowed-hosts").split(",")
    assert any(fnmatch.fnmatch("mlflow:5000", h) for h in allowed), "in-network clients must be accepted"


def test_prefect_server_command_and_database_url(compose: dict[str, Any]) -> None:
    assert (BIN / "prefect").is_file()
    svc = compose["services"]["prefect-server"]
    args = argv(svc)
    assert args[:3] == ["prefect", "server", "start"] and option(args, "--host") == "0.0.0.0"
    out = subprocess.run(
        [str(BIN / "prefect"), "server", "start", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert {a for a in args[3:] if a.startswith("--")} <= set(re.findall(r"--[a-z-]+", out))
    url = urlsplit(env_of(svc)["PREFECT_API_DATABASE_CONNECTION_URL"])
    assert (url.scheme, url.hostname, url.path) == ("postgresql+asyncpg", "postgres", "/prefect")


def test_ports_follow_params_yaml(compose: dict[str, Any], params: Params) -> None:
    s = compose["services"]
    expected = {
        "mlflow": params.orchestration.mlflow_port,
        "prefect-server": params.orchestration.prefect_port,
        "api": params.serving.port,
    }
    for name, port in expected.items():
        published = [p.rsplit(":", 2) for p in s[name]["ports"]]
        assert [(addr, int(host), int(target)) for addr, host, target in published] == [("127.0.0.1", port, port)]
        assert urlsplit(healthcheck_url(s[name])).port == port
    assert int(option(argv(s["mlflow"]), "--port")) == params.orchestration.mlflow_port
    assert int(option(argv(s["prefect-server"]), "--port")) == params.orchestration.prefect_port
    assert urlsplit(env_of(s["runner"])["PREFECT_API_URL"]).port == params.orchestration.prefect_port
    for name in ("runner", "api"):
        assert env_of(s[name])["PREDMAINT_TRACKING_URI"] == f"http://mlflow:{params.orchestration.mlflow_port}"
    assert re.search(rf"^EXPOSE {params.serving.port}$", DOCKERFILE.read_text(), re.M)


def test_service_environment_is_valid_for_params_yaml(compose: dict[str, Any]) -> None:
    for name in ("runner", "api"):
        env = env_of(compose["services"][name])
        loaded = load_params(REPO / "params.yaml", environ=env)  # a wrong PREDMAINT_* key raises here
        assert loaded.tracking_uri == env["PREDMAINT_TRACKING_URI"]
        assert loaded.serving.admin_token_env in env
    api = load_params(REPO / "params.yaml", environ=env_of(compose["services"]["api"]))
    assert (api.serving.host, api.serving.port) == ("0.0.0.0", 8000)


def test_api_replicas_start_off_loopback_and_accept_the_runner_and_the_published_port(
    compose: dict[str, Any],
) -> None:
    """Bound to 0.0.0.0 the API needs scoped tokens (issue 18): each replica's settings validate, its guard
    takes the runner's plain tokens, and Host headers of the in-network names and the published address."""
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from predmaint.ops.replay import CLIENT_TOKEN_ENV
    from serving.api.guard import GuardMiddleware
    from serving.settings import Settings

    services = compose["services"]
    runner = env_of(services["runner"])
    replicas = sorted(n for n, s in services.items() if argv(s) == ["predmaint", "serve"])
    ok = Starlette(routes=[Route(r, lambda _: PlainTextResponse("ok"), methods=["POST"]) for r in CLIENT_TOKEN_ENV])
    for name in replicas:
        env = env_of(services[name])
        settings = Settings.from_params(load_params(REPO / "params.yaml", environ=env), environ=env)  # raises if not
        assert "*" not in settings.serving.trusted_hosts
        published = services[name]["ports"][0].rsplit(":", 2)
        bases = [f"http://{n}:{env['PREDMAINT_API_PORT']}" for n in replicas] + [
            f"http://{host}:{published[1]}" for host in (published[0], "localhost")
        ]
        for base in bases:
            client = TestClient(GuardMiddleware(ok, settings), base_url=base)
            for route, token_env in CLIENT_TOKEN_ENV.items():
                sent = client.post(route, json=[], headers={"Authorization": f"Bearer {runner[token_env]}"})
                assert sent.status_code == 200, (name, base, route, sent.text)
                assert client.post(route, json=[]).status_code == 401, (name, base, route)
        foreign = TestClient(GuardMiddleware(ok, settings), base_url="http://attacker.example")
        assert foreign.post("/predict", json=[]).status_code == 400


def test_telemetry_is_off_in_every_service(compose: dict[str, Any]) -> None:
    for name, svc in compose["services"].items():
        env = env_of(svc)
        assert {k: env.get(k) for k in TELEMETRY_OPT_OUTS} == TELEMETRY_OPT_OUTS, name


def test_no_literal_secret_in_the_compose_file() -> None:
    raw = load_compose()
    for name, svc in raw["services"].items():
        for key, value in env_of(svc).items():
            if SECRET_NAME.search(key):
                assert REQUIRED_REF.match(value), f"{name}.{key} must be a ${{VAR:?message}} reference"
            url = urlsplit(value) if "://" in value else None
            if url is not None and url.password is not None:
                assert REQUIRED_REF.match(url.password), f"{name}.{key}: password in URL is not a reference"
    for secret in SECRETS:
        with pytest.raises(MissingVariableError, match=secret):
            load_compose({k: v for k, v in secrets_env().items() if k != secret})


def test_env_example_lists_every_variable_with_empty_secrets() -> None:
    text = (REPO / ".env.example").read_text(encoding="utf-8")
    documented = dict(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", text, re.M))
    used = set(VAR.findall(COMPOSE.read_text(encoding="utf-8")))
    assert {name for name, _, _ in used} <= set(documented)
    assert all(documented[s] == "" for s in SECRETS)
    tracked = subprocess.run(["git", "ls-files", ".env"], check=False, cwd=REPO, capture_output=True, text=True).stdout
    assert not tracked.strip(), ".env must never be committed"


def test_postgres_image_is_pinned_and_initialises_both_databases(compose: dict[str, Any]) -> None:
    svc = compose["services"]["postgres"]
    assert re.fullmatch(r"postgres:\d+\.\d+(-[a-z]+)?", svc["image"]), svc["image"]
    mounts = dict(v.split(":")[:2] for v in svc["volumes"])
    init = [REPO / src for src, dst in mounts.items() if dst.startswith("/docker-entrypoint-initdb.d/")]
    assert len(init) == 1 and init[0].is_file() and init[0].stat().st_mode & stat.S_IXUSR
    script = init[0].read_text(encoding="utf-8")
    assert re.search(r"CREATE DATABASE mlflow\b", script) and re.search(r"CREATE DATABASE prefect\b", script)
    assert "postgres-data" in compose["volumes"] and "/var/lib/postgresql/data" in mounts.values()


def _stages(text: str) -> dict[str, str]:
    parts = re.split(r"^FROM\s+", text, flags=re.M)[1:]
    return {re.search(r"\bAS\s+(\S+)", p.splitlines()[0], re.I).group(1): p for p in parts}  # type: ignore[union-attr]


def _stage(text: str, name: str) -> str:
    return _stages(text)[name]


def test_dockerfile_builds_from_the_lockfile_runs_unprivileged_and_is_healthchecked(compose: dict[str, Any]) -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    stages = _stages(text)
    assert list(stages) == ["uv", "builder", "runtime", "workspace", "api"]
    assert stages["api"].splitlines()[0].split()[0] == "runtime", "default target must be the API image"
    builder = stages["builder"]
    assert "COPY pyproject.toml uv.lock" in builder and "pip install" not in text
    assert all("--frozen" in s and "--no-dev" in s for s in re.findall(r"uv sync[^\n]*", builder))
    assert len(re.findall(r"uv sync", builder)) == 2
    for name in ("runtime", "workspace"):
        users = re.findall(r"^USER\s+(\S+)", stages[name], re.M)
        assert users and users[-1] not in {"root", "0"}, f"stage {name} ends as {users}"
    assert re.search(r"^HEALTHCHECK .*\n?\s*CMD", stages["runtime"], re.M)
    assert re.search(r'^CMD \["predmaint", "serve"\]$', stages["runtime"], re.M)
    targets = {s["build"]["target"] for s in compose["services"].values() if "build" in s}
    assert targets == {"runtime", "workspace"} and targets <= set(stages)


def test_dockerignore_keeps_everything_the_dockerfile_copies() -> None:
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = [
        src for line in re.findall(r"^COPY (?!--from)(.+)$", DOCKERFILE.read_text(), re.M) for src in line.split()[:-1]
    ]
    assert sources
    for src in sources:
        assert (REPO / src).exists(), src
        assert not any(fnmatch.fnmatch(src, p) or src.startswith(p.rstrip("/") + "/") for p in patterns), src


def test_interpolation_follows_compose_rules() -> None:
    assert interpolate("${A:-x}|${B-y}|${C}|$$D", {"B": ""}) == "x|||$D"
    assert interpolate("${A:-x}", {"A": "set"}) == "set"
    with pytest.raises(MissingVariableError):
        interpolate("${A:?need A}", {"A": ""})
    assert interpolate("${A?need A}", {"A": ""}) == ""


def test_images_build_offline_and_behind_a_tls_proxy(compose: dict[str, Any]) -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert not re.search(r"^#\s*syntax\s*=", text, re.M | re.I), "a syntax line fetches a frontend from Docker Hub"
    runs = re.findall(r"^RUN (?:.*\\\n)*.*$", text, re.M)
    syncs = [r for r in runs if "uv sync" in r]
    assert len(syncs) == 2 and all("--mount=type=secret,id=ca-bundle" in r and "SSL_CERT_FILE" in r for r in syncs)
    assert "ca-certificates.crt" not in re.sub(r"^#.*$", "", text, flags=re.M), "the CA bundle never lands in a layer"
    built = [s for s in compose["services"].values() if "build" in s]
    assert built and all(s["build"].get("network") == "host" for s in built)
    bases = set(re.findall(r"^FROM (\S+)", text, re.M)) | {compose["services"]["postgres"]["image"]}
    script = (REPO / "deploy" / "offline-bases.sh").read_text(encoding="utf-8")
    assert "debootstrap" in script and (REPO / "deploy" / "offline-bases.sh").stat().st_mode & stat.S_IXUSR
    assert {b.split(":")[0] for b in bases if "$" in b} == {"python", "ghcr.io/astral-sh/uv"}, bases


def test_service_settings_that_running_the_stack_showed_wrong(compose: dict[str, Any]) -> None:
    services = compose["services"]
    health = services["postgres"]["healthcheck"]["test"]
    assert health[health.index("--username") + 1] == "postgres", "pg_isready without a user logs FATAL each time"
    assert services["mlflow"]["environment"]["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] == "false"
    prefect = services["prefect-server"]["environment"]
    assert prefect["PREFECT_UI_STATIC_DIRECTORY"].startswith(prefect["PREFECT_HOME"] + "/"), "must be writable"
    replicas = sorted(n for n, s in services.items() if argv(s) == ["predmaint", "serve"])
    urls = services["runner"]["environment"]["PREDMAINT_SERVICE_URLS"].split(",")
    assert urls == [f"http://{n}:{services[n]['environment']['PREDMAINT_API_PORT']}" for n in replicas]
    logs = {services[n]["environment"]["PREDMAINT_PATHS__PREDICTION_LOG_URL"] for n in [*replicas, "runner"]}
    assert len(logs) == 1 and logs.pop().startswith("postgresql://predictions:"), "one PostgreSQL log for all"
    assert all("postgres" in services[n]["depends_on"] for n in replicas)
    python = [n for n in services if n != "postgres"]
    assert all(services[n].get("init") is True for n in python), "PID 1 Python ignores SIGTERM: down waits it out"
    data_dir = next(v for v in services["runner"]["volumes"] if v.endswith(":/source:ro"))
    assert not data_dir.startswith(".."), "the default data folder must not point outside the repository"
