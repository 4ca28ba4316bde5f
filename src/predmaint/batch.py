"""Batch scoring: a CSV or Parquet file of any size through a registered model, chunk by chunk.

The file is streamed (``pandas.read_csv(chunksize=...)`` / ``ParquetFile.iter_batches``), never read
whole. Each chunk is checked against the data contract, scored with the numpy fast path of the model
pipeline and written as its own part file, so chunks can be scored concurrently in any order (threads,
processes, a Dask cluster); :func:`assemble` then joins the parts in chunk order. Rows that break the
contract are kept: they get no probability and an ``error`` naming the field and the bound.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from predmaint import features, schema
from predmaint.config import Params
from predmaint.data import SchemaError

if TYPE_CHECKING:
    import pyarrow as pa

    from predmaint.quality.contract import Contract
    from predmaint.registry import LoadedModel

FORMATS: dict[str, str] = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
PROBABILITY, PREDICTED, ERROR = "failure_probability", "failure_predicted", "error"
MODEL_NAME, MODEL_VERSION = "model_name", "model_version"
RESULT_COLUMNS: tuple[str, ...] = (PROBABILITY, PREDICTED, MODEL_NAME, MODEL_VERSION, ERROR)

_models: dict[tuple[str, str, str], LoadedModel] = {}
_models_lock = threading.Lock()


class BatchInputError(ValueError):
    """The input or output file cannot be used; the message names the file and the reason."""


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


def file_format(path: Path) -> str:
    """``csv`` or ``parquet`` from the file suffix.

    Raises:
        BatchInputError: The suffix is neither.
    """
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise BatchInputError(f"{path}: unsupported file type {path.suffix!r}; use one of {sorted(FORMATS)}")
    return fmt


def default_output(input_path: Path) -> Path:
    """``<stem>.predictions<suffix>`` beside the input."""
    return input_path.with_name(f"{input_path.stem}.predictions{input_path.suffix}")


def read_columns(path: Path) -> list[str]:
    """The column names of a CSV or Parquet file, read from its header or footer only."""
    if file_format(path) == "parquet":
        import pyarrow.parquet as pq

        return [str(c).strip() for c in pq.read_schema(path).names]
    return [str(c).strip() for c in pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns]


def iter_chunks(path: Path, chunk_rows: int, columns: Sequence[str] | None = None) -> Iterator[pd.DataFrame]:
    """Yield the file as DataFrames of at most ``chunk_rows`` rows, in file order.

    Args:
        path: A CSV or Parquet file.
        chunk_rows: Rows per chunk.
        columns: Read only these columns (names compared without surrounding whitespace).
    """
    wanted = None if columns is None else set(columns)
    if file_format(path) == "parquet":
        import pyarrow.parquet as pq

        with pq.ParquetFile(path) as reader:
            names = [n for n in reader.schema_arrow.names if wanted is None or n.strip() in wanted]
            empty = True
            for batch in reader.iter_batches(batch_size=chunk_rows, columns=names):
                empty = False
                yield _strip(batch.to_pandas())
            if empty:
                yield _strip(reader.schema_arrow.empty_table().select(names).to_pandas())
        return
    usecols = None if wanted is None else (lambda c: str(c).strip() in wanted)
    with pd.read_csv(path, chunksize=chunk_rows, encoding="utf-8-sig", usecols=usecols) as reader:
        for chunk in reader:
            yield _strip(chunk)


def _strip(frame: pd.DataFrame) -> pd.DataFrame:
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.reset_index(drop=True)


def plan(
    params: Params, input_path: Path, output_path: Path | None = None, chunk_rows: int | None = None
) -> BatchJob:
    """Check the files and fix the champion version every chunk will be scored with.

    Raises:
        BatchInputError: The input is missing, or the output's format differs from the input's.
        SchemaError: The input lacks model feature columns (named in the message).
        RegistryError: There is no champion.
    """
    from predmaint.registry import resolve

    source = Path(input_path).resolve()
    if not source.is_file():
        raise BatchInputError(f"{source}: input file not found")
    fmt = file_format(source)
    target = Path(output_path).resolve() if output_path is not None else default_output(source)
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
    from predmaint.registry import load_model

    key = (params.tracking_uri, params.mlflow.registered_model, str(version))
    with _models_lock:
        if key not in _models:
            _models[key] = load_model(params, version=str(version))
        return _models[key]


def _messages(values: pd.Series, mask: pd.Series, render: Any) -> pd.Series:
    return pd.Series([render(v) for v in values[mask]], index=values.index[mask], dtype=object)


def validate_chunk(frame: pd.DataFrame, contract: Contract) -> pd.Series:
    """Per row, the contract violations joined by ``"; "``, or ``None`` for a valid row.

    Checks missing values, non-numbers, the sensor bounds, the product type and process > air.
    """
    found: list[pd.Series] = []
    numeric = frame[list(schema.NUMERIC_FEATURES)].apply(pd.to_numeric, errors="coerce")
    for name in schema.NUMERIC_FEATURES:
        raw, values = frame[name], numeric[name]
        found.append(_messages(raw, raw.isna(), lambda _v, n=name: f"{n}: missing value"))
        found.append(_messages(raw, values.isna() & raw.notna(), lambda v, n=name: f"{n}: {v!r} is not a number"))
        if name in contract.bounds:
            low, high = contract.bounds[name]
            unit = f" {contract.columns[name].unit}" if contract.columns[name].unit else ""
            out = values.notna() & ~values.between(low, high)
            found.append(_messages(values, out, lambda v, n=name: f"{n}: {v:g} is outside [{low:g}, {high:g}]{unit}"))
    kind = frame[schema.TYPE]
    allowed = list(contract.product_types)
    bad_type = ~kind.astype(str).isin(allowed) | kind.isna()
    found.append(_messages(kind, bad_type, lambda v: f"{schema.TYPE}: {v!r} is not one of {allowed}"))
    air, proc = numeric[schema.AIR_TEMP], numeric[schema.PROCESS_TEMP]
    inverted = air.notna() & proc.notna() & ~(proc > air)
    found.append(
        _messages(proc, inverted, lambda v: f"{schema.PROCESS_TEMP}: {v:g} is not above {schema.AIR_TEMP}")
    )
    errors = pd.Series(None, index=frame.index, dtype=object)
    hits = [s for s in found if not s.empty]
    if hits:
        joined = pd.concat(hits).groupby(level=0, sort=False).agg("; ".join)
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
    return pa.schema(
        [*fields, (PROBABILITY, pa.float64()), (PREDICTED, pa.bool_()), (MODEL_NAME, pa.string())]
        + [(MODEL_VERSION, pa.string()), (ERROR, pa.string())]
    )


def write_part(job: BatchJob, index: int, scored: pd.DataFrame) -> Path:
    """Write one scored chunk atomically as ``part-<index>`` in the job's parts folder."""
    job.parts_dir.mkdir(parents=True, exist_ok=True)
    part = job.parts_dir / f"part-{index:06d}.{job.fmt}"
    tmp = part.with_name(part.name + ".tmp")
    if job.fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pandas(scored, schema=_arrow_schema(job), preserve_index=False), tmp)
    else:
        scored.to_csv(tmp, index=False, lineterminator="\n")
    os.replace(tmp, part)
    return part


