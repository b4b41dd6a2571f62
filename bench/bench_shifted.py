"""Disease IoU in-domain vs under held-out simulator settings ("shifted"), side by side, same run.

In-domain surveys: the demo's settings (4 ha at 10 cm, RedEdge-MX, nominal simulator), seeds
``--seeds``. Shifted surveys: the same sites and seeds with a :class:`SimVariation` drawn from
:data:`pipeline.simulate.variation.SHIFTED` — disease strengths, background, canopy density,
illumination, noise, blur and band misregistration all outside the ranges training data are drawn
from (:data:`TRAINING`). The model (``--model DIR``, or trained here on ``--train-seeds`` surveys,
nominal or with ``--randomise`` training variation) is scored with ``shimanto evaluate``'s code.
Printed: disease IoU and mIoU on both and the ratio shifted / in-domain (the gap to shrink).

    python bench/bench_shifted.py --model demo-output/model/model [--work /tmp/shifted-bench]
    python bench/bench_shifted.py --train-seeds 108 209 310 --randomise --epochs 50
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.config import load_params
from pipeline.detection.config import detection_config
from pipeline.detection.workflow import inference_settings
from pipeline.simulate.survey import SurveySpec, simulate_survey
from pipeline.simulate.variation import SHIFTED, TRAINING, SimVariation, sample_variation


def survey(folder: Path, seed: int, variation: SimVariation) -> Path:
    """Simulate (cached) one survey with the demo's settings."""
    if not (folder / "labels.geojson").is_file():
        simulate_survey(folder, SurveySpec(seed=seed, variation=variation))
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/shifted-bench"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[411, 555])
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--train-seeds", type=int, nargs="+", default=[108, 209, 310])
    ap.add_argument("--randomise", action="store_true", help="draw training surveys' variation from TRAINING")
    ap.add_argument("--epochs", type=int, default=None)
    args = ap.parse_args()
    from pipeline.detection.evaluate import evaluate_surveys
    from pipeline.detection.workflow import train_and_log

    cfg = detection_config(load_params().get("detection"))
    if args.epochs:
        cfg = dataclasses.replace(cfg, epochs=args.epochs, max_train_seconds=1e6)
    model = args.model
    if model is None:
        kind = "randomised" if args.randomise else "nominal"
        train = [survey(args.work / f"train-{kind}{s}", s,
                        sample_variation(np.random.default_rng(s), TRAINING) if args.randomise else SimVariation())
                 for s in args.train_seeds]
        model = args.work / f"model-{kind}"
        if not (model / "model_card.json").is_file():
            train_and_log(train, model, cfg, tracking_uri=f"sqlite:///{args.work / 'mlflow.db'}", register=False)
    indomain = [survey(args.work / f"in{s}", s, SimVariation()) for s in args.seeds]
    shifted = [survey(args.work / f"shifted{s}", s, sample_variation(np.random.default_rng(1000 + s), SHIFTED))
               for s in args.seeds]
    settings = inference_settings(cfg)
    a = evaluate_surveys(model, indomain, settings, cfg.flag_min_area_m2, cfg.flag_min_fraction)
    b = evaluate_surveys(model, shifted, settings, cfg.flag_min_area_m2, cfg.flag_min_fraction)
    print(f"model {model}")
    print(f"{'':12s} {'in-domain':>10s} {'shifted':>10s} {'ratio':>7s}")
    for key in ("disease_iou", "miou"):
        ratio = b[key] / a[key] if a[key] else float("nan")
        print(f"{key:12s} {a[key]:10.3f} {b[key]:10.3f} {ratio:7.2f}")
    print(f"diseased fields flagged: in-domain {a['fields_diseased_flagged']}/{a['fields_diseased']}, shifted "
          f"{b['fields_diseased_flagged']}/{b['fields_diseased']}")


if __name__ == "__main__":
    main()
