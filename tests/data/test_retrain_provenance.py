"""Retraining uses only labels with a recorded source and says how many came from where (issue 18)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from predmaint import schema
from predmaint.data.retrain import label_sources, labelled_production


def _log(sources: list[str | None], targets: list[float]) -> pd.DataFrame:
    n = len(sources)
    return pd.DataFrame(
        {
            schema.TYPE: ["L"] * n,
            schema.AIR_TEMP: [300.0] * n,
            schema.PROCESS_TEMP: [310.0] * n,
            schema.SPEED: [1500.0] * n,
            schema.TORQUE: [40.0] * n,
            schema.TOOL_WEAR: [10.0] * n,
            "timestamp": pd.date_range("2026-01-01", periods=n, freq="s", tz="UTC"),
            "target": targets,
            "failure_mode": [np.nan] * n,
            "label_source": sources,
        }
    )


def test_only_labels_with_provenance_become_training_rows() -> None:
    frame = _log(["token:plant-a", None, "open:127.0.0.1", "token:plant-a", None], [1, 0, 0, 1, np.nan])
    rows = labelled_production(frame, first_udi=10_001)
    assert len(rows) == 3 and rows[schema.TARGET].tolist() == [1, 0, 1]
    assert label_sources(frame) == {"token:plant-a": 2, "open:127.0.0.1": 1, "(none: not used)": 1}


def test_a_log_without_sources_gives_no_training_rows() -> None:
    frame = _log([None, None], [1, 0]).drop(columns="label_source")
    assert labelled_production(frame, first_udi=1).empty
    assert label_sources(frame) == {"(none: not used)": 2}
