"""CLI of the detection stage: ``shimanto train``, ``shimanto evaluate``, ``shimanto predict``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from pipeline.common.cli_options import overwrite_option, params_option, read_params

if TYPE_CHECKING:
    from pipeline.detection.config import DetectionConfig


def _config(params: Path | None, **overrides: object) -> DetectionConfig:
    from pipeline.detection.config import detection_config

    return detection_config(read_params(params).get("detection"), **overrides)


def register(app: typer.Typer) -> None:
    """Add ``train``, ``evaluate`` and ``predict`` to the root app."""

    @app.command("train")
    def train_command(
        surveys: list[Path] = typer.Argument(..., help="Labelled survey folders (scene.tif, fields/labels.geojson)."),
        out: Path = typer.Option(..., "--out", help="Model directory to write (weights + model_card.json)."),
        overwrite: bool = overwrite_option(),
        epochs: int | None = typer.Option(None, "--epochs", min=1, help="Maximum epochs (default: params)."),
        seed: int | None = typer.Option(None, "--seed", help="Random seed (default: params)."),
        max_seconds: float | None = typer.Option(None, "--max-seconds", help="Training time budget in seconds."),
        no_register: bool = typer.Option(False, "--no-register", help="Log to MLflow but do not register the model."),
        observations: bool = typer.Option(False, "--observations",
                                          help="Label surveys holding field observations ('scout import') by them."),
        init: Path | None = typer.Option(None, "--init", help="Fine-tune this model directory (keeps its "
                                                             "normalisation and width)."),
        gsd_m: float | None = typer.Option(None, "--gsd-m", help="Working GSD in metres: every survey is read "
                                                                  "resampled to it (default: params, else the first "
                                                                  "survey's)."),
        params: Path | None = params_option(),
    ) -> None:
        """Train the disease model on labelled surveys; log the run to MLflow and register the model."""
        from pipeline.detection.workflow import train_and_log

        cfg = _config(params, seed=seed, max_train_seconds=max_seconds, gsd_m=gsd_m)
        result, run_id = train_and_log(surveys, out, cfg, epochs, register=not no_register, overwrite=overwrite,
                                       observations=observations, init=init)
        m = result.card.metrics
        typer.echo(f"model written to {out} (MLflow run {run_id}): {len(result.history)} epochs, "
                   f"val mIoU {m['val_miou']:.3f}, val disease IoU {m['val_disease_iou']:.3f}")

    @app.command("evaluate")
    def evaluate_command(
        model_dir: Path = typer.Argument(..., help="Model directory from 'shimanto train'."),
        surveys: list[Path] = typer.Argument(..., help="Labelled survey folders to score."),
        out: Path | None = typer.Option(None, "--out", help="Metrics JSON to write (read by 'dvc metrics show')."),
        device: str | None = typer.Option(None, "--device", help="torch device (default: cuda if present, else cpu)."),
        params: Path | None = params_option(),
    ) -> None:
        """Per-class IoU/F1, confusion matrix and field-level disease flags of a model on labelled surveys."""
        from pipeline.detection.workflow import evaluate_to_file

        cfg = _config(params)
        metrics = evaluate_to_file(model_dir, surveys, cfg, out, device)
        typer.echo(f"disease IoU {metrics['disease_iou']}, mIoU {metrics['miou']}, diseased fields flagged "
                   f"{metrics['fields_diseased_flagged']}/{metrics['fields_diseased']}, false alarms "
                   f"{metrics['fields_false_alarms']}/{metrics['fields_healthy']} healthy, minor-disease fields "
                   f"flagged {metrics['fields_minor_flagged']}/{metrics['fields_minor']}"
                   + (f" -> {out}" if out else ""))

    @app.command("predict")
    def predict_command(
        scene: Path = typer.Argument(..., help="Orthomosaic GeoTIFF with named bands."),
        model: Path = typer.Option(..., "--model", help="Model directory from 'shimanto train'."),
        out: Path = typer.Option(..., "--out", help="Output folder (classes.tif, probability.tif, hotspots.geojson, "
                                                    "scouting_points.geojson)."),
        fields: Path | None = typer.Option(None, "--fields", help="fields.geojson: crop masking and field ids."),
        batch_size: int | None = typer.Option(None, "--batch-size", min=1, help="Windows per forward pass."),
        device: str | None = typer.Option(None, "--device", help="torch device (default: cuda if present, else cpu)."),
        readers: int | None = typer.Option(None, "--readers", min=1,
                                           help="Window rows read in parallel (default 1 on CPU, up to 8 on CUDA)."),
        flight: str | None = typer.Option(None, "--flight",
                                          help="Flight name in scouting point IDs (default: the scene's folder)."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Write into --out even when it holds files "
                                       "'shimanto predict' did not write (its own output files there are replaced)."),
        params: Path | None = params_option(),
    ) -> None:
        """Predict disease over a scene; write COGs, hotspot polygons and scouting points."""
        from pipeline.detection.workflow import predict_to_dir

        cfg = _config(params)
        paths = predict_to_dir(scene, model, out, fields, cfg, batch_size, device, readers, flight, overwrite)
        for name, path in paths.items():
            typer.echo(f"{name}: {path}")
