# predmaint runtime image: one image for every service; the CMD picks the service.
# Stages: uv → builder (venv from uv.lock) → runtime (the API image) → workspace (runtime + the DVC
# workspace the deployment runner needs) → api (the default target, identical to runtime).
# docker-compose.yml builds `runtime` for the API and `workspace` for MLflow, Prefect and the runner.
#   docker build -t predmaint .
#   docker run -p 8000:8000 -v $PWD/mlruns:/app/mlruns -e PREDMAINT_ADMIN_TOKEN=... predmaint   # the API
#   docker run predmaint predmaint monitor ...                                                   # another service
# Dependencies come from uv.lock exactly (uv sync --frozen --no-dev); the runtime stage has no
# compiler, no uv and no source tree, and runs as an unprivileged user.
# Needs BuildKit (DOCKER_BUILDKIT=1 with Docker 20.10) and no `# syntax=` frontend image, so it builds
# with only the base images present locally (deploy/offline-bases.sh builds stand-ins without a registry).
# Behind a TLS-intercepting proxy, hand uv the proxy's CA bundle as a build secret; it is mounted for
# the `uv sync` steps only and never lands in a layer:
#   docker build --network host --secret id=ca-bundle,src=/etc/ssl/certs/ca-certificates.crt .

ARG PYTHON_VERSION=3.11
ARG UV_VERSION=0.13.9

FROM ghcr.io/astral-sh/uv:${UV_VERSION} AS uv

FROM python:${PYTHON_VERSION}-slim-bookworm AS builder
COPY --from=uv /uv /bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# 1) third-party dependencies only: this layer is reused until uv.lock changes
COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=cache,target=/root/.cache/uv --mount=type=secret,id=ca-bundle \
    if [ -s /run/secrets/ca-bundle ]; then export SSL_CERT_FILE=/run/secrets/ca-bundle; fi \
 && uv sync --frozen --no-dev --no-install-project
# 2) the project itself, installed as a wheel (not editable) so the runtime needs no source
COPY src ./src
COPY serving ./serving
RUN --mount=type=cache,target=/root/.cache/uv --mount=type=secret,id=ca-bundle \
    if [ -s /run/secrets/ca-bundle ]; then export SSL_CERT_FILE=/run/secrets/ca-bundle; fi \
 && uv sync --frozen --no-dev --no-editable

FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
ARG APP_UID=10001
RUN groupadd --system --gid ${APP_UID} predmaint \
 && useradd --system --uid ${APP_UID} --gid predmaint --home-dir /app --shell /usr/sbin/nologin predmaint
WORKDIR /app
COPY --from=builder /app/.venv /app/.venv
COPY params.yaml ./
COPY expectations ./expectations
# writable state only where the service writes (prediction log, deployment log, MLflow store);
# code, params and the contract stay root-owned and read-only for the app user
RUN mkdir -p data/predictions mlruns reports \
 && chown predmaint:predmaint /app data data/predictions mlruns reports
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PREDMAINT_PARAMS=/app/params.yaml \
    PREDMAINT_API_HOST=0.0.0.0 \
    PREDMAINT_API_PORT=8000 \
    PREDMAINT_HEALTH_URL=http://127.0.0.1:8000/health \
    DO_NOT_TRACK=true \
    MLFLOW_DISABLE_TELEMETRY=true \
    PREFECT_SERVER_ANALYTICS_ENABLED=false \
    DVC_NO_ANALYTICS=1 \
    GX_ANALYTICS_ENABLED=False
USER predmaint
EXPOSE 8000
# other services set PREDMAINT_HEALTH_URL (or their own healthcheck in compose)
HEALTHCHECK --interval=15s --timeout=3s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['PREDMAINT_HEALTH_URL'], timeout=2)"]
CMD ["predmaint", "serve"]

# The platform image (compose: mlflow, prefect-server, runner): the same venv plus the project's DVC
# workspace. The runner executes `dvc repro --single-item <stage>`, so it needs dvc.yaml/dvc.lock,
# .dvc/config, flows/ and the sources DVC hashes as stage dependencies. There is no git in the image:
# DVC runs without SCM (.dvc/config.local) and lineage tags record git_commit "unknown".
FROM runtime AS workspace
USER root
COPY dvc.yaml dvc.lock ./
COPY .dvc/config ./.dvc/config
COPY src ./src
COPY flows ./flows
RUN printf '[core]\n    no_scm = true\n' > .dvc/config.local \
 && mkdir -p .dvc/cache .dvc/tmp data/production models /mlartifacts \
 && chown predmaint:predmaint dvc.lock .dvc .dvc/cache .dvc/tmp data/production models /mlartifacts
ENV PREFECT_RUNNER_SERVER_ENABLE=true \
    PREFECT_RUNNER_SERVER_HOST=127.0.0.1 \
    PREFECT_RUNNER_SERVER_PORT=8080 \
    PREDMAINT_HEALTH_URL=http://127.0.0.1:8080/health
USER predmaint
CMD ["python", "flows/deployments.py"]

# Default target (`docker build .`): the API image, exactly the runtime stage.
FROM runtime AS api
