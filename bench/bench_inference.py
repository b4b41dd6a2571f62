"""CPU inference throughput of the disease model: end to end against model only, same run.

The model is first trained for a couple of epochs on the generated scene so
that its class maps (and so the hotspot work) look like a real model's.
End to end = ``predict_scene`` on a generated scene: read windows with rasterio,
features, forward passes, blending, classes/probability COGs and hotspots.
Model only = forward passes on pre-loaded input tensors of the same window and
batch size (the baseline). Prints megapixels per second of both and their ratio.

    python bench/bench_inference.py [--size 2048] [--threads 2] [--base 16]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import torch

from pipeline.detection.card import ModelCard, load_model, save_model_dir
from pipeline.detection.classes import CLASS_NAMES
from pipeline.detection.config import DetectionConfig
from pipeline.detection.model import build_model
from pipeline.detection.predict import InferenceSettings, predict_scene
from pipeline.detection.toysurvey import ToySpec, make_toy_survey


def untrained_model_dir(root: Path, base: int) -> Path:
    """A model directory with random weights (throughput does not depend on training)."""
    cfg = DetectionConfig(base_channels=base)
    n = len(cfg.bands) + len(cfg.indices)
    card = ModelCard("compact-unet", base, CLASS_NAMES, cfg.bands, "rededge-mx", cfg.indices, (0.1,) * n, (0.1,) * n,
                     cfg.chip_size, 0.1, "bench", "unknown")
    torch.manual_seed(0)
    return save_model_dir(root / "model", card, build_model("compact-unet", n, len(CLASS_NAMES), base).eval())


def trained_model_dir(root: Path, survey: Path, base: int, epochs: int) -> Path:
    """A briefly trained model (realistic class maps, hence realistic hotspot work); random weights if 0 epochs."""
    if epochs <= 0:
        return untrained_model_dir(root, base)
    from pipeline.detection.train import Trainer, load_scenes, save_result

    cfg = DetectionConfig(base_channels=base, chips_per_epoch=64, max_val_chips=16)
    trainer = Trainer(load_scenes([survey], cfg.bands), cfg, torch.device("cpu"))
    history = trainer.fit(epochs)
    return save_result(trainer, [survey], root / "model", history, run_id=None).model_dir


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=2048, help="scene side in pixels (about)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--base", type=int, default=16, help="model width")
    ap.add_argument("--window", type=int, default=256)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--model", type=Path, default=None, help="use this model directory instead of training one")
    ap.add_argument("--train-epochs", type=int, default=2, help="brief training before timing (0: random weights)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="bench-infer-") as tmp:
        root = Path(tmp)
        grid = 8
        field_px = max(32, (args.size - 6) // grid - 6)
        survey = make_toy_survey(root / "survey", ToySpec(seed=1, grid=grid, field_px=field_px))
        model_dir = args.model or trained_model_dir(root, survey, args.base, args.train_epochs)
        settings = InferenceSettings(window=args.window, overlap=32, batch_windows=args.batch, device="cpu")
        import rasterio

        with rasterio.open(survey / "scene.tif") as src:
            mpx = src.width * src.height / 1e6
        predict_scene(survey / "scene.tif", model_dir, root / "warm", survey / "fields.geojson", settings)  # warm-up
        t0 = time.perf_counter()
        predict_scene(survey / "scene.tif", model_dir, root / "pred", survey / "fields.geojson", settings)
        e2e_s = time.perf_counter() - t0
        model, card = load_model(model_dir)
        x = torch.from_numpy(np.random.default_rng(0).normal(size=(args.batch, card.in_channels, args.window,
                                                                   args.window))
                             .astype(np.float32))
        with torch.inference_mode():
            model(x)
            n_batches = max(3, int(np.ceil(mpx * 1e6 / (args.batch * args.window**2))))
            t0 = time.perf_counter()
            for _ in range(n_batches):
                model(x)
            model_s = time.perf_counter() - t0
        model_mpx = n_batches * args.batch * args.window**2 / 1e6
    e2e_rate, model_rate = mpx / e2e_s, model_mpx / model_s
    print(f"scene {mpx:.2f} Mpx, {args.threads} threads, width {card.base_channels}, window {args.window}, "
          f"batch {args.batch}")
    print(f"model only (baseline): {model_rate:.2f} Mpx/s")
    print(f"end to end:            {e2e_rate:.2f} Mpx/s")
    print(f"ratio end-to-end / model-only: {e2e_rate / model_rate:.2f}")


if __name__ == "__main__":
    main()
