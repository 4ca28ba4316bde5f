"""Batch scoring: a CSV or Parquet file of any size through a registered model, chunk by chunk.

The file is streamed, never read whole. Each chunk is checked against the data contract, scored with
the model's numpy fast path and written as its own part file, so chunks can run concurrently anywhere
(threads, processes, Dask); :func:`assemble` joins the parts in chunk order. Rows that break the
contract are kept with no probability and an ``error`` naming the field and the bound.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from predmaint import schema
from predmaint.config import Params
from predmaint.data.chunks import BatchInputError, file_format, iter_chunks, join_parts, read_columns, write_part
from predmaint.data.tables import SchemaError
from predmaint.model import features
from predmaint.model.registry import load_model, resolve
from predmaint.quality.contract import load_contract

if TYPE_CHECKING:
    import pyarrow as pa

    from predmaint.model.registry import LoadedModel
    from predmaint.quality.contract import Contract

PROBABILITY, PREDICTED, ERROR = "failure_probability", "failure_predicted", "error"
MODEL_NAME, MODEL_VERSION = "model_name", "model_version"
RESULT_COLUMNS: tuple[str, ...] = (PROBABILITY, PREDICTED, MODEL_NAME, MODEL_VERSION, ERROR)

_models: dict[tuple[str, str, str], LoadedModel] = {}
_models_lock = threading.Lock()


@dataclass(frozen=True)
class BatchJob:
    """What every chunk task needs: the files, the chunk size and the one model version to use."""

    input_path: Path
    output_path: Path
    parts_dir: Path
    fmt: str
    chunk_rows: int
    model_name: str
    model_version: str
    id_columns: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        """The input columns scoring reads: the ids present plus the model's features."""
        return (*self.id_columns, *schema.FEATURE_COLUMNS)


@dataclass(frozen=True)
class ChunkResult:
    """One scored chunk: its position, row counts and part file."""

    index: int
    rows: int
    invalid: int
    part: Path


@dataclass(frozen=True)
class BatchResult:
    """The outcome of a whole file."""

    output_path: Path
    rows: int
    invalid_rows: int
    chunks: int
    model_name: str
    model_version: str
    seconds: float

    @property
    def rows_per_s(self) -> float:
        """Throughput over the whole run (read, validate, score, write, assemble)."""
        return self.rows / self.seconds if self.seconds > 0 else float("nan")

    @classmethod
    def of(cls, job: BatchJob, results: Iterable[ChunkResult], seconds: float) -> BatchResult:
        """The totals of a finished job."""
        done = list(results)
        rows, invalid = sum(r.rows for r in done), sum(r.invalid for r in done)
        return cls(job.output_path, rows, invalid, len(done), job.model_name, job.model_version, seconds)


def plan(params: Params, input_path: Path, output_path: Path | None = None, chunk_rows: int | None = None) -> BatchJob:
    """Check the files and fix the champion version every chunk is scored with (default output:
    ``<stem>.predictions.<ext>`` beside the input).

    Raises:
        BatchInputError: The input is missing, or the output's format differs from the input's.
        SchemaError: The input lacks model feature columns (named in the message).
        RegistryError: There is no champion.
    """
    source = Path(input_path).resolve()
    if not source.is_file():
        raise BatchInputError(f"{source}: input file not found")
    fmt = file_format(source)
    default = source.with_name(f"{source.stem}.predictions{source.suffix}")
    target = Path(output_path).resolve() if output_path is not None else default
    if file_format(target) != fmt:
        raise BatchInputError(f"{target}: output must be {fmt} like the input {source.name}")
    if target == source:
        raise BatchInputError(f"{target}: output would overwrite the input")
    columns = read_columns(source)
    missing = [c for c in schema.FEATURE_COLUMNS if c not in columns]
    if missing:
        raise SchemaError(f"{source}: missing column(s): {', '.join(missing)}")
    version = resolve(params, alias=params.mlflow.champion_alias)
    parts_dir = target.with_name(f".{target.name}.parts")
    shutil.rmtree(parts_dir, ignore_errors=True)
    return BatchJob(
        input_path=source,
        output_path=target,
        parts_dir=parts_dir,
        fmt=fmt,
        chunk_rows=chunk_rows or params.orchestration.batch_chunk_rows,
        model_name=params.mlflow.registered_model,
        model_version=str(version.version),
        id_columns=tuple(c for c in schema.ID_COLUMNS if c in columns),
    )


def cached_model(params: Params, version: str) -> LoadedModel:
    """The registered model ``version``, loaded once per process (keyed by tracking URI, name, version)."""
    key = (params.tracking_uri, params.mlflow.registered_model, str(version))
    with _models_lock:
        if key not in _models:
            _models[key] = load_model(params, version=str(version))
        return _models[key]


def _flag(found: list[pd.Series], values: pd.Series, mask: pd.Series, template: str) -> None:
    if mask.any():
        found.append(pd.Series([template.format(v=v) for v in values[mask]], index=values.index[mask], dtype=object))


