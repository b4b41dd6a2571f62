"""GPU inference throughput of the disease model: end to end against model only, same run.

Self-contained (torch, numpy, rasterio; the model class from
``pipeline.detection.model``, which imports nothing heavier). Run from the
repository root::

    python bench/gpu_inference.py [--size 8192] [--batch 64] [--seconds 20]

It writes a synthetic 5-band float32 scene (tiled GeoTIFF) to a temporary
folder, then measures

* model only: bf16-autocast forward passes on a pre-loaded batch of windows on
  the device (the baseline);
* end to end: reader threads (``--readers``) read window rows with rasterio into pinned
  memory, the device computes indices, normalisation, forward passes, crop-free
  softmax, linear-ramp blending of overlapping windows and the class argmax,
  and a writer thread writes class strips to a tiled GeoTIFF; reading, compute
  and writing overlap.

and prints megapixels per second of both and the ratio. Without CUDA it falls
back to the CPU with a small scene.
"""

from __future__ import annotations

import argparse
import queue
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import rasterio
import torch
from rasterio.transform import from_origin
from rasterio.windows import Window

from pipeline.detection.model import CompactUNet, fuse_for_inference

BANDS = 5  # blue, green, red, nir, red_edge
N_CLASSES = 8
INDEX_PAIRS = ((3, 2), (3, 4), (3, 1))  # NDVI, NDRE, GNDVI as (a, b) band positions of ND(a, b)


def write_scene(path: Path, size: int) -> None:
    """A random-texture reflectance scene, written strip by strip (tiled, uncompressed)."""
    rng = np.random.default_rng(0)
    profile = {"driver": "GTiff", "width": size, "height": size, "count": BANDS, "dtype": "float32",
               "crs": "EPSG:6690", "transform": from_origin(305000, 3652000, 0.1, 0.1), "tiled": True,
               "blockxsize": 512, "blockysize": 512, "interleave": "pixel", "BIGTIFF": "IF_SAFER"}
    base = np.array([0.05, 0.09, 0.06, 0.40, 0.20], np.float32)[:, None, None]
    with rasterio.open(path, "w", **profile) as dst:
        for r in range(0, size, 512):
            h = min(512, size - r)
            block = base * rng.uniform(0.7, 1.3, size=(1, h, size)).astype(np.float32)
            dst.write(block + rng.normal(0, 0.01, size=(BANDS, h, size)).astype(np.float32),
                      window=Window(0, r, size, h))


def ramp(window: int, overlap: int, device: torch.device) -> torch.Tensor:
    i = torch.arange(window, dtype=torch.float32, device=device) + 0.5
    w1 = torch.clamp(torch.minimum(i, window - i) / overlap, max=1.0)
    return torch.outer(w1, w1)


