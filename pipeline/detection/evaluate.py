"""``shimanto evaluate``: score a model directory on labelled surveys.

Inference runs exactly as ``shimanto predict`` (same windows, blending and crop
masking from the survey's fields); labels are rasterised onto the scene grid.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.common.progress import progress_task
from pipeline.common.survey import SurveyFolder
from pipeline.detection.card import load_model
from pipeline.detection.classes import IGNORE
from pipeline.detection.engine import open_scene, pick_device, window_starts
from pipeline.detection.metrics import FieldFlag, MetricAccumulator, flag_fields, summarise
from pipeline.detection.scenes import band_positions, load_labelled_scene, scene_bands
from pipeline.detection.streaming import FastPredictor, InferenceSettings, stream_strips


def evaluate_surveys(model_dir: Path, surveys: Sequence[Path], settings: InferenceSettings,
                     flag_min_area_m2: float, flag_min_fraction: float) -> dict[str, Any]:
    """Metrics of the model over every survey together (confusion matrix, IoU, F1, field flags)."""
    device = pick_device(settings.device)
    model, card = load_model(model_dir, device)
    predictor = FastPredictor(model, card, device)
    acc = MetricAccumulator()
    field_flags: list[FieldFlag] = []
    flags: list[dict[str, Any]] = []
    for folder in surveys:
        scene = load_labelled_scene(folder, card.bands, card.sensor)
        survey_acc = MetricAccumulator()
        predicted = np.full(scene.labels.shape, IGNORE, np.uint8)
        scene_path = SurveyFolder(Path(folder)).scene
        positions = band_positions(scene_bands(scene_path), card.bands, card.sensor, scene_path)
        with open_scene(scene_path, settings.decode_threads) as src, \
                progress_task(f"evaluate {Path(folder).name}", len(window_starts(src.height, settings.window,
                                                                                settings.overlap))) as (prog, task):
            for strip in stream_strips(src, positions, predictor, list(scene.fields), settings):
                rows = slice(strip.row0, strip.row0 + strip.classes.shape[0])
                truth, fidx = scene.labels[rows], scene.field_index[rows]
                survey_acc.add(truth, strip.classes, fidx)
                acc.add(truth, strip.classes, fidx)
                predicted[rows] = strip.classes
                prog.advance(task)  # type: ignore[arg-type]
        survey_acc.add_patches(scene.labels, predicted, scene.field_index)
        names = {f.index: (f.field_id, f.crop) for f in scene.fields}
        for flag in flag_fields(survey_acc, names, scene.pixel_area_m2, flag_min_area_m2, flag_min_fraction):
            field_flags.append(flag)
            flags.append({"survey": scene.name, **dataclasses.asdict(flag)})
    summary = summarise(acc, field_flags)
    summary["confusion_matrix"] = acc.confusion.tolist()
    summary["classes"] = list(card.classes)
    summary["fields"] = flags
    summary["flag_rule"] = {"min_area_m2": flag_min_area_m2, "min_fraction": flag_min_fraction}
    return summary
