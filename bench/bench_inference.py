"""CPU inference throughput of the disease model: end to end against model only, same run.

Scene: a PROSAIL simulator survey (``simulate_survey``, seed ``--seed``; 4 ha at
10 cm, about 5.5 Mpx). Model: trained here for ``--train-epochs`` epochs on
another simulator flight (seed ``--train-seed``; its disease IoU on the
predicted scene is printed), so its class maps — and the
hotspot work that follows from them — look like a real model's; ``--model DIR``
uses a trained model directory instead (e.g. the demo's ``model/model``).

End to end = ``predict_scene``: read windows with rasterio, features
(indices, field medians, normalisation), forward passes, blending, classes and
probability COGs, hotspots GeoJSON — everything from the scene file to the
output files. Model only (the baseline) = the same fused ``channels_last``
model's forward passes over pre-built input tensors, as many windows of the
same size and batch as the scene needs. Both are given as scene megapixels
per second (best of ``--repeat`` runs each, after a warm-up), with their ratio
and a per-stage breakdown of the best end-to-end run.

    python bench/bench_inference.py [--threads 2] [--base 16] [--train-epochs 10] [--model DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import rasterio
import torch

from pipeline.detection.card import load_model
from pipeline.detection.classes import DISEASE_IDS
from pipeline.detection.config import DetectionConfig
from pipeline.detection.engine import window_starts
from pipeline.detection.evaluate import evaluate_surveys
from pipeline.detection.predict import HOTSPOTS_NAME, predict_scene
from pipeline.detection.streaming import FastPredictor, InferenceSettings, StageTimes


def trained_model_dir(root: Path, survey: Path, base: int, epochs: int) -> Path:
    """A model trained ``epochs`` epochs (256 chips each) on ``survey``, saved under ``root``."""
    from pipeline.detection.train import Trainer, load_scenes, save_result

    cfg = DetectionConfig(base_channels=base, chips_per_epoch=256, max_val_chips=32, max_train_seconds=600)
    trainer = Trainer(load_scenes([survey], cfg.bands), cfg, torch.device("cpu"))
    history = trainer.fit(epochs)
    return save_result(trainer, [survey], root / "model", history, run_id=None).model_dir


def model_only_seconds(model_dir: Path, n_windows: int, window: int, batch: int, repeat: int,
                       device: torch.device | None = None) -> float:
    """Forward passes of the inference model over ``n_windows`` windows of random input (best of ``repeat``, s).

    The input is laid out and the model run as ``predict`` does on ``device``
    (CPU by default): channels-last on the CPU, bf16 autocast on CUDA.
    """
    device = device or torch.device("cpu")
    model, card = load_model(model_dir, device)
    predictor = FastPredictor(model, card, device)
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(batch, window, window, card.in_channels)).astype(np.float32))
    x = x.to(device).permute(0, 3, 1, 2)  # channels_last, as predict feeds it
    if not predictor.channels_last:
        x = x.contiguous()
    cuda = device.type == "cuda"
    with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda):
        predictor.model(x)  # warm-up
        best = float("inf")
        for _ in range(repeat):
            if cuda:
                torch.cuda.synchronize(device)
            t0 = time.perf_counter()
            for b0 in range(0, n_windows, batch):
                predictor.model(x[: min(batch, n_windows - b0)])
            if cuda:
                torch.cuda.synchronize(device)
            best = min(best, time.perf_counter() - t0)
        return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--base", type=int, default=16, help="model width of the trained model")
    ap.add_argument("--window", type=int, default=InferenceSettings.window)
    ap.add_argument("--overlap", type=int, default=InferenceSettings.overlap)
    ap.add_argument("--batch", type=int, default=InferenceSettings.batch_windows)
    ap.add_argument("--seed", type=int, default=7, help="simulator seed of the predicted scene")
    ap.add_argument("--train-seed", type=int, default=3, help="simulator seed of the training flight")
    ap.add_argument("--train-epochs", type=int, default=10)
    ap.add_argument("--model", type=Path, default=None, help="use this trained model directory instead of training")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of each side (the best is reported)")
    args = ap.parse_args()
    from pipeline.simulate.survey import SurveySpec, simulate_survey  # here: gpu_inference imports this module

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="bench-infer-") as tmp:
        root = Path(tmp)
        survey = simulate_survey(root / "scene", SurveySpec(seed=args.seed)).root
        if args.model is None:
            t0 = time.perf_counter()
            train = simulate_survey(root / "train", SurveySpec(seed=args.train_seed)).root
            model_dir = trained_model_dir(root, train, args.base, args.train_epochs)
            origin = f"trained {args.train_epochs} epochs on simulator seed {args.train_seed} " \
                     f"({time.perf_counter() - t0:.0f} s)"
        else:
            model_dir, origin = args.model, f"from {args.model}"
        settings = InferenceSettings(window=args.window, overlap=args.overlap, batch_windows=args.batch, device="cpu")
        with rasterio.open(survey / "scene.tif") as src:
            mpx = src.width * src.height / 1e6
            n_windows = len(window_starts(src.height, args.window, args.overlap)) * \
                len(window_starts(src.width, args.window, args.overlap))
        predict_scene(survey / "scene.tif", model_dir, root / "warm", survey / "fields.geojson", settings)  # warm-up
        runs = []
        for i in range(args.repeat):
            times = StageTimes()
            t0 = time.perf_counter()
            predict_scene(survey / "scene.tif", model_dir, root / f"pred{i}", survey / "fields.geojson", settings,
                          times)
            runs.append((time.perf_counter() - t0, times))
        e2e_s, times = min(runs, key=lambda r: r[0])
        model_s = model_only_seconds(model_dir, n_windows, args.window, args.batch, args.repeat)
        hotspots = json.loads((root / "pred0" / HOTSPOTS_NAME).read_text())["features"]
        with rasterio.open(root / "pred0" / "classes.tif") as cls:
            classes = cls.read(1)
        card = load_model(model_dir)[1]
        quality = evaluate_surveys(model_dir, [survey], settings, 1.0, 0.05)
    disease_share = float(np.isin(classes, list(DISEASE_IDS)).mean())
    e2e_rate, model_rate = mpx / e2e_s, mpx / model_s
    print(f"scene: simulator seed {args.seed}, {mpx:.2f} Mpx; model: width {card.base_channels}, {origin}")
    print(f"{args.threads} threads, window {args.window}, overlap {args.overlap}, batch {args.batch}, "
          f"{n_windows} windows ({n_windows * args.window**2 / 1e6 / mpx:.2f}x the scene's pixels)")
    print(f"predictions: {disease_share:.1%} disease pixels, {len(hotspots)} hotspots, disease IoU "
          f"{quality['disease_iou']:.2f} against the scene's labels")
    print(f"model only (baseline): {model_rate:.2f} Mpx/s ({model_s:.2f} s, best of {args.repeat})")
    print(f"end to end:            {e2e_rate:.2f} Mpx/s ({e2e_s:.2f} s, best of {args.repeat}; "
          f"all runs {', '.join(f'{mpx / r[0]:.2f}' for r in runs)} Mpx/s)")
    print(f"ratio end-to-end / model-only: {e2e_rate / model_rate:.2f}")
    staged = sum(v for k, v in times.seconds.items() if "parallel" not in k)
    print(f"breakdown (s): {times.summary()}, other {e2e_s - staged:.2f} s "
          "(\"parallel\" stages run on worker threads, overlapping the others)")


if __name__ == "__main__":
    main()