def features(bands: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """(B, H, W) reflectance -> (B + 3, H, W) normalised bands and indices, on the device."""
    idx = [(bands[a] - bands[b]) / (bands[a] + bands[b]).clamp_min(1e-6) for a, b in INDEX_PAIRS]
    x = torch.cat([bands, torch.stack(idx)], dim=0)
    return torch.nan_to_num((x - mean[:, None, None]) / std[:, None, None])


def starts(length: int, window: int, overlap: int) -> list[int]:
    if length <= window:
        return [0]
    out = list(range(0, length - window + 1, window - overlap))
    return out if out[-1] == length - window else [*out, length - window]


def end_to_end(scene: Path, out: Path, model: torch.nn.Module, device: torch.device, window: int, overlap: int,
               batch: int, readers: int) -> float:
    """Seconds to classify the whole scene and write classes.tif (reader/compute/writer threads overlap)."""
    mean = torch.tensor([0.05, 0.09, 0.06, 0.4, 0.2, 0.7, 0.3, 0.6], device=device)
    std = torch.full((8,), 0.1, device=device)
    weights = ramp(window, overlap, device)
    with rasterio.open(scene) as src:
        width, height, profile = src.width, src.height, src.profile
    rows = starts(height, window, overlap)
    writes: queue.Queue = queue.Queue(maxsize=3)
    pin = device.type == "cuda"

    local = threading.local()

    def read(r: int) -> torch.Tensor:
        if not hasattr(local, "src"):
            local.src = rasterio.open(scene)
        inside = min(window, height - r)
        t = torch.zeros((BANDS, window, width), dtype=torch.float32, pin_memory=pin)
        t[:, :inside] = torch.from_numpy(local.src.read(window=Window(0, r, width, inside)))
        return t

    def writer() -> None:
        prof = {**profile, "count": 1, "dtype": "uint8", "interleave": "band", "nodata": 255}
        with rasterio.open(out, "w", **prof) as dst:
            while (item := writes.get()) is not None:
                r, cls = item
                dst.write(cls[None], window=Window(0, r, width, cls.shape[0]))

    t0 = time.perf_counter()
    writer_thread = threading.Thread(target=writer, daemon=True)
    writer_thread.start()
    pool = ThreadPoolExecutor(max_workers=readers)
    pending = [pool.submit(read, r) for r in rows[: readers + 1]]
    step = window - overlap
    n_cols = max(1, -(-(width - window) // step) + 1)
    padded = step * (n_cols - 1) + window  # regular column grid over a right-padded strip
    acc = torch.zeros((N_CLASSES, window, padded), device=device)
    wsum = torch.zeros((1, window, padded), device=device)
    wfold = torch.nn.functional.fold(weights.reshape(1, -1, 1).expand(1, -1, n_cols).contiguous(),
                                     (window, padded), (window, window), stride=(1, step))[0]
    for k, r in enumerate(rows):
        bands = pending.pop(0).result().to(device, non_blocking=True)
        if k + readers + 1 < len(rows):
            pending.append(pool.submit(read, rows[k + readers + 1]))
        feats = torch.nn.functional.pad(features(bands, mean, std), (0, padded - width))
        wins = feats.unfold(2, window, step).permute(2, 0, 1, 3).contiguous(memory_format=torch.channels_last)
        outs = []
        with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=pin):
            for b0 in range(0, n_cols, batch):
                outs.append(torch.softmax(model(wins[b0 : b0 + batch]).float(), dim=1) * weights)
        probs = torch.cat(outs)  # (n_cols, K, window, window)
        cols_flat = probs.reshape(n_cols, -1).T.unsqueeze(0)
        acc += torch.nn.functional.fold(cols_flat, (window, padded), (window, window), stride=(1, step))[0]
        wsum += wfold
        n = (rows[k + 1] if k + 1 < len(rows) else height) - r
        cls = (acc[:, :n, :width] / wsum[:, :n, :width]).argmax(0).to(torch.uint8)
        writes.put((r, cls.cpu().numpy()))
        acc = torch.roll(acc, -n, dims=1)
        acc[:, -n:] = 0
        wsum = torch.roll(wsum, -n, dims=1)
        wsum[:, -n:] = 0
    writes.put(None)
    writer_thread.join()
    pool.shutdown()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def read_only(scene: Path, window: int, overlap: int, readers: int) -> float:
    """Seconds to read every window row with ``readers`` threads (the I/O floor of end to end)."""
    with rasterio.open(scene) as src:
        width, height = src.width, src.height
    local = threading.local()

    def read(r: int) -> int:
        if not hasattr(local, "src"):
            local.src = rasterio.open(scene)
        return int(local.src.read(window=Window(0, r, width, min(window, height - r))).size)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=readers) as pool:
        list(pool.map(read, starts(height, window, overlap)))
    return time.perf_counter() - t0


def model_only(model: torch.nn.Module, device: torch.device, window: int, batch: int, seconds: float) -> float:
    """Mpx/s of forward passes (bf16 autocast on CUDA) on a batch already on the device."""
    x = torch.randn(batch, 8, window, window, device=device)
    with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        for _ in range(3):
            torch.softmax(model(x).float(), dim=1)
        if device.type == "cuda":
            torch.cuda.synchronize()
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            torch.softmax(model(x).float(), dim=1)
            n += 1
        if device.type == "cuda":
            torch.cuda.synchronize()
        dt = time.perf_counter() - t0
    return n * batch * window * window / dt / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description="GPU inference throughput: end to end vs model only")
    ap.add_argument("--size", type=int, default=None, help="scene side in pixels (default 8192 GPU, 1024 CPU)")
    ap.add_argument("--batch", type=int, default=None, help="windows per forward pass (default 64 GPU, 8 CPU)")
    ap.add_argument("--window", type=int, default=512)
    ap.add_argument("--overlap", type=int, default=32)
    ap.add_argument("--base", type=int, default=16)
    ap.add_argument("--readers", type=int, default=None, help="parallel reader threads (default 8 GPU, 1 CPU)")
    ap.add_argument("--seconds", type=float, default=10.0, help="duration of the model-only measurement")
    args = ap.parse_args()
    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    size = args.size or (8192 if cuda else 1024)
    batch = args.batch or (64 if cuda else 8)
    readers = args.readers or (8 if cuda else 1)
    if cuda:
        torch.backends.cudnn.benchmark = True
        print(f"device: {torch.cuda.get_device_name(0)}")
    else:
        torch.set_num_threads(2)
        print("device: CPU (no CUDA), 2 threads")
    torch.manual_seed(0)
    model = fuse_for_inference(CompactUNet(8, N_CLASSES, args.base)).to(device).to(memory_format=torch.channels_last)
    with tempfile.TemporaryDirectory(prefix="gpu-bench-") as tmp:
        scene = Path(tmp) / "scene.tif"
        t0 = time.perf_counter()
        write_scene(scene, size)
        print(f"scene {size}x{size} ({size * size / 1e6:.1f} Mpx) written in {time.perf_counter() - t0:.1f} s")
        end_to_end(scene, Path(tmp) / "warm.tif", model, device, args.window, args.overlap, batch, readers)  # warm-up
        e2e_s = end_to_end(scene, Path(tmp) / "classes.tif", model, device, args.window, args.overlap, batch,
                           readers)
        io_s = read_only(scene, args.window, args.overlap, readers)
    e2e = size * size / e2e_s / 1e6
    base = model_only(model, device, args.window, batch, args.seconds)
    print(f"window {args.window}, overlap {args.overlap}, batch {batch}, width {args.base}, readers {readers}")
    print(f"model only (baseline): {base:.1f} Mpx/s")
    print(f"read only (I/O floor): {size * size / io_s / 1e6:.1f} Mpx/s")
    print(f"end to end:            {e2e:.1f} Mpx/s")
    print(f"ratio end-to-end / model-only: {e2e / base:.2f}")


if __name__ == "__main__":
    main()
