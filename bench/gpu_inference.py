"""GPU inference throughput of ``shimanto predict``: end to end against model only, same run.

Both figures come from the product's own code:

* **end to end** = :func:`pipeline.detection.predict.predict_scene` on a
  toy survey scene (COG, 5 float32 bands, fields): window rows read by
  ``--readers`` threads with GDAL's multi-threaded decoding into pinned memory,
  indices, field medians and normalisation on the device, bf16 forward passes,
  crop masking, blending, class argmax, then classes/probability COGs and
  hotspot polygons written by the host — everything from the scene file to the
  output files;
* **model only** (the baseline) = forward passes of the same fused model on a
  batch already on the device, as many windows of the same size and batch as
  the scene needs.

It also prints the read-only floor (every window row read by the same readers,
nothing else) and the per-stage breakdown of the best end-to-end run. The model
is trained here for a few short epochs on a small toy survey, so that its class
maps, and the hotspot tracing that follows from them, look like a trained
model's. Run from the repository root::

    python bench/gpu_inference.py [--size 8192] [--readers 8] [--batch 32] [--repeat 2]

Without CUDA it runs on the CPU with a small scene (the test suite does this so
the script keeps working). The device needs rasterio, shapely, pyproj, scipy,
rich, safetensors and pyyaml besides torch; ``bench/README.md`` says how to carry
their wheels to a borrowed GPU machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch
from bench_inference import model_only_seconds

from pipeline.detection.config import DetectionConfig
from pipeline.detection.engine import open_scene, read_rows, window_starts
from pipeline.detection.predict import predict_scene
from pipeline.detection.streaming import InferenceSettings, StageTimes
from pipeline.detection.train import Trainer, load_scenes, save_result
from pipeline.testing.toysurvey import ToySpec, make_toy_survey


def toy_scene(root: Path, size: int) -> Path:
    """A toy survey of about ``size × size`` pixels (fields of ~500 px, disease discs)."""
    grid = max(2, round(size / 512))
    return make_toy_survey(root, ToySpec(seed=1, grid=grid, field_px=max(32, size // grid - 6)))


def quick_model(root: Path, device: torch.device, epochs: int) -> Path:
    """A width-16 model trained ``epochs`` short epochs on a small toy survey (a real model directory)."""
    survey = make_toy_survey(root / "train", ToySpec(seed=0, grid=4, field_px=120))
    cfg = DetectionConfig(chip_size=64, chip_stride=48, chips_per_epoch=64, max_val_chips=8, batch_size=16,
                          epochs=epochs, threads=torch.get_num_threads())
    trainer = Trainer(load_scenes([survey], cfg.bands), cfg, device)
    return save_result(trainer, [survey], root / "model", trainer.fit(epochs), run_id=None).model_dir


def read_only_seconds(scene: Path, settings: InferenceSettings, readers: int) -> float:
    """Seconds to read every window row of ``scene`` with ``readers`` threads (the I/O floor)."""
    with open_scene(scene, settings.decode_threads) as src:
        starts, height = window_starts(src.height, settings.window, settings.overlap), src.height

    def read_part(part: list[int]) -> None:
        with open_scene(scene, settings.decode_threads) as src:
            for r in part:
                read_rows(src, range(1, src.count + 1), r, min(settings.window, height - r))

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=readers) as pool:
        list(pool.map(read_part, [starts[i::readers] for i in range(readers)]))
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=None, help="scene side in pixels (default 8192 GPU, 768 CPU)")
    ap.add_argument("--batch", type=int, default=None, help="windows per forward pass (default 32 GPU, 8 CPU)")
    ap.add_argument("--readers", type=int, default=None, help="reader threads (default: predict's own default)")
    ap.add_argument("--window", type=int, default=InferenceSettings.window)
    ap.add_argument("--overlap", type=int, default=InferenceSettings.overlap)
    ap.add_argument("--repeat", type=int, default=2, help="timed runs of each side (the best is reported)")
    ap.add_argument("--train-epochs", type=int, default=None, help="epochs of the toy model (default 8 GPU, 1 CPU)")
    ap.add_argument("--device", default=None, help="torch device (default: cuda if present, else cpu)")
    args = ap.parse_args()
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    cuda = device.type == "cuda"
    if cuda:
        torch.backends.cudnn.benchmark = True
        print(f"device: {torch.cuda.get_device_name(device)}, torch {torch.__version__}")
    else:
        torch.set_num_threads(2)
        print(f"device: CPU (2 threads), torch {torch.__version__}")
    size = args.size or (8192 if cuda else 768)
    settings = InferenceSettings(window=args.window, overlap=args.overlap, batch_windows=args.batch or
                                 (32 if cuda else 8), device=str(device), readers=args.readers)
    readers = settings.reader_count(device)
    with tempfile.TemporaryDirectory(prefix="gpu-bench-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        model_dir = quick_model(root, device, args.train_epochs or (8 if cuda else 1))
        survey = toy_scene(root / "scene", size)
        scene, fields = survey / "scene.tif", survey / "fields.geojson"
        with open_scene(scene) as src:
            mpx = src.width * src.height / 1e6
            n_windows = len(window_starts(src.height, args.window, args.overlap)) * \
                len(window_starts(src.width, args.window, args.overlap))
        print(f"set-up (model, {mpx:.1f} Mpx toy scene) {time.perf_counter() - t0:.1f} s")
        warm = toy_scene(root / "warm", min(size, 1024))
        predict_scene(warm / "scene.tif", model_dir, root / "warm-out", warm / "fields.geojson", settings)
        runs = []
        for i in range(args.repeat):
            times = StageTimes()
            t0 = time.perf_counter()
            predict_scene(scene, model_dir, root / f"out{i}", fields, settings, times)
            runs.append((time.perf_counter() - t0, times))
        e2e_s, times = min(runs, key=lambda r: r[0])
        io_s = min(read_only_seconds(scene, settings, readers) for _ in range(args.repeat))
        model_s = model_only_seconds(model_dir, n_windows, settings.window, settings.batch_windows, args.repeat,
                                     device)
    e2e, base, io = mpx / e2e_s, mpx / model_s, mpx / io_s
    print(f"scene {mpx:.1f} Mpx, window {args.window}, overlap {args.overlap}, batch {settings.batch_windows}, "
          f"{n_windows} windows, readers {readers}")
    print(f"model only (baseline): {base:.1f} Mpx/s")
    print(f"read only (I/O floor): {io:.1f} Mpx/s")
    print(f"end to end:            {e2e:.1f} Mpx/s (runs {', '.join(f'{mpx / r[0]:.1f}' for r in runs)})")
    print(f"ratio end-to-end / model-only: {e2e / base:.3f}")
    print(f"breakdown (s): {times.summary()}")
    print(f"settings: {dataclasses.asdict(settings)}")


if __name__ == "__main__":
    main()
