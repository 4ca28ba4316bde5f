"""``predmaint serve``: run the prediction service under uvicorn on a socket it binds first."""

from __future__ import annotations

import os
import socket
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
        host: Annotated[str | None, typer.Option(metavar="ADDR", help="Bind address (default: serving.host).")] = None,
        port: Annotated[
            int | None, typer.Option(metavar="PORT", help="Port; 0 = any free port (default: serving.port).")
        ] = None,
        workers: Annotated[
            int | None, typer.Option(metavar="N", help="Worker processes (default: serving.workers).")
        ] = None,
        fd: Annotated[
            int | None,
            typer.Option(metavar="FD", help="Serve on this inherited, already listening socket instead of binding."),
        ] = None,
    ) -> None:
        """Serve the champion model over HTTP (FastAPI + uvicorn; host/port/workers from params.yaml/env).

        The socket is bound before anything loads, so a taken port fails at once. Each worker loads
        models:/<registered_model>@<champion_alias>, polls the alias every serving.reload_poll_s and
        hot-swaps new versions. Set $PREDMAINT_ADMIN_TOKEN to enable POST /admin/reload.
        """
        from pydantic import ValidationError

        from predmaint.service.process import INSTANCE_ENV, bind, new_instance_id, serve_on
        from serving.settings import Settings

        params = get(ctx)
        s = params.serving
        given = ctx.find_root().obj
        if host:  # the workers' settings see the real bind address (tokens are required off loopback)
            os.environ["PREDMAINT_API_HOST"] = host
            params = params.model_copy(update={"serving": s.model_copy(update={"host": host})})
        try:
            Settings.from_params(params)
        except (ValidationError, ValueError) as exc:
            errors = exc.errors() if isinstance(exc, ValidationError) else [{"msg": str(exc)}]
            message = str(errors[0]["msg"]).removeprefix("Value error, ")
            typer.secho(f"cannot serve: {message}", fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from None
        try:
            sock = (
                socket.socket(fileno=fd) if fd is not None else bind(host or s.host, s.port if port is None else port)
            )
        except OSError as exc:
            typer.secho(
                f"{exc.strerror}; choose another with --port (0 = any free port) or serving.port",
                fg=typer.colors.RED,
                err=True,
            )
            raise typer.Exit(1) from None
        bound_host, bound_port = sock.getsockname()[:2]
        # the workers read the same params file (set only now: a refused start leaves the environment alone)
        os.environ[PARAMS_ENV] = str(Path(given).resolve() if given else default_params_path())

        os.environ.setdefault(INSTANCE_ENV, new_instance_id())
        typer.echo(f"predmaint API listening on http://{bound_host}:{bound_port} (instance {os.environ[INSTANCE_ENV]})")
        serve_on(
            APP_FACTORY,
            sock,
            workers or s.workers,
            access_log=s.access_log,
            loop=s.event_loop,
            proxy_headers=False,  # the caller's address is the peer's: X-Forwarded-For cannot rename a label's source
            timeout_graceful_shutdown=int(s.shutdown_timeout_s),
            log_level="info",
        )
