"""CLI commands of the data-quality area: validate (the gate), clean, docs.

Exit codes of ``validate``: 0 passed, 1 rejected (the file was quarantined), 2 bad invocation
(unknown suite, missing file, invalid contract), 3 check error (the suite itself broke).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from predmaint.config import Params

EXIT_REJECTED, EXIT_USAGE, EXIT_CHECK_ERROR = 1, 2, 3


def _fail(message: str, code: int) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def register(app: typer.Typer, get: Callable[[typer.Context], Params]) -> None:
    """Add the data-quality commands to ``app``."""

    @app.command()
    def validate(
        ctx: typer.Context,
        csv: Annotated[Path, typer.Argument(help="The CSV batch to check.")],
        suite: Annotated[str, typer.Option("--suite", help="Suite of the contract: raw | production.")] = "raw",
    ) -> None:
        """Gate a CSV batch: store the result if it passes; quarantine it and exit 1 if not."""
        params = get(ctx)  # a bad params file or a missing batch is answered before GX loads
        if not csv.resolve().is_file():
            raise _fail(f"no file to validate at {csv.resolve()}", EXIT_USAGE)
        from predmaint.quality.contract import ContractError
        from predmaint.quality.gate import CheckError, GateError, quiet_gx_logging, validate_file
        from predmaint.quality.results import format_summary

        quiet_gx_logging()
        try:
            result = validate_file(params, csv, suite)
        except CheckError as exc:
            raise _fail(str(exc), EXIT_CHECK_ERROR) from None
        except GateError as exc:
            raise _fail(str(exc), EXIT_REJECTED) from None
        except (ContractError, FileNotFoundError) as exc:
            raise _fail(str(exc), EXIT_USAGE) from None
        typer.echo(format_summary(result.summary))
        typer.echo(f"result: {result.result_path}")

    @app.command()
    def clean(ctx: typer.Context) -> None:
        """Build the cleaned training data (paths.reference) from the gated reference rows."""
        from predmaint.data.clean import CleanError
        from predmaint.data.clean import clean as run

        try:
            result = run(get(ctx))
        except CleanError as exc:
            raise _fail(str(exc), 1) from None
        d = result.details
        typer.echo(
            f"{result.version.version_id}: {result.version.path} "
            f"({d['output_rows']} of {d['input_rows']} rows; "
            f"{d['inconsistent_labels']} label inconsistencies, policy {d['policy']}, "
            f"{d['excluded_rows']} excluded → {d['excluded_file']})"
        )

    @app.command()
    def docs(ctx: typer.Context) -> None:
        """Rebuild the Great Expectations Data Docs (suites + stored results) and print index.html."""
        from predmaint.quality.gate import quiet_gx_logging

        quiet_gx_logging()
        from predmaint.quality.docs import build_docs

        build = build_docs(get(ctx))
        typer.echo(f"{len(build.rendered)} validation result(s) rendered")
        for path in build.without_gx_result:
            typer.echo(f"not rendered (rejected before GX ran; see its REASON.txt): {path}")
        typer.echo(f"open {build.index.as_uri()}")
