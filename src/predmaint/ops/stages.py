"""The data stages as the pipeline runs them: each checks its gate at the edge, then calls the stage."""

from __future__ import annotations

from pathlib import Path

from predmaint.config import Params
from predmaint.data import split as split_stage
from predmaint.quality.results import require_passing


def split(params: Params, source: Path | None = None) -> split_stage.SplitResult:
    """Split the raw table, refusing it unless its current bytes passed the ``raw`` suite.

    Args:
        params: The project parameters.
        source: The table to split; defaults to ``paths.raw_file``.

    Raises:
        GateError: The table's current content has no passing ``raw`` gate result
            (``predmaint validate <file> --suite raw``); nothing is written.
    """
    src = source or params.path(params.paths.raw_file)
    require_passing(params, src, "raw")
    return split_stage.split(params, src)
