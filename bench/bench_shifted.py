"""Disease IoU in-domain vs under held-out conditions ("shifted"), side by side, same run.

In-domain surveys: the demo's settings (4 ha at 10 cm, RedEdge-MX, nominal simulator), seeds
``--seeds``. Held-out conditions, none of which training ever uses
(:mod:`pipeline.simulate.variation`):

* ``simulator``: the same sites and seeds with a :class:`SimVariation` drawn from ``SHIFTED`` —
  disease strengths, background, canopy density, illumination, noise, blur and band
  misregistration all outside the ``TRAINING`` ranges;
* ``camera``: the same sites flown with the held-out camera (``SHIFTED_ACQUISITION``: DJI P4
  Multispectral, other band centres/widths), nominal physics;
* ``gsd``: nominal physics flown at a held-out GSD (3–4 cm; training draws 5–10 cm), on a smaller
  footprint (``--gsd-hectares``, the simulator's pixel cap), scored against an in-domain twin of the
  same site at 10 cm; the model reads it resampled to its working GSD (``detection/resample.py``);
* ``all``: simulator + camera + GSD shifts together, against the same twin.

The model (``--model DIR``, or trained here on ``--train-seeds`` surveys, nominal or with
``--randomise``: physics from ``TRAINING``, GSD and camera from ``TRAINING_ACQUISITION``, every
survey resampled to the model's 10 cm working GSD) is scored with ``shimanto evaluate``'s code.
Printed per condition: disease IoU in-domain (reference surveys), shifted, and the ratio (the gap to shrink).

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
from pipeline.simulate.variation import (
    SHIFTED,
    SHIFTED_ACQUISITION,
    TRAINING,
    TRAINING_ACQUISITION,
    Acquisition,
    SimVariation,
    sample_acquisition,
    sample_variation,
)

NOMINAL = Acquisition(10.0, "rededge-mx")


def survey(folder: Path, seed: int, variation: SimVariation, acq: Acquisition = NOMINAL,
           hectares: float = 4.0) -> Path:
    """Simulate (cached) one survey: the demo's settings unless told otherwise."""
    if not (folder / "labels.geojson").is_file():
        simulate_survey(folder, SurveySpec(seed=seed, variation=variation, gsd_cm=acq.gsd_cm, sensor=acq.sensor,
                                           hectares=hectares))
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/shifted-bench"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[411, 555])
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--train-seeds", type=int, nargs="+", default=[108, 209, 310])
    ap.add_argument("--randomise", action="store_true",
                    help="draw training surveys' physics from TRAINING and GSD/camera from TRAINING_ACQUISITION")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--gsd-hectares", type=float, default=1.5, help="footprint of the held-out-GSD surveys, ha")
    args = ap.parse_args()
    from pipeline.detection.evaluate import evaluate_surveys
    from pipeline.detection.workflow import train_and_log

    cfg = dataclasses.replace(detection_config(load_params().get("detection")), gsd_m=0.1)
    if args.epochs:
        cfg = dataclasses.replace(cfg, epochs=args.epochs, max_train_seconds=1e6)
    model = args.model
    if model is None:
        kind = "randomised" if args.randomise else "nominal"
        train = []
        for s in args.train_seeds:
            rng = np.random.default_rng(s)
            if args.randomise:
                train.append(survey(args.work / f"train-{kind}{s}", s, sample_variation(rng, TRAINING),
                                    sample_acquisition(rng, TRAINING_ACQUISITION)))
            else:
                train.append(survey(args.work / f"train-{kind}{s}", s, SimVariation()))
        model = args.work / f"model-{kind}{len(args.train_seeds)}"
        if not (model / "model_card.json").is_file():
            train_and_log(train, model, dataclasses.replace(cfg, randomise_training=args.randomise), register=False,
                          tracking_uri=f"sqlite:///{args.work / 'mlflow.db'}")
    gha = args.gsd_hectares
    sets: dict[str, list[Path]] = {"in-domain": [], "simulator": [], "camera": [], "twin": [], "gsd": [], "all": []}
    for s in args.seeds:
        shifted_physics = sample_variation(np.random.default_rng(1000 + s), SHIFTED)
        held_out = sample_acquisition(np.random.default_rng(2000 + s), SHIFTED_ACQUISITION)
        sets["in-domain"].append(survey(args.work / f"in{s}", s, SimVariation()))
        sets["simulator"].append(survey(args.work / f"shifted{s}", s, shifted_physics))
        sets["camera"].append(survey(args.work / f"camera{s}", s, SimVariation(), Acquisition(10.0, held_out.sensor)))
        sets["twin"].append(survey(args.work / f"twin{s}", s, SimVariation(), NOMINAL, gha))
        sets["gsd"].append(survey(args.work / f"gsd{s}", s, SimVariation(),
                                  Acquisition(held_out.gsd_cm, NOMINAL.sensor), gha))
        sets["all"].append(survey(args.work / f"all{s}", s, shifted_physics, held_out, gha))
    settings = inference_settings(cfg)
    scores = {name: evaluate_surveys(model, folders, settings, cfg.flag_min_area_m2, cfg.flag_min_fraction,
                                     check_sensor=False)
              for name, folders in sets.items()}
    print(f"model {model}")
    print(f"{'condition':10s} {'reference':>10s} {'shifted':>10s} {'ratio':>7s}  (disease IoU; mIoU; flagged)")
    for name, ref in (("simulator", "in-domain"), ("camera", "in-domain"), ("gsd", "twin"), ("all", "twin")):
        a, b = scores[ref], scores[name]
        ratio = b["disease_iou"] / a["disease_iou"] if a["disease_iou"] else float("nan")
        print(f"{name:10s} {a['disease_iou']:10.3f} {b['disease_iou']:10.3f} {ratio:7.2f}  "
              f"mIoU {a['miou']:.3f}/{b['miou']:.3f}; flagged {a['fields_diseased_flagged']}/{a['fields_diseased']} "
              f"vs {b['fields_diseased_flagged']}/{b['fields_diseased']}  (reference: {ref})")


if __name__ == "__main__":
    main()
