"""Scouting points and calibration on unseen-seed simulator surveys (issue 14's "done when" figures).

Simulates the demo's training surveys (same settings as ``make demo``: 4 ha at 10 cm, seeds
``--train-seeds``) and ``--test-seeds`` surveys no choice was made on, trains the demo model
(params.yaml ``detection:``), predicts every test survey with ``shimanto predict``'s code and
scores its ``scouting_points.geojson`` against the survey's labels
(:func:`pipeline.detection.scoutscore.score_points`): points within 2 m of labelled disease,
labelled patches ≥ 10 m² with a point within 5 m, boundary-sliver points, diseased fields with a
point; plus the model card's ECE before/after calibration. Folders are cached under ``--work``.

    python bench/bench_scouting.py [--work /tmp/scouting-bench] [--epochs 50]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shapely.geometry import shape

from pipeline.common.geo import read_geojson_features, reproject_geometry
from pipeline.config import load_params
from pipeline.detection.card import read_card
from pipeline.detection.config import detection_config
from pipeline.detection.predict import SCOUTING_NAME
from pipeline.detection.scoutscore import ScoutScore, score_points
from pipeline.detection.workflow import inference_settings

CRS = "EPSG:6690"


def simulate(folder: Path, seed: int) -> Path:
    """The demo's survey settings with ``seed`` (cached)."""
    from pipeline.simulate.survey import SurveySpec, simulate_survey

    if not (folder / "labels.geojson").is_file():
        simulate_survey(folder, SurveySpec(seed=seed))
    return folder


def score_survey(survey: Path, pred: Path) -> ScoutScore:
    """Score ``pred/scouting_points.geojson`` against ``survey/labels.geojson``."""
    doc = json.loads((pred / SCOUTING_NAME).read_text(encoding="utf-8"))
    points = [(f["properties"]["field_id"],
               reproject_geometry(shape(f["geometry"]), "EPSG:4326", CRS)) for f in doc["features"]]
    labels, lcrs = read_geojson_features(survey / "labels.geojson")
    fields, fcrs = read_geojson_features(survey / "fields.geojson")
    lab = [(str(p["field_id"]), reproject_geometry(g, lcrs, CRS)) for g, p in labels]
    fld = {str(p["field_id"]): reproject_geometry(g, fcrs, CRS) for g, p in fields}
    return score_points(points, lab, fld)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/scouting-bench"))
    ap.add_argument("--train-seeds", type=int, nargs="+", default=[108, 209, 310])
    ap.add_argument("--test-seeds", type=int, nargs="+", default=[411, 555, 666, 888])
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--max-seconds", type=float, default=None, help="training time cap (default: params)")
    ap.add_argument("--model", type=Path, default=None, help="use this model directory instead of training")
    args = ap.parse_args()
    from pipeline.detection.predict import predict_scene
    from pipeline.detection.workflow import train_and_log

    cfg = detection_config(load_params().get("detection"))
    if args.epochs:
        cfg = dataclasses.replace(cfg, epochs=args.epochs)
    if args.max_seconds:
        cfg = dataclasses.replace(cfg, max_train_seconds=args.max_seconds)
    t0 = time.perf_counter()
    train = [simulate(args.work / f"train{s}", s) for s in args.train_seeds]
    test = [simulate(args.work / f"test{s}", s) for s in args.test_seeds]
    print(f"simulated {len(train) + len(test)} surveys in {time.perf_counter() - t0:.0f} s")
    model = args.model or args.work / "model"
    if args.model is None and not (model / "model_card.json").is_file():
        t0 = time.perf_counter()
        train_and_log(train, model, cfg, tracking_uri=f"sqlite:///{args.work / 'mlflow.db'}", register=False)
        print(f"trained in {time.perf_counter() - t0:.0f} s")
    card = read_card(model)
    print(f"calibration: {json.dumps(card.calibration)}")
    total = ScoutScore()
    for survey in test:
        pred = args.work / f"pred-{model.name}-{survey.name}"
        predict_scene(survey / "scene.tif", model, pred, survey / "fields.geojson", inference_settings(cfg))
        score = score_survey(survey, pred)
        total = total + score
        rates = score.rates()
        print(f"{survey.name}: {score.points} points, near disease {score.points_near_disease}/{score.points} "
              f"({rates['points_near_disease']:.0%}), patches >=10 m2 reached {score.patches_reached}/"
              f"{score.patches} ({rates['patches_reached']:.0%}), sliver points {score.sliver_points}, diseased "
              f"fields with a point {score.diseased_fields_flagged}/{score.diseased_fields}, "
              f"max points per field {score.max_points_per_field}")
    rates = total.rates()
    print(f"pooled: points near disease {rates['points_near_disease']:.1%} ({total.points_near_disease}/"
          f"{total.points}), patches reached {rates['patches_reached']:.1%} ({total.patches_reached}/"
          f"{total.patches}), sliver points {total.sliver_points}, diseased fields flagged "
          f"{total.diseased_fields_flagged}/{total.diseased_fields}")


if __name__ == "__main__":
    main()