def validate_chunk(frame: pd.DataFrame, contract: Contract) -> pd.Series:
    """Per row, the contract violations joined by ``"; "`` (missing value, not a number, outside the
    bounds, unknown product type, process not above air temperature), or ``None`` for a valid row."""
    found: list[pd.Series] = []
    numeric = frame[list(schema.NUMERIC_FEATURES)].apply(pd.to_numeric, errors="coerce")
    for name in schema.NUMERIC_FEATURES:
        raw, values = frame[name], numeric[name]
        _flag(found, raw, raw.isna(), f"{name}: missing value")
        _flag(found, raw, values.isna() & raw.notna(), f"{name}: {{v!r}} is not a number")
        if name in contract.bounds:
            (low, high), unit = contract.bounds[name], contract.columns[name].unit or ""
            outside = f"{name}: {{v:g}} is outside [{low:g}, {high:g}] {unit}".rstrip()
            _flag(found, values, values.notna() & ~values.between(low, high), outside)
    kind, allowed = frame[schema.TYPE], list(contract.product_types)
    _flag(found, kind, ~kind.astype(str).isin(allowed) | kind.isna(), f"{schema.TYPE}: {{v!r}} is not one of {allowed}")
    air, proc = numeric[schema.AIR_TEMP], numeric[schema.PROCESS_TEMP]
    inverted = air.notna() & proc.notna() & ~(proc > air)
    _flag(found, proc, inverted, f"{schema.PROCESS_TEMP}: {{v:g}} is not above {schema.AIR_TEMP}")
    errors = pd.Series(None, index=frame.index, dtype=object)
    if found:
        joined = pd.concat(found).groupby(level=0, sort=False).agg("; ".join)
        errors.loc[joined.index] = joined
    return errors


def _predict(model: LoadedModel, frame: pd.DataFrame, numeric: np.ndarray) -> Any:
    steps = getattr(model.pipeline, "named_steps", {})
    if "physics" in steps and "encode" in steps:
        return features.fast_predict_proba(model.pipeline, frame[schema.TYPE].astype(str).to_numpy(), numeric)
    return model.predict_proba(frame)


def score_chunk(model: LoadedModel, frame: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """Score one chunk: id columns (if present) plus :data:`RESULT_COLUMNS`, one row per input row."""
    frame = frame.reset_index(drop=True)
    errors = validate_chunk(frame, contract)
    ok = errors.isna().to_numpy()
    proba = np.full(len(frame), np.nan)
    if ok.any():
        valid = frame.loc[ok]
        numeric = valid[list(schema.NUMERIC_FEATURES)].apply(pd.to_numeric).to_numpy(dtype=float)
        proba[ok] = _predict(model, valid, numeric)
    out = frame[[c for c in schema.ID_COLUMNS if c in frame.columns]].copy()
    out[PROBABILITY] = proba
    out[PREDICTED] = pd.Series(proba >= model.threshold, dtype="boolean").mask(~ok)
    out[MODEL_NAME] = model.name
    out[MODEL_VERSION] = str(model.version)
    out[ERROR] = errors
    return out


def _arrow_schema(job: BatchJob) -> pa.Schema:
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = pq.read_schema(job.input_path)
    fields = []
    for name in job.id_columns:
        kind = source.field(name).type
        fields.append(pa.field(name, kind.value_type if pa.types.is_dictionary(kind) else kind))
    results = [PROBABILITY, PREDICTED, MODEL_NAME, MODEL_VERSION, ERROR]
    kinds = [pa.float64(), pa.bool_(), pa.string(), pa.string(), pa.string()]
    return pa.schema([*fields, *zip(results, kinds, strict=True)])


def run_chunk(params: Params, job: BatchJob, index: int, chunk: pd.DataFrame) -> ChunkResult:
    """Validate, score and write one chunk with the job's model version (loaded once per process)."""
    scored = score_chunk(cached_model(params, job.model_version), chunk, load_contract(params))
    part = write_part(scored, job.parts_dir, index, job.fmt, _arrow_schema(job) if job.fmt == "parquet" else None)
    return ChunkResult(index=index, rows=len(scored), invalid=int(scored[ERROR].notna().sum()), part=part)


def assemble(job: BatchJob, results: Iterable[ChunkResult]) -> Path:
    """Join the part files in chunk order into the output file (atomically), then remove the parts.

    Raises:
        RuntimeError: A chunk's part file is missing (the run is incomplete).
    """
    ordered = sorted(results, key=lambda r: r.index)
    gaps = [i for i, r in enumerate(ordered) if r.index != i or not r.part.is_file()]
    if not ordered or gaps:
        raise RuntimeError(f"{job.parts_dir}: missing scored chunk(s) {gaps or [0]}; output not written")
    arrow_schema = _arrow_schema(job) if job.fmt == "parquet" else None
    join_parts([r.part for r in ordered], job.output_path, job.fmt, arrow_schema)
    shutil.rmtree(job.parts_dir, ignore_errors=True)
    return job.output_path


def score_file(
    params: Params, input_path: Path, output_path: Path | None = None, chunk_rows: int | None = None
) -> BatchResult:
    """Score a file sequentially in this process (no orchestrator): plan, chunks in order, assemble."""
    started = time.perf_counter()
    job = plan(params, input_path, output_path, chunk_rows)
    results = [
        run_chunk(params, job, i, chunk)
        for i, chunk in enumerate(iter_chunks(job.input_path, job.chunk_rows, job.columns))
    ]
    assemble(job, results)
    return BatchResult.of(job, results, time.perf_counter() - started)
