"""CLI commands that span the lifecycle: demo, replay, reset and the local stack (up, down, status)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from predmaint.config import Params


def register(app: typer.Typer, get: Callable[[typer.Context], Params]) -> None:
    """Add the lifecycle commands to ``app``."""

    @app.command()
    def demo(ctx: typer.Context) -> None:
        """Run the whole lifecycle: train → serve → replay 6 days + a drift period → monitor → retrain → swap."""
        from predmaint.config.runtime import ensure_prefect_home

        ensure_prefect_home()  # before Prefect is imported, or it warns that it cannot create its home
        from flows.demo import main

        params = get(ctx)
        raise typer.Exit(main(str(params.root / "params.yaml")))

    @app.command()
    def replay(
        ctx: typer.Context,
        url: Annotated[str | None, typer.Option(help="The running API (default: serving.host:serving.port).")] = None,
        days: Annotated[
            str | None, typer.Option(help="Production days to send, e.g. '1-3' or '2,5' (default: all).")
        ] = None,
        drift: Annotated[
            str | None,
            typer.Option(help="Also send the simulated drift period (replay.drift_days days) of this scenario."),
        ] = None,
        feedback_delay: Annotated[
            float | None,
            typer.Option(help="Seconds before a day's labels go to /feedback (monitoring.feedback_delay_s)."),
        ] = None,
    ) -> None:
        """Send production days to a running API over HTTP (POST /predict), then their labels (POST /feedback)."""
        import httpx

        from predmaint.data.split import production_days
        from predmaint.ops.replay import ReplayError, drift_days, production_day, replay_frame

        params = get(ctx)
        base = url or f"http://{params.serving.host}:{params.serving.port}"
        available = production_days(params)
        chosen = _parse_days(days, available) if days else available
        delay = params.monitoring.feedback_delay_s if feedback_delay is None else feedback_delay
        frames = [(f"day_{d:02d}", production_day(params, d)) for d in chosen]
        if drift:
            period = drift_days(params, drift)
            frames += [(f"drift_{drift}" + (f"_{i}" if len(period) > 1 else ""), f) for i, f in enumerate(period, 1)]
        try:
            with httpx.Client(base_url=base, timeout=60) as client:
                for name, (features, labels) in frames:
                    r = replay_frame(client, name, features, labels, params.replay.request_batch, delay)
                    versions = ", ".join(sorted(r.model_versions))
                    typer.echo(
                        f"{name}: {r.rows} readings → {r.alarms} alarms (model v{versions}); {r.labelled} labels"
                    )
        except (httpx.HTTPError, ReplayError) as exc:
            typer.secho(f"replay to {base} failed: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None

    @app.command()
    def reset(
        ctx: typer.Context,
        yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    ) -> None:
        """Remove generated state (data versions, MLflow store, reports, logs). Keeps the DVC cache."""
        from predmaint.ops.workspace import generated_paths
        from predmaint.ops.workspace import reset as run

        params = get(ctx)
        present = [p for p in generated_paths(params) if p.exists()]
        if not present:
            typer.echo("nothing to reset")
            return
        for path in present:
            typer.echo(f"  {path.relative_to(params.root) if path.is_relative_to(params.root) else path}")
        if not yes:
            typer.confirm("Remove these?", abort=True)
        run(params)
        typer.echo(f"removed {len(present)} paths; `dvc checkout` restores data versions from the DVC cache")

    stack = typer.Typer(help="The local multi-service stack (Prefect, MLflow, API, flow runner) on 127.0.0.1.")
    app.add_typer(stack, name="stack")

    @stack.command("up")
    def stack_up(ctx: typer.Context) -> None:
        """Start the services that are not running; say so for those already up."""
        from predmaint.ops.stack import StackError, up

        try:
            for line in up(get(ctx)):
                typer.echo(line)
        except StackError as exc:
            typer.secho(f"{exc}\nrun `make down` to stop what did start", fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None

    @stack.command("down")
    def stack_down(ctx: typer.Context) -> None:
        """Stop every service of the stack; nothing is left running."""
        from predmaint.ops.stack import down

        for line in down(get(ctx)):
            typer.echo(line)

    @stack.command("status")
    def stack_status(ctx: typer.Context) -> None:
        """Show which services run, their PIDs and URLs."""
        from predmaint.ops.stack import status

        for line in status(get(ctx)):
            typer.echo(line)


def _parse_days(spec: str, available: list[int]) -> list[int]:
    chosen: list[int] = []
    for part in spec.split(","):
        low, _, high = part.partition("-")
        chosen.extend(range(int(low), int(high or low) + 1))
    missing = sorted(set(chosen) - set(available))
    if missing:
        raise typer.BadParameter(f"no production day(s) {missing}; available: {available}", param_hint="--days")
    return chosen
