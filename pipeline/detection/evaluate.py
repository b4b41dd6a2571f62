"""``shimanto evaluate``: score a model directory on labelled surveys.

Inference runs exactly as ``shimanto predict`` (same windows, blending and crop
masking from the survey's fields); labels are rasterised onto the scene grid (the model's working
grid when the survey's GSD differs, :mod:`resample`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.common.progress import progress_task
from pipeline.core.survey import SurveyFolder
from pipeline.detection.calibration import ECE_BINS
from pipeline.detection.card import load_model
from pipeline.detection.classes import DISEASE_IDS, IGNORE
from pipeline.detection.engine import open_scene, pick_device, window_starts
from pipeline.detection.metrics import FieldFlag, MetricAccumulator, flag_fields, summarise
from pipeline.detection.resample import working_grid
from pipeline.detection.scenes import band_positions, load_labelled_scene, scene_bands
from pipeline.detection.streaming import FastPredictor, InferenceSettings, stream_strips


def evaluate_surveys(model_dir: Path, surveys: Sequence[Path], settings: InferenceSettings,
                     flag_min_area_m2: float, flag_min_fraction: float,
                     exclude_fields: Mapping[str, Collection[str]] | None = None,
                     check_sensor: bool = True) -> dict[str, Any]:
    """Metrics of the model over every survey together (confusion matrix, IoU, F1, field flags, ECE).

    ``ece`` is the expected calibration error (:mod:`calibration`) of the disease probability the
    reports use, against "the pixel is labelled diseased". ``exclude_fields`` (survey folder name →
    field IDs) leaves fields out of every figure (e.g. fields whose observations trained the model).
    A survey at another GSD than the model's is scored on the model's working grid (its bands resampled
    as inference reads them, its labels burnt on that grid). ``check_sensor=False`` scores surveys of
    another camera (the shifted benchmark's held-out camera) instead of refusing them.
    """
    device = pick_device(settings.device)
    model, card = load_model(model_dir, device)
    predictor = FastPredictor(model, card, device)
    acc = MetricAccumulator()
    hist = np.zeros((3, ECE_BINS))  # per probability bin: pixels, probability sum, diseased pixels
    field_flags: list[FieldFlag] = []
    flags: list[dict[str, Any]] = []
    for folder in surveys:
        sensor = card.sensor if check_sensor else None
        scene = load_labelled_scene(folder, card.bands, sensor, card.gsd_m)
        skip = set((exclude_fields or {}).get(Path(folder).name, ()))
        for i, f in enumerate(scene.fields, 1):
            if f.field_id in skip:
                scene.labels[scene.field_index == i] = IGNORE
        survey_acc = MetricAccumulator()
        predicted = np.full(scene.labels.shape, IGNORE, np.uint8)
        scene_path = SurveyFolder(Path(folder)).scene
        info = scene_bands(scene_path)
        positions = band_positions(info, card.bands, sensor, scene_path)
        grid = working_grid(info.transform, info.width, info.height, card.gsd_m, f"scene {str(scene_path)!r}")
        with open_scene(scene_path, settings.decode_threads, grid) as src, \
                progress_task(f"evaluate {Path(folder).name}", len(window_starts(src.height, settings.window,
                                                                                settings.overlap))) as (prog, task):
            for strip in stream_strips(src, positions, predictor, list(scene.fields), settings):
                rows = slice(strip.row0, strip.row0 + strip.classes.shape[0])
                truth, fidx = scene.labels[rows], scene.field_index[rows]
                survey_acc.add(truth, strip.classes, fidx)
                acc.add(truth, strip.classes, fidx)
                ok = (truth != IGNORE) & np.isfinite(strip.disease_probability)
                bins = np.minimum((strip.disease_probability[ok] * ECE_BINS).astype(np.int64), ECE_BINS - 1)
                hist += np.stack([np.bincount(bins, minlength=ECE_BINS),
                                  np.bincount(bins, weights=strip.disease_probability[ok], minlength=ECE_BINS),
                                  np.bincount(bins, weights=np.isin(truth[ok], DISEASE_IDS), minlength=ECE_BINS)])
                predicted[rows] = strip.classes
                prog.advance(task)  # type: ignore[arg-type]
        survey_acc.add_patches(scene.labels, predicted, scene.field_index)
        names = {i: (f.field_id, f.crop or "") for i, f in enumerate(scene.fields, 1)}
        for flag in flag_fields(survey_acc, names, scene.pixel_area_m2, flag_min_area_m2, flag_min_fraction):
            if flag.field_id in skip:
                continue
            field_flags.append(flag)
            flags.append({"survey": scene.name, **dataclasses.asdict(flag)})
    summary = summarise(acc, field_flags)
    summary["confusion_matrix"] = acc.confusion.tolist()
    summary["classes"] = list(card.classes)
    summary["fields"] = flags
    summary["flag_rule"] = {"min_area_m2": flag_min_area_m2, "min_fraction": flag_min_fraction}
    summary["ece"] = round(float(np.abs(hist[2] - hist[1]).sum() / max(hist[0].sum(), 1.0)), 5)
    summary["temperature"] = card.temperature
    return summary
