"""Training, evaluation and prediction as whole runs (what the CLI and demo call)."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.common.atomic import atomic_dir, atomic_write_json, check_output_folder
from pipeline.detection.classes import CLASS_NAMES
from pipeline.detection.config import DetectionConfig
from pipeline.detection.evaluate import evaluate_surveys
from pipeline.detection.predict import predict_scene
from pipeline.detection.scouting import ScoutingRules
from pipeline.detection.streaming import InferenceSettings
from pipeline.detection.train import EpochResult, Trainer, TrainResult, load_scenes, save_result

log = logging.getLogger(__name__)


def inference_settings(cfg: DetectionConfig, batch_windows: int | None = None, device: str | None = None,
                       readers: int | None = None) -> InferenceSettings:
    """Inference settings from the config (CLI overrides win)."""
    return InferenceSettings(cfg.window, cfg.overlap, batch_windows or cfg.batch_windows, cfg.min_hotspot_area_m2,
                             device, readers)


def train_and_log(surveys: Sequence[Path], model_dir: Path, cfg: DetectionConfig, epochs: int | None = None,
                  tracking_uri: str | None = None, register: bool = True,
                  overwrite: bool = False, observations: bool = False,
                  init: Path | None = None) -> tuple[TrainResult, str]:
    """Train on ``surveys``, write ``model_dir`` atomically and log the run to MLflow.

    ``observations``: surveys holding field observations are labelled by them (``shimanto scout import``);
    ``init``: fine-tune this model directory instead of starting from random weights.

    ``model_dir`` is checked before training (:func:`~pipeline.common.atomic.check_output_folder`): an
    earlier model folder is replaced, a folder of other files only with ``overwrite``.

    Returns:
        The training result and the MLflow run id.
    """
    import mlflow

    from pipeline.detection import tracking

    check_output_folder(model_dir, "train", overwrite)
    gsd_m = cfg.gsd_m
    if init is not None:  # fine-tuning keeps the model's working GSD
        from pipeline.detection.card import read_card

        gsd_m = read_card(init).gsd_m
    scenes = load_scenes(surveys, cfg.bands, observations, gsd_m, mixed_sensors=cfg.randomise_training)
    trainer = Trainer(scenes, cfg, init=init)
    mlflow.set_tracking_uri(tracking_uri or tracking.tracking_uri())
    mlflow.set_experiment(tracking.EXPERIMENT)
    with mlflow.start_run() as run:
        run_id = run.info.run_id
        mlflow.log_params({k: (",".join(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(cfg).items()})
        mlflow.log_params({"surveys": ",".join(str(s) for s in surveys), "train_chips": len(trainer.split.train),
                           "val_chips": len(trainer.split.val), "train_fields": len(trainer.split.train_fields),
                           "val_fields": len(trainer.split.val_fields), "device": str(trainer.device)})

        def on_epoch(r: EpochResult) -> None:
            log.info("epoch %d: train %.4f val %.4f mIoU %.3f disease IoU %.3f (%.1f s)", r.epoch, r.train_loss,
                     r.val_loss, r.val_miou, r.val_disease_iou, r.seconds)
            mlflow.log_metrics({"train_loss": r.train_loss, "val_loss": r.val_loss, "val_miou": r.val_miou,
                                "val_disease_iou": r.val_disease_iou, "epoch_seconds": r.seconds}, step=r.epoch)

        history = trainer.fit(epochs or cfg.epochs, on_epoch)
        with atomic_dir(model_dir, "train", overwrite) as tmp:
            result = save_result(trainer, surveys, tmp, history, run_id, observations)
            mlflow.log_metrics({f"final_{k}": v for k, v in result.card.metrics.items()})
            card = result.card
            mlflow.log_metrics({"ece_before": card.calibration["ece_before"],
                                "ece_after": card.calibration["ece_after"]})
            mlflow.set_tags({"calibration_temperature": str(card.temperature),
                             "training_domain": json.dumps(card.training_domain, ensure_ascii=False),
                             "intended_use": card.intended_use, "limitations": " | ".join(card.limitations)})
            with tracking.temp_artifact_dir() as plots:
                tracking.confusion_png(result.confusion, CLASS_NAMES, Path(plots) / "confusion_matrix.png",
                                       "validation confusion matrix (best epoch)")
                tracking.samples_png([s[0] for s in result.samples], [s[1] for s in result.samples],
                                     [s[2] for s in result.samples], Path(plots) / "sample_predictions.png")
                mlflow.log_artifacts(plots, "plots")
            mlflow.log_dict(result.card.to_json(), "model_card.json")
            version = tracking.log_model_dir(tmp, cfg.model_name if register else None)
            if version:
                mlflow.set_tag("registered_model", f"{cfg.model_name}/{version}")
        result = dataclasses.replace(result, model_dir=model_dir)
    return result, run_id


def evaluate_to_file(model_dir: Path, surveys: Sequence[Path], cfg: DetectionConfig, out: Path | None,
                     device: str | None = None) -> dict[str, Any]:
    """Evaluate and write the metrics JSON (atomically) when ``out`` is given."""
    metrics = evaluate_surveys(model_dir, surveys, inference_settings(cfg, device=device), cfg.flag_min_area_m2,
                               cfg.flag_min_fraction)
    if out is not None:
        atomic_write_json(out, metrics)
    return metrics


def scouting_rules(cfg: DetectionConfig) -> ScoutingRules:
    """Scouting-point rules from the config."""
    return ScoutingRules(edge_px=cfg.scout_edge_px, merge_m=cfg.scout_merge_m, min_area_m2=cfg.scout_min_area_m2,
                         max_points=cfg.scout_max_points)


def predict_to_dir(scene: Path, model_dir: Path, out: Path, fields: Path | None, cfg: DetectionConfig,
                   batch_windows: int | None = None, device: str | None = None, readers: int | None = None,
                   flight: str | None = None, overwrite: bool = False) -> dict[str, Path]:
    """Run :func:`predict.predict_scene` with the config's inference and scouting settings."""
    return predict_scene(scene, model_dir, out, fields, inference_settings(cfg, batch_windows, device, readers),
                         flight=flight, scouting=scouting_rules(cfg), overwrite=overwrite)
