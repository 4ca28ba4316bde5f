"""``predmaint serve``: run the prediction service under uvicorn."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from predmaint.config import PARAMS_ENV, Params, default_params_path

APP_FACTORY = "serving.app:create_app_from_env"


def register(app: typer.Typer, get: Callable[[typer.Context], Params]) -> None:
    """Add the ``serve`` command to ``app``."""

    @app.command()
    def serve(
        ctx: typer.Context,
        host: Annotated[str | None, typer.Option(help="Bind address (default: serving.host).")] = None,
        port: Annotated[int | None, typer.Option(help="Port (default: serving.port).")] = None,
        workers: Annotated[int | None, typer.Option(help="Worker processes (default: serving.workers).")] = None,
    ) -> None:
        """Serve the champion model over HTTP (FastAPI + uvicorn; host/port/workers from params.yaml/env).

        Each worker loads models:/<registered_model>@<champion_alias>, polls the alias every
        serving.reload_poll_s and hot-swaps new versions. Set $PREDMAINT_ADMIN_TOKEN to enable
        POST /admin/reload.
        """
        import uvicorn

        params = get(ctx)
        s = params.serving
        given = ctx.find_root().obj
        os.environ[PARAMS_ENV] = str(Path(given).resolve() if given else default_params_path())
        if host:  # the workers' settings see the real bind address (tokens are required off loopback)
            os.environ["PREDMAINT_API_HOST"] = host
        uvicorn.run(
            APP_FACTORY,
            factory=True,
            host=host or s.host,
            port=port if port is not None else s.port,
            workers=workers or s.workers,
            access_log=s.access_log,
            timeout_graceful_shutdown=int(s.shutdown_timeout_s),
            log_level="info",
        )
