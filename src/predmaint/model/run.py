"""A training run: fit, then log to MLflow (params, metrics, plots, holdout, model), register, metadata.json."""

from __future__ import annotations

import importlib.metadata
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.inspection import permutation_importance

from predmaint import schema
from predmaint.config import Params, TrainingParams
from predmaint.config.runtime import disable_telemetry
from predmaint.model import datasets, evaluate, features, plots, registry, tracking
from predmaint.model.metrics import numeric_only, pr_curve_frame
from predmaint.model.train import FitSettings, Fitted, TrainResult, fit, production_stream, read_training_data, score

REQUIREMENTS: tuple[str, ...] = ("scikit-learn", "pandas", "numpy", "scipy", "skops", "mlflow")
TRUSTED_PREFIXES: tuple[str, ...] = ("sklearn.", "predmaint.model.features.")


def pip_requirements() -> list[str]:
    """Exact pins of the libraries the pipeline needs (skips MLflow's slow requirement inference)."""
    return [f"{name}=={importlib.metadata.version(name)}" for name in REQUIREMENTS]


def trusted_types(pipeline: Any) -> list[str]:
    """The non-default types skops must trust to load this pipeline (ours and sklearn's only).

    Raises:
        ValueError: The pipeline holds a type from elsewhere, which is never trusted blindly.
    """
    import skops.io as sio

    found = sio.get_untrusted_types(data=sio.dumps(pipeline))
    alien = [t for t in found if not t.startswith(TRUSTED_PREFIXES)]
    if alien:
        raise ValueError(f"refusing to trust unexpected types in the model: {alien}")
    return sorted(found)


def importance(training: TrainingParams, seed: int, fitted: Fitted) -> pd.Series:
    """Permutation importance (drop in average precision) of each model feature on the validation slice."""
    head = fitted.pipeline[:-1]
    matrix = head.transform(features.model_input(fitted.holdout))
    result = permutation_importance(
        fitted.pipeline[-1],
        matrix,
        fitted.holdout[schema.TARGET].astype(int),
        scoring="average_precision",
        n_repeats=training.importance_repeats,
        random_state=seed,
    )
    return pd.Series(result.importances_mean, index=head.get_feature_names_out(), name="importance")


def flat_params(params: Params) -> dict[str, Any]:
    """The run's parameters as MLflow params (``section.key``)."""
    m = params.model
    out: dict[str, Any] = {"algorithm": m.algorithm, "class_weight": m.class_weight}
    out.update({f"model.{k}": v for k, v in m.hyperparameters().items()})
    out.update({f"training.{k}": v for k, v in params.training.model_dump().items()})
    out.update({f"costs.{k}": v for k, v in params.costs.model_dump().items()})
    return out


def _udi_range(frame: pd.DataFrame) -> list[int]:
    return [int(frame[schema.UDI].min()), int(frame[schema.UDI].max())]


def _log_plots(fitted: Fitted, stream: pd.DataFrame | None, production: dict[str, Any] | None, imp: pd.Series) -> None:
    import mlflow

    y_val = fitted.holdout[schema.TARGET]
    t = fitted.threshold
    figures = {
        "plots/pr_curve_validation.png": plots.plot_pr_curve(y_val, fitted.holdout_proba, t, "PR curve (validation)"),
        "plots/confusion_validation.png": plots.plot_confusion(fitted.validation, "Confusion (validation)"),
        "plots/calibration_validation.png": plots.plot_calibration(
            y_val, fitted.holdout_proba, "Reliability (validation: the calibration slice)"
        ),
        "plots/feature_importance.png": plots.plot_importance(imp, "Permutation importance (validation)"),
    }
    if stream is not None and production is not None:
        proba = fitted.pipeline.predict_proba(features.model_input(stream))[:, 1]
        figures["plots/pr_curve_production.png"] = plots.plot_pr_curve(
            stream[schema.TARGET], proba, t, "PR curve (production stream)"
        )
        figures["plots/confusion_production.png"] = plots.plot_confusion(production, "Confusion (production)")
        figures["plots/calibration_production.png"] = plots.plot_calibration(
            stream[schema.TARGET], proba, "Reliability (production stream)"
        )
    for path, fig in figures.items():
        mlflow.log_figure(fig, path)


