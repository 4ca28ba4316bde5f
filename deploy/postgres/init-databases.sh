#!/usr/bin/env bash
# One role and one database per service: role mlflow owns database mlflow, role prefect owns
# database prefect; neither can reach the other's data. The official postgres image runs this
# once, on the first start of an empty data volume (/docker-entrypoint-initdb.d/). The same script
# is run against a throw-away server by tests/integration/test_postgres.py.
#   env: POSTGRES_USER, POSTGRES_DB (connection), MLFLOW_DB_PASSWORD, PREFECT_DB_PASSWORD
set -euo pipefail
: "${MLFLOW_DB_PASSWORD:?set MLFLOW_DB_PASSWORD}"
: "${PREFECT_DB_PASSWORD:?set PREFECT_DB_PASSWORD}"

psql -v ON_ERROR_STOP=1 --no-psqlrc \
    --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
    --set mlflow_password="$MLFLOW_DB_PASSWORD" --set prefect_password="$PREFECT_DB_PASSWORD" <<'SQL'
CREATE ROLE mlflow LOGIN PASSWORD :'mlflow_password';
CREATE DATABASE mlflow OWNER mlflow;
REVOKE ALL ON DATABASE mlflow FROM PUBLIC;

CREATE ROLE prefect LOGIN PASSWORD :'prefect_password';
CREATE DATABASE prefect OWNER prefect;
REVOKE ALL ON DATABASE prefect FROM PUBLIC;
SQL
