#!/usr/bin/env bash
# One role and one database per service: role mlflow owns database mlflow, role prefect owns
# database prefect, role predictions owns database predictions (the API replicas' prediction log);
# none can reach another's data. The official postgres image runs this
# once, on the first start of an empty data volume (/docker-entrypoint-initdb.d/). The same script
# is run against a throw-away server by tests/integration/test_postgres.py.
#   env: POSTGRES_USER, POSTGRES_DB (connection), MLFLOW_DB_PASSWORD, PREFECT_DB_PASSWORD,
#        PREDICTIONS_DB_PASSWORD
set -euo pipefail
: "${MLFLOW_DB_PASSWORD:?set MLFLOW_DB_PASSWORD}"
: "${PREFECT_DB_PASSWORD:?set PREFECT_DB_PASSWORD}"
: "${PREDICTIONS_DB_PASSWORD:?set PREDICTIONS_DB_PASSWORD}"

psql -v ON_ERROR_STOP=1 --no-psqlrc \
    --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
    --set mlflow_password="$MLFLOW_DB_PASSWORD" --set prefect_password="$PREFECT_DB_PASSWORD" \
    --set predictions_password="$PREDICTIONS_DB_PASSWORD" <<'SQL'
CREATE ROLE mlflow LOGIN PASSWORD :'mlflow_password';
CREATE DATABASE mlflow OWNER mlflow;
REVOKE ALL ON DATABASE mlflow FROM PUBLIC;

CREATE ROLE prefect LOGIN PASSWORD :'prefect_password';
CREATE DATABASE prefect OWNER prefect;
REVOKE ALL ON DATABASE prefect FROM PUBLIC;

CREATE ROLE predictions LOGIN PASSWORD :'predictions_password';
CREATE DATABASE predictions OWNER predictions;
REVOKE ALL ON DATABASE predictions FROM PUBLIC;
SQL
