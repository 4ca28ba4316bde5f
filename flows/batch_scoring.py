"""`batch-scoring`: score a CSV/Parquet file of any size through the champion, chunks in parallel.

The file is streamed in chunks; each chunk is a `score-chunk` task run concurrently on Prefect's
thread pool or, with ``task_runner="dask"``, on a Dask cluster (``dask_address``, or a temporary
local cluster sized by params.yaml). At most ``orchestration.batch_max_concurrency`` chunks are in
flight, so memory stays bounded whatever the file size. The champion version is fixed before the
first chunk, so a promotion during the run cannot mix two models in one output. The logic lives in
:mod:`predmaint.model.batch`; Dask workers need the project installed (the same image/venv).
"""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path
from typing import Any, Literal

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.futures import PrefectFuture
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from flows.common import project_params
from predmaint.config import Params
from predmaint.model import batch

RunnerKind = Literal["thread", "dask"]


@task(name="score-chunk", task_run_name="score-chunk-{index}", cache_policy=NO_CACHE)
def score_chunk(params: Params, job: batch.BatchJob, index: int, chunk: Any) -> batch.ChunkResult:
    """Validate, score and write one chunk as its part file (the model is loaded once per process)."""
    return batch.run_chunk(params, job, index, chunk)


@task(name="assemble-output", cache_policy=NO_CACHE)
def assemble_output(job: batch.BatchJob, results: list[batch.ChunkResult]) -> str:
    """Join the part files in chunk order into the output file."""
    return str(batch.assemble(job, results))


def make_task_runner(
    params: Params, kind: RunnerKind, dask_address: str | None = None, api_url: str | None = None
) -> TaskRunner[Any]:
    """Prefect's thread pool, or a Dask runner on ``dask_address`` / a temporary local cluster.

    The local cluster's workers get ``api_url`` as ``PREFECT_API_URL``, so they report to the same
    Prefect API as the flow even in ephemeral mode (otherwise each would start its own server). Workers
    of a cluster at ``dask_address`` must be started with ``PREFECT_API_URL`` set.

    Raises:
        ValueError: ``kind`` is neither ``thread`` nor ``dask``.
    """
    o = params.orchestration
    if kind == "thread":
        return ThreadPoolTaskRunner(max_workers=o.batch_max_concurrency)
    if kind != "dask":
        raise ValueError(f"task_runner must be 'thread' or 'dask', got {kind!r}")
    from prefect_dask import DaskTaskRunner

    if dask_address:
        return DaskTaskRunner(address=dask_address)
    cluster = {
        "n_workers": o.dask_workers,
        "threads_per_worker": o.dask_threads_per_worker,
        "processes": True,
        "host": o.dask_host,
        "dashboard_address": None,
        "env": {"PREFECT_API_URL": api_url} if api_url else {},
    }
    return DaskTaskRunner(cluster_class="distributed.LocalCluster", cluster_kwargs=cluster)


@flow(name="score-chunks", validate_parameters=False)
def score_chunks(params: Params, job: batch.BatchJob) -> list[batch.ChunkResult]:
    """Submit every chunk with back-pressure (at most ``batch_max_concurrency`` in flight)."""
    o = params.orchestration
    scorer = score_chunk.with_options(retries=o.task_retries, retry_delay_seconds=o.task_retry_delay_s)
    pending: deque[PrefectFuture[batch.ChunkResult]] = deque()
    done: list[batch.ChunkResult] = []
    for index, chunk in enumerate(batch.iter_chunks(job.input_path, job.chunk_rows, job.columns)):
        pending.append(scorer.submit(params, job, index, chunk))
        while len(pending) >= o.batch_max_concurrency:
            done.append(pending.popleft().result())
    done.extend(f.result() for f in pending)
    return done


@flow(name="batch-scoring", log_prints=True)
def batch_scoring(
    input_path: str,
    output_path: str | None = None,
    chunk_rows: int | None = None,
    task_runner: RunnerKind = "thread",
    dask_address: str | None = None,
    params_path: str | None = None,
) -> dict[str, Any]:
    """Score ``input_path`` with the champion and write ``<stem>.predictions.<csv|parquet>`` beside it.

    Args:
        input_path: A CSV or Parquet file with the model's feature columns (ids optional).
        output_path: Where to write the predictions (same format as the input).
        chunk_rows: Rows per chunk (default: ``orchestration.batch_chunk_rows``).
        task_runner: ``thread`` (Prefect's thread pool) or ``dask``.
        dask_address: A running Dask scheduler; without it ``dask`` starts a local cluster.
        params_path: The params file (default: ``$PREDMAINT_PARAMS`` or ./params.yaml).
    """
    logger = get_run_logger()
    params = project_params(params_path)
    started = time.perf_counter()
    job = batch.plan(params, Path(input_path), Path(output_path) if output_path else None, chunk_rows)
    logger.info("scoring %s with %s v%s on %s", job.input_path, job.model_name, job.model_version, task_runner)
    context = FlowRunContext.get()
    api_url = str(context.client.api_url) if context is not None else None
    runner = make_task_runner(params, task_runner, dask_address, api_url)
    results = score_chunks.with_options(task_runner=runner)(params, job)
    output = assemble_output(job, results)
    summary = batch.BatchResult.of(job, results, time.perf_counter() - started)
    result = {
        "output_path": output,
        "rows": summary.rows,
        "invalid_rows": summary.invalid_rows,
        "chunks": summary.chunks,
        "rows_per_s": round(summary.rows_per_s, 1),
        "seconds": round(summary.seconds, 3),
        "model_name": summary.model_name,
        "model_version": summary.model_version,
        "task_runner": task_runner,
    }
    create_markdown_artifact(
        key="batch-scoring",
        markdown="| key | value |\n| --- | --- |\n" + "\n".join(f"| {k} | {v} |" for k, v in result.items()),
        description=f"batch scoring of {job.input_path.name}",
    )
    logger.info(
        "%s rows (%s invalid) in %.1f s: %.0f rows/s",
        summary.rows,
        summary.invalid_rows,
        summary.seconds,
        summary.rows_per_s,
    )
    return result
