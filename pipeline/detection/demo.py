"""Demo stages ``model`` and ``predictions``.

``run_model`` simulates three training surveys (seeds ``seed + 101``,
``seed + 202`` and ``seed + 303``, so different fields from the demo survey), trains a model with
a bounded time budget, logs it to MLflow and evaluates it on the held-out demo
survey (``ctx.out / "survey"``, seed ``seed``). ``run_predictions`` runs the
trained model over that held-out survey with its fields layer.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pipeline.core.io import open_survey
from pipeline.demo import DemoContext
from pipeline.detection.config import DetectionConfig, detection_config
from pipeline.detection.workflow import evaluate_to_file, predict_to_dir, train_and_log

TRAIN_SEED_OFFSETS = (101, 202, 303)
MODEL_SUBDIR = "model"
METRICS_NAME = "metrics.json"

#: Overrides of the smallest (``--quick``) demo run.
QUICK = {"epochs": 2, "chips_per_epoch": 32, "max_val_chips": 16, "base_channels": 8, "max_train_seconds": 20.0}


def demo_config(ctx: DemoContext) -> DetectionConfig:
    """The detection config of the demo (params.yaml's ``detection:``, shrunk in quick mode)."""
    cfg = detection_config(ctx.params.get("detection"))
    return dataclasses.replace(cfg, **QUICK) if ctx.quick else cfg  # type: ignore[arg-type]


def simulate_training_surveys(ctx: DemoContext) -> list[Path]:
    """Simulate the training surveys (same settings as the demo survey, other seeds)."""
    import numpy as np

    from pipeline.simulate.demo import demo_spec
    from pipeline.simulate.survey import simulate_survey
    from pipeline.simulate.variation import TRAINING, SimVariation, sample_variation

    base = demo_spec(ctx)
    randomise = demo_config(ctx).randomise_training
    root = ctx.stage_dir("model") / "train_surveys"
    folders = []
    for offset in TRAIN_SEED_OFFSETS:
        seed = ctx.seed + offset
        variation = sample_variation(np.random.default_rng(seed), TRAINING) if randomise else SimVariation()
        spec = dataclasses.replace(base, seed=seed, layout_seed=None, variation=variation)
        folders.append(simulate_survey(root / f"seed{ctx.seed + offset}", spec).root)
    return folders


def run_model(ctx: DemoContext) -> list[Path]:
    """Simulate training surveys, train, log to MLflow, evaluate on the held-out survey."""
    cfg = demo_config(ctx)
    surveys = simulate_training_surveys(ctx)
    stage = ctx.stage_dir("model")
    model_dir = stage / MODEL_SUBDIR
    train_and_log(surveys, model_dir, cfg)
    held_out = open_survey(ctx.out / "survey", need_labels=True).root
    evaluate_to_file(model_dir, [held_out], cfg, stage / METRICS_NAME)
    return [model_dir / "weights.safetensors", model_dir / "model_card.json", stage / METRICS_NAME]


def run_predictions(ctx: DemoContext) -> list[Path]:
    """Predict disease on the held-out demo survey with the demo model."""
    cfg = demo_config(ctx)
    survey = open_survey(ctx.out / "survey")
    paths = predict_to_dir(survey.scene, ctx.out / "model" / MODEL_SUBDIR, ctx.stage_dir("predictions"),
                           survey.fields, cfg)
    return list(paths.values())


SCOUTING_STAGE = "scouting"
#: Seed offset of the demo's shifted survey (a site the model never saw, with held-out simulator settings).
SHIFTED_SEED_OFFSET = 404


def run_scouting_loop(ctx: DemoContext) -> list[Path]:
    """The field loop once (:mod:`loop`): shifted survey → points → observations → fine-tune → gain."""
    import numpy as np

    from pipeline.detection.loop import LOOP_NAME, run_loop
    from pipeline.simulate.demo import demo_spec
    from pipeline.simulate.survey import simulate_survey
    from pipeline.simulate.variation import SHIFTED, sample_variation

    cfg = demo_config(ctx)
    stage = ctx.stage_dir(SCOUTING_STAGE)
    seed = ctx.seed + SHIFTED_SEED_OFFSET
    spec = dataclasses.replace(demo_spec(ctx), seed=seed, layout_seed=None,
                               variation=sample_variation(np.random.default_rng(seed), SHIFTED))
    shifted = simulate_survey(stage / f"shifted_seed{seed}", spec).root
    train = sorted((ctx.out / "model" / "train_surveys").glob("seed*"))[:1]
    run_loop(ctx.out / "model" / MODEL_SUBDIR, shifted, train, stage, cfg, tune_epochs=2 if ctx.quick else 5)
    return [stage / LOOP_NAME, *sorted((stage / "fieldapp").glob("*"))]
