"""Benchmark: six vegetation indices over a 5-band orthomosaic, ours vs GDAL's ``gdal_calc.py``.

Builds (seeded) a 5-band float32 DEFLATE-tiled (512 x 512) orthomosaic, RedEdge-MX
band order, then measures in the same run:

* ``gdal_calc.py`` (Debian gdal-bin + python3-gdal, installed with apt-get when
  missing), run once per index as a user would, ``--NoDataValue`` and DEFLATE
  GTiff output;
* merely reading every input block (rasterio, same windows and threads as ours);
* ours: :func:`pipeline.ingest.api.run_indices` (what ``shimanto indices`` runs),
  all six indices, COG outputs (default ZSTD, and DEFLATE for a like-for-like codec);
* peak memory (VmHWM via ``RUSAGE_CHILDREN.ru_maxrss``) of a child process running
  ours on a larger (default 8192 x 8192) input.

The input's nodata is -10000 (Pix4D's value): ``gdal_calc.py`` of GDAL 3.6 turns
every output pixel to NaN when the nodata value is NaN (NaN x 0 = NaN in its mask
arithmetic), which would make its timing meaningless.

Usage: ``python bench/bench_indices.py [--size 4096] [--mem-size 8192] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin
from rasterio.windows import Window

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.ingest.api import IngestConfig, run_indices  # noqa: E402
from pipeline.ingest.engine import plan_windows  # noqa: E402

NODATA = -10000.0
#: gdal_calc.py expressions, RedEdge-MX file order: A blue, B green, C red, D nir, E red edge.
GDAL_CALC = {
    "ndvi": "(D-C)/(D+C)",
    "ndre": "(D-E)/(D+E)",
    "gndvi": "(D-B)/(D+B)",
    "savi": "1.5*(D-C)/(D+C+0.5)",
    "osavi": "(D-C)/(D+C+0.16)",
    "evi2": "2.5*(D-C)/(D+2.4*C+1)",
}
SIX = tuple(GDAL_CALC)


def build_input(path: Path, size: int, seed: int = 42) -> Path:
    """A seeded 5-band float32 orthomosaic: smooth field pattern + pixel noise, a nodata border."""
    rng = np.random.default_rng(seed)
    means = np.array([0.04, 0.08, 0.05, 0.45, 0.22], dtype=np.float32)[:, None, None]
    profile = {
        "driver": "GTiff", "width": size, "height": size, "count": 5, "dtype": "float32", "crs": "EPSG:6690",
        "transform": from_origin(307000, 3672000, 0.05, 0.05), "nodata": NODATA, "tiled": True,
        "blockxsize": 512, "blockysize": 512, "compress": "DEFLATE", "predictor": 3,
    }
    step = 512
    with rasterio.open(path, "w", **profile) as ds:
        for row in range(0, size, step):
            h = min(step, size - row)
            coarse = rng.random((1, -(-h // 64), -(-size // 64)), dtype=np.float32)
            pattern = np.kron(coarse, np.ones((1, 64, 64), np.float32))[:, :h, :size]
            data = means * (0.6 + 0.8 * pattern) + rng.normal(0, 0.01, (5, h, size)).astype(np.float32)
            data = np.clip(data, 0.0, 1.0)
            data[:, :, :32] = NODATA
            ds.write(data, window=Window(0, row, size, h))
    return path


def ensure_gdal_calc() -> str:
    """Path of gdal_calc.py, installing Debian gdal-bin and python3-gdal when missing."""
    found = shutil.which("gdal_calc.py")
    if found:
        return found
    print("gdal_calc.py missing; installing gdal-bin python3-gdal with apt-get", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-q", "gdal-bin", "python3-gdal"], check=True)
    found = shutil.which("gdal_calc.py")
    if not found:
        raise SystemExit("gdal_calc.py still missing after apt-get install gdal-bin python3-gdal")
    return found


def time_gdal_calc(exe: str, src: Path, out: Path) -> float:
    """Seconds for six ``gdal_calc.py`` runs (one per index), DEFLATE GTiff outputs."""
    out.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "GDAL_DATA", "PROJ_LIB")}
    started = time.perf_counter()
    for name, expr in GDAL_CALC.items():
        bands = [f"-{c}" for c in "ABCDE" if c in expr]
        args = [exe, "--quiet", "--overwrite", f"--calc={expr}", "--type=Float32", f"--NoDataValue={NODATA}",
                "--co", "COMPRESS=DEFLATE", f"--outfile={out / (name + '.tif')}"]
        for flag in bands:
            args += [flag, str(src), f"--{flag[1]}_band={'ABCDE'.index(flag[1]) + 1}"]
        subprocess.run(args, check=True, env=env)
    return time.perf_counter() - started


def time_read_only(src: Path, workers: int) -> float:
    """Seconds to read every block of all five bands with the same windows and threads as ours."""
    with rasterio.open(src) as ds:
        height, width = ds.height, ds.width
        windows = plan_windows(height, width, ds.block_shapes[0], 1 << 20, align=8)
    local: dict[int, rasterio.DatasetReader] = {}

    def read(window: Window) -> int:
        import threading

        key = threading.get_ident()
        if key not in local:
            local[key] = rasterio.open(src)
        return int(local[key].read(window=window).nbytes)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        total = sum(pool.map(read, windows))
    elapsed = time.perf_counter() - started
    for ds in local.values():
        ds.close()
    assert total == 5 * 4 * width * height
    return elapsed


def time_ours(src: Path, out: Path, compress: str) -> float:
    shutil.rmtree(out, ignore_errors=True)
    config = IngestConfig(compress=compress, level=1 if compress == "ZSTD" else 0)
    started = time.perf_counter()
    run_indices(src, "rededge-mx", out, indices=SIX, config=config, show_progress=False)
    return time.perf_counter() - started


def peak_memory_mib(src: Path, out: Path) -> float:
    """Peak resident memory (MiB) of a child process running ours on ``src``."""
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "from pipeline.ingest.api import run_indices\n"
        f"run_indices({str(src)!r}, 'rededge-mx', {str(out)!r}, indices={list(SIX)!r}, show_progress=False)\n"
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run([sys.executable, "-c", code], check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(after, before) / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--mem-size", type=int, default=8192)
    parser.add_argument("--repeat", type=int, default=3, help="best of N for ours and read-only")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench_indices_"))
    workdir.mkdir(parents=True, exist_ok=True)
    workers = os.cpu_count() or 1
    exe = ensure_gdal_calc()
    print(f"cpus={workers}  input {args.size} x {args.size} x 5 float32 DEFLATE tiled  workdir={workdir}", flush=True)
    src = build_input(workdir / "ortho.tif", args.size)
    print(f"input size {src.stat().st_size / 2**20:.0f} MiB", flush=True)
    gdal = time_gdal_calc(exe, src, workdir / "gdal_calc")
    read = min(time_read_only(src, workers) for _ in range(args.repeat))
    ours = min(time_ours(src, workdir / "ours", "ZSTD") for _ in range(args.repeat))
    ours_deflate = min(time_ours(src, workdir / "ours_deflate", "DEFLATE") for _ in range(args.repeat))
    print(f"gdal_calc.py x6 (DEFLATE GTiff)     {gdal:8.2f} s")
    print(f"read-only (rasterio, all blocks)    {read:8.2f} s")
    print(f"ours, six COGs ZSTD (default)       {ours:8.2f} s")
    print(f"ours, six COGs DEFLATE              {ours_deflate:8.2f} s")
    print(f"ratio gdal_calc / ours (ZSTD)       {gdal / ours:8.2f} x   (target >= 8)")
    print(f"ratio gdal_calc / ours (DEFLATE)    {gdal / ours_deflate:8.2f} x")
    print(f"ratio ours (ZSTD) / read-only       {ours / read:8.2f} x")
    if args.mem_size:
        big = build_input(workdir / "ortho_big.tif", args.mem_size, seed=43)
        (workdir / "ortho.tif").unlink()
        shutil.rmtree(workdir / "gdal_calc", ignore_errors=True)
        peak = peak_memory_mib(big, workdir / "ours_big")
        print(f"peak memory, {args.mem_size} x {args.mem_size} input   {peak:8.0f} MiB   (target < 1024)")
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
