"""The PostgreSQL path of docker-compose.yml, run for real on a throw-away local server.

A cluster is created with the machine's PostgreSQL binaries (Debian: ``apt-get install postgresql``)
in a temp folder and started on a free loopback port; the compose init script creates the roles and
databases; then training and the registry run against ``postgresql://mlflow:…@127.0.0.1:PORT/mlflow``
and the version and the champion alias are read back from PostgreSQL's own tables. Skipped, with the
reason, when no PostgreSQL server binaries are installed.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from predmaint.config import Params, load_params
from tests.conftest import REPO
from tests.model import conftest as model_fixtures

INIT_SCRIPT = REPO / "deploy" / "postgres" / "init-databases.sh"
MLFLOW_PASSWORD = "mlflow-test-pw"
PREFECT_PASSWORD = "prefect-test-pw"
SUPERUSER = "postgres"

pytestmark = pytest.mark.timeout(900)
project = model_fixtures.project  # the real-data project with a small forest (tests/model/conftest.py)


def _bin_dir() -> Path | None:
    """The folder holding initdb and pg_ctl: on PATH, else Debian's /usr/lib/postgresql/<major>/bin."""
    found = shutil.which("initdb") and shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    for folder in sorted(versions, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True):
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Server:
    """A running throw-away PostgreSQL server."""

    port: int
    socket_dir: Path

    def url(self, user: str, password: str, database: str, driver: str = "postgresql") -> str:
        return f"{driver}://{user}:{password}@127.0.0.1:{self.port}/{database}"

    def query(self, database: str, sql: str, args: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        import psycopg2

        conn = psycopg2.connect(host=str(self.socket_dir), port=self.port, user=SUPERUSER, dbname=database)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(sql, args)
                rows = cur.fetchall()
        finally:
            conn.close()
        return rows


@pytest.fixture(scope="module")
def postgres() -> Iterator[Server]:
    """initdb + pg_ctl start on 127.0.0.1:<free port>; as the postgres user when running as root."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found; apt-get install postgresql")
    prefix: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="predmaint-pg-"))
    if os.geteuid() == 0:  # initdb refuses to run as root
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            user = pwd.getpwnam("nobody")
        runuser = shutil.which("runuser")
        if runuser is None:
            shutil.rmtree(base)
            pytest.skip("running as root without runuser: cannot start PostgreSQL as an unprivileged user")
        os.chown(base, user.pw_uid, user.pw_gid)
        prefix = [runuser, "-u", user.pw_name, "--"]
    data, port = base / "data", _free_port()
    env = {**os.environ, "LC_ALL": "C"}

    def run(*cmd: str) -> None:
        done = subprocess.run([*prefix, *cmd], capture_output=True, text=True, env=env, check=False)
        assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}"

    run(str(bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth-local=trust",
        "--auth-host=scram-sha-256", "-E", "UTF8")  # fmt: skip
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    try:
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"), "-o", options, "-w", "-t",
            "120", "start")  # fmt: skip
        yield Server(port, base)
    finally:
        subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                       capture_output=True, check=False)  # fmt: skip
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def databases(postgres: Server) -> Server:
    """Run the compose init script (deploy/postgres/init-databases.sh) against the server."""
    if shutil.which("psql") is None:
        pytest.skip("psql not found (Debian: postgresql-client)")
    env = {
        **os.environ,
        "PGHOST": str(postgres.socket_dir),
        "PGPORT": str(postgres.port),
        "POSTGRES_USER": SUPERUSER,
        "POSTGRES_DB": "postgres",
        "MLFLOW_DB_PASSWORD": MLFLOW_PASSWORD,
        "PREFECT_DB_PASSWORD": PREFECT_PASSWORD,
    }
    done = subprocess.run(["bash", str(INIT_SCRIPT)], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return postgres


def test_init_script_creates_one_owned_database_per_service(databases: Server) -> None:
    owners = dict(
        databases.query(
            "postgres",
            "SELECT d.datname, r.rolname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba"
            " WHERE d.datname IN ('mlflow', 'prefect')",
        )
    )
    assert owners == {"mlflow": "mlflow", "prefect": "prefect"}
    import psycopg2

    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(databases.url("mlflow", "wrong", "mlflow")).close()
    with pytest.raises(psycopg2.OperationalError, match="permission denied"):
        psycopg2.connect(databases.url("mlflow", MLFLOW_PASSWORD, "prefect")).close()


def test_training_and_registry_live_in_postgres(databases: Server, project: Params) -> None:
    from predmaint.model.promote import promote
    from predmaint.model.registry import load_model
    from predmaint.model.run import train

    uri = databases.url("mlflow", MLFLOW_PASSWORD, "mlflow")
    params = load_params(project.root / "params.yaml", environ={"PREDMAINT_TRACKING_URI": uri})
    assert params.tracking_uri == uri
    result = train(params)
    decision = promote(params)
    assert decision.promoted, decision
    champion = load_model(params)
    assert (champion.version, champion.run_id) == (result.version, result.run_id)

    name = params.mlflow.registered_model
    versions = databases.query("mlflow", "SELECT version, run_id FROM model_versions WHERE name = %s", (name,))
    assert versions == [(int(result.version), result.run_id)]
    aliases = dict(
        databases.query("mlflow", "SELECT alias, version FROM registered_model_aliases WHERE name = %s", (name,))
    )
    assert aliases[params.mlflow.champion_alias] == int(result.version)
    runs = databases.query("mlflow", "SELECT status, artifact_uri FROM runs WHERE run_uuid = %s", (result.run_id,))
    assert runs[0][0] == "FINISHED"
    artifact_root = params.path(params.mlflow.artifact_root)
    assert str(runs[0][1]).startswith(artifact_root.as_uri()), "artifacts must stay under mlflow.artifact_root"
    metrics = databases.query("mlflow", "SELECT count(*) FROM metrics WHERE run_uuid = %s", (result.run_id,))
    assert int(metrics[0][0]) > 0