def log_training_run(
    params: Params,
    *,
    source: Path,
    frame: pd.DataFrame,
    fitted: Fitted,
    stream: pd.DataFrame | None,
    production: dict[str, Any] | None,
    report: bool = True,
) -> TrainResult:
    """Log everything about one fitted model, register it and move ``challenger`` to it.

    ``report`` writes the DVC metrics of the ``train`` stage (``<metrics_dir>/train.json``): only the
    pipeline's own training run may, so a retraining never changes a stage output.
    """
    import mlflow
    import mlflow.sklearn
    from mlflow.models import infer_signature

    tracking.setup(params)
    facts = tracking.lineage_facts(params, source)
    tags = tracking.lineage_tags(params, source, facts)
    purpose = datasets.run_purpose(facts)
    metrics = {**{f"validation_{k}": v for k, v in fitted.validation.items()}}
    if production is not None:
        metrics.update({f"production_{k}": v for k, v in production.items()})
    imp = importance(params.training, params.project.seed, fitted)
    example = features.model_input(fitted.holdout.head(5)).astype({c: "float64" for c in schema.NUMERIC_FEATURES})
    name = params.mlflow.registered_model
    with mlflow.start_run(run_name=f"train · {purpose}") as run:
        mlflow.set_tags({**tags, "algorithm": params.model.algorithm, "threshold_source": fitted.threshold_source})
        mlflow.log_params(flat_params(params))
        mlflow.log_metrics(numeric_only(metrics))
        mlflow.log_dict(tracking.model_params(params), "params/model_params.json")
        mlflow.log_dict({str(k): float(v) for k, v in imp.round(6).items()}, "plots/feature_importance.json")
        _log_plots(fitted, stream, production, imp)
        datasets.log_training_sets(fitted.fit_rows, fitted.holdout, stream, tags, params.paths.production_dir)
        mlflow.log_text(fitted.holdout.to_csv(index=False, lineterminator="\n"), registry.HOLDOUT_ARTIFACT)
        predictions = pd.DataFrame({schema.UDI: fitted.holdout[schema.UDI], "proba": fitted.holdout_proba})
        mlflow.log_text(
            predictions.to_csv(index=False, lineterminator="\n", float_format="%.17g"),
            registry.HOLDOUT_PREDICTIONS_ARTIFACT,
        )
        info = mlflow.sklearn.log_model(
            fitted.pipeline,
            name="model",
            signature=infer_signature(example, fitted.pipeline.predict_proba(example)[:, 1]),
            input_example=example,
            registered_model_name=name,
            pip_requirements=pip_requirements(),
            skops_trusted_types=trusted_types(fitted.pipeline),
            pyfunc_predict_fn="predict_proba",
        )
        version = str(info.registered_model_version)
        mlflow.set_tag("mlflow.runName", f"train v{version} · {purpose}")
        metadata = {
            "model_name": name,
            "version": version,
            "run_id": run.info.run_id,
            "model_uri": f"models:/{name}/{version}",
            "logged_model_uri": info.model_uri,
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "algorithm": params.model.algorithm,
            "threshold": fitted.threshold,
            "threshold_source": fitted.threshold_source,
            "data": {
                "path": tags["data_path"],
                "md5": tags["data_md5"],
                "version_id": tags["data_version"],
                "rows": len(frame),
                "fit_rows": len(fitted.fit_rows),
                "holdout_rows": len(fitted.holdout),
                "fit_udi_range": _udi_range(fitted.fit_rows),
                "holdout_udi_range": _udi_range(fitted.holdout),
                "production_rows": 0 if stream is None else len(stream),
            },
            "data_source": facts["data_source"],
            "lineage": {k: facts[k] for k in ("chain", "dvc_md5", "gx", "production")},
            "git": {"commit": tags["git_commit"], "dirty": tags["git_dirty"] == "true"},
            "params_hash": tags["params_hash"],
            "params": tracking.model_params(params),
            "metrics": {"validation": fitted.validation, "production": production},
            "gx_validation": tags.get("gx_validation"),
            "prefect_flow_run_id": tags.get("prefect_flow_run_id"),
            "requirements": pip_requirements(),
        }
        mlflow.log_dict(metadata, registry.METADATA_FILE)
    path = registry.write_metadata(params, metadata)
    client = registry.client(params)
    skip = {"data_path"}
    version_tags = {k: v for k, v in tags.items() if k not in skip}
    for key, value in {
        **version_tags,
        "threshold": str(fitted.threshold),
        "algorithm": params.model.algorithm,
    }.items():
        client.set_model_version_tag(name, version, key, value)
    client.update_model_version(name, version, description=datasets.training_description(facts, len(frame), tags))
    client.set_registered_model_alias(name, params.mlflow.challenger_alias, version)
    if report:
        # no registry version in a DVC output: it depends on the registry's state, not on the inputs
        payload = {"model": name, "threshold": fitted.threshold, **numeric_only(metrics)}
        curve = pr_curve_frame(fitted.holdout[schema.TARGET], fitted.holdout_proba)
        evaluate.write_report(params, "train", payload, curve)
    return TrainResult(version, run.info.run_id, metrics, fitted.threshold, metadata["model_uri"], path)


def train(params: Params, data_file: Path | None = None) -> TrainResult:
    """Fit, evaluate, log to MLflow, register a new version and point ``challenger`` at it.

    Args:
        params: The project parameters.
        data_file: The training window; defaults to ``paths.reference`` (the cleaned reference set).

    Returns:
        The new version, its run id, metrics (``validation_*`` and ``production_*``) and threshold.

    Raises:
        TrainingDataError: The training data is missing or unusable.
    """
    disable_telemetry()
    source = data_file or params.path(params.paths.reference)
    frame = read_training_data(source)
    fitted = fit(FitSettings.of(params), frame)
    stream = production_stream(params, exclude=frame)
    production = score(fitted.pipeline, stream, fitted.threshold, params.costs) if stream is not None else None
    return log_training_run(
        params,
        source=source,
        frame=frame,
        fitted=fitted,
        stream=stream,
        production=production,
        report=data_file is None,
    )