def run_chunk(params: Params, job: BatchJob, index: int, chunk: pd.DataFrame) -> ChunkResult:
    """Validate, score and write one chunk with the job's model version (loaded once per process)."""
    from predmaint.quality.contract import load_contract

    scored = score_chunk(cached_model(params, job.model_version), chunk, load_contract(params))
    part = write_part(job, index, scored)
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
    tmp = job.output_path.with_name(f".{job.output_path.name}.tmp")
    if job.fmt == "parquet":
        import pyarrow.parquet as pq

        schema_ = _arrow_schema(job)
        with pq.ParquetWriter(tmp, schema_) as writer:
            for r in ordered:
                writer.write_table(pq.read_table(r.part).cast(schema_))
    else:
        with tmp.open("wb") as out:
            for r in ordered:
                with r.part.open("rb") as fh:
                    header = fh.readline()
                    if r.index == 0:
                        out.write(header)
                    shutil.copyfileobj(fh, out)
    os.replace(tmp, job.output_path)
    shutil.rmtree(job.parts_dir, ignore_errors=True)
    return job.output_path


def summarize(job: BatchJob, results: Iterable[ChunkResult], seconds: float) -> BatchResult:
    """The totals of a finished job."""
    items = list(results)
    return BatchResult(
        output_path=job.output_path,
        rows=sum(r.rows for r in items),
        invalid_rows=sum(r.invalid for r in items),
        chunks=len(items),
        model_name=job.model_name,
        model_version=job.model_version,
        seconds=seconds,
    )


def score_file(
    params: Params, input_path: Path, output_path: Path | None = None, chunk_rows: int | None = None
) -> BatchResult:
    """Score a file sequentially in this process (no orchestrator): plan, chunks in order, assemble."""
    started = time.perf_counter()
    job = plan(params, input_path, output_path, chunk_rows)
    results = [run_chunk(params, job, i, chunk) for i, chunk in enumerate(iter_chunks(job.input_path, job.chunk_rows, job.columns))]
    assemble(job, results)
    return summarize(job, results, time.perf_counter() - started)
