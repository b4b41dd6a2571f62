"""The field loop end to end on a shifted survey: predict → export → observe → import → fine-tune → score.

What a season with growers does, on a survey whose simulator settings training never used
(:data:`pipeline.simulate.variation.SHIFTED`): the model predicts scouting points; growers of half
the flagged fields visit their points and report what they find (here read from the survey's
labels: the disease class of the labelled patch the point falls in, else ``none``), written into
the exported CSV as a KoboToolbox/ODK form would; ``scout import`` stores them with the flight;
the model is fine-tuned on them (``train --observations --init``) and recalibrated; both models
are scored on the survey's *other* fields (observed fields excluded), so the gain is on fields the
observations never touched.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shapely.geometry import Point

from pipeline.common.atomic import atomic_write_json
from pipeline.common.geo import read_geojson_features
from pipeline.detection.config import DetectionConfig
from pipeline.detection.evaluate import evaluate_surveys
from pipeline.detection.fieldwork import export_points, import_observations
from pipeline.detection.workflow import inference_settings, predict_to_dir, train_and_log

LOOP_NAME = "loop.json"


def grower_answers(csv_path: Path, labels_path: Path, fields: Sequence[str], out: Path) -> Path:
    """Fill ``found`` for the points of ``fields`` from the labels (as growers would), other rows left empty."""
    labels, _crs = read_geojson_features(labels_path)
    with open(csv_path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        if row["field_id"] not in fields:
            continue
        pt = Point(float(row["lon"]), float(row["lat"]))
        # a grower standing at the point sees about 2 m around (2e-5 degrees of latitude ≈ 2.2 m)
        hit = [p["class"] for g, p in labels if p.get("field_id") == row["field_id"] and g.buffer(2e-5).contains(pt)]
        row["found"] = hit[0] if hit else "none"
        row["date"] = "2026-07-03"
    with open(out, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["name", "found"])
        writer.writeheader()
        writer.writerows(rows)
    return out


def run_loop(model_dir: Path, shifted: Path, train_surveys: Sequence[Path], work: Path, cfg: DetectionConfig,
             tune_epochs: int = 5) -> dict[str, Any]:
    """The loop (see module docstring) in ``work``; returns and writes ``loop.json`` with before/after figures."""
    pred = predict_to_dir(shifted / "scene.tif", model_dir, work / "predictions", shifted / "fields.geojson", cfg)
    _gpkg, csv_path = export_points(pred["scouting_points"].parent, work / "fieldapp")
    doc = json.loads(pred["scouting_points"].read_text(encoding="utf-8"))
    flagged = sorted({f["properties"]["field_id"] for f in doc["features"]})
    observed = flagged[: max(1, len(flagged) // 2)]
    answers = grower_answers(csv_path, shifted / "labels.geojson", observed, work / "fieldapp" / "answers.csv")
    _obs_path, n_obs, _skipped = import_observations(answers, shifted)
    tuned = work / "tuned_model"
    tune_cfg = dataclasses.replace(cfg, epochs=tune_epochs, learning_rate=cfg.learning_rate / 4,
                                   max_train_seconds=max(cfg.max_train_seconds, 60.0))
    train_and_log([*train_surveys, shifted], tuned, tune_cfg, register=False, observations=True, init=model_dir,
                  overwrite=True)
    exclude = {shifted.name: observed}
    settings = inference_settings(cfg)
    before = evaluate_surveys(model_dir, [shifted], settings, cfg.flag_min_area_m2, cfg.flag_min_fraction, exclude)
    after = evaluate_surveys(tuned, [shifted], settings, cfg.flag_min_area_m2, cfg.flag_min_fraction, exclude)
    keys = ("disease_iou", "miou", "ece", "fields_diseased_flagged", "fields_diseased", "fields_false_alarms")
    result = {"shifted_survey": shifted.name, "observed_fields": observed, "observations": n_obs,
              "scored_fields": "all other fields of the shifted survey",
              "before": {k: before[k] for k in keys}, "after": {k: after[k] for k in keys},
              "gain": {k: round(float(after[k]) - float(before[k]), 4) for k in ("disease_iou", "miou", "ece")},
              "points": len(doc["features"])}
    atomic_write_json(work / LOOP_NAME, result)
    return result
