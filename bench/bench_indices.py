"""Benchmark: six vegetation indices over a 5-band orthomosaic, ours vs GDAL's ``gdal_calc.py``.

Builds (seeded) a 5-band float32 DEFLATE-tiled (512 x 512) orthomosaic, RedEdge-MX
band order, then measures in the same run:

* ``gdal_calc.py`` (Debian gdal-bin + python3-gdal; the benchmark stops and says how to
  install them when missing: ``bash .ci/system-deps.sh``), run once per index as a user would,
  ``--NoDataValue`` and DEFLATE GTiff output;
* merely reading every input block (rasterio, same windows and threads as ours);
* ours: :func:`pipeline.ingest.api.run_indices` (what ``shimanto indices`` runs),
  all six indices, COG outputs (default ZSTD level 1 without predictor; DEFLATE for a
  like-for-like codec; ZSTD with the floating-point predictor);
* the COG conversion of one index with overviews precomputed in our pass vs GDAL
  building them from a tiled GTiff;
* peak memory (the child's own VmHWM from /proc/self/status) of a child process running
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
    """Path of gdal_calc.py; a benchmark never installs packages, so stop naming what is missing."""
    found = shutil.which("gdal_calc.py")
    if not found:
        raise SystemExit("baseline gdal_calc.py is missing: install Debian gdal-bin and python3-gdal "
                         "(sudo bash .ci/system-deps.sh) and run the benchmark again")
    return found


Timing = tuple[float, float]  # (wall seconds, CPU seconds: user + system, all threads)


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _best(runs: list[Timing]) -> Timing:
    """Lowest wall time and lowest CPU time over repeats (each is least disturbed by other load)."""
    return min(r[0] for r in runs), min(r[1] for r in runs)


def time_gdal_calc(exe: str, src: Path, out: Path) -> Timing:
    """Wall and CPU seconds for six ``gdal_calc.py`` runs (one per index), DEFLATE GTiff outputs."""
    out.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "GDAL_DATA", "PROJ_LIB")}
    started, cpu = time.perf_counter(), _cpu(resource.RUSAGE_CHILDREN)
    for name, expr in GDAL_CALC.items():
        bands = [f"-{c}" for c in "ABCDE" if c in expr]
        args = [exe, "--quiet", "--overwrite", f"--calc={expr}", "--type=Float32", f"--NoDataValue={NODATA}",
                "--co", "COMPRESS=DEFLATE", f"--outfile={out / (name + '.tif')}"]
        for flag in bands:
            args += [flag, str(src), f"--{flag[1]}_band={'ABCDE'.index(flag[1]) + 1}"]
        subprocess.run(args, check=True, env=env)
    return time.perf_counter() - started, _cpu(resource.RUSAGE_CHILDREN) - cpu


def time_read_only(src: Path, workers: int) -> Timing:
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

    started, cpu = time.perf_counter(), _cpu(resource.RUSAGE_SELF)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        total = sum(pool.map(read, windows))
    elapsed = time.perf_counter() - started, _cpu(resource.RUSAGE_SELF) - cpu
    for ds in local.values():
        ds.close()
    assert total == 5 * 4 * width * height
    return elapsed


def time_ours(src: Path, out: Path, compress: str, predictor: bool = False) -> Timing:
    """Wall and CPU seconds of ``run_indices`` (what ``shimanto indices`` runs) for the six indices."""
    shutil.rmtree(out, ignore_errors=True)
    config = IngestConfig(compress=compress, level=1 if compress == "ZSTD" else 0, predictor=predictor)
    started, cpu = time.perf_counter(), _cpu(resource.RUSAGE_SELF)
    run_indices(src, "rededge-mx", out, indices=SIX, config=config, show_progress=False)
    return time.perf_counter() - started, _cpu(resource.RUSAGE_SELF) - cpu


def cog_conversion_cost(src: Path, work: Path) -> tuple[Timing, Timing]:
    """One index's COG conversion: (a) ours, from the raw grid with overviews precomputed in the pass,
    (b) the textbook way, from a tiled GTiff with GDAL's COG driver building the overviews."""
    import rasterio.shutil

    from pipeline.ingest import engine
    from pipeline.ingest.indices import resolve_indices
    from pipeline.ingest.orthomosaic import open_orthomosaic
    from pipeline.ingest.sensors import get_sensor

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    keep = engine.shutil.rmtree
    settings = engine.EngineSettings(compress="ZSTD", level=1)
    sensor = get_sensor("rededge-mx")
    try:  # keep the pass's intermediates instead of converting them
        engine.shutil.rmtree = lambda path: None  # type: ignore[assignment]
        convert = engine.to_cog
        engine.to_cog = lambda a, b, c: b  # type: ignore[assignment]
        engine.compute_index_rasters(open_orthomosaic(src, sensor), resolve_indices(["ndvi"], sensor), work, settings)
    finally:
        engine.shutil.rmtree, engine.to_cog = keep, convert
    vrt = work / ".work" / "ndvi.vrt"
    tiled = work / "ndvi_tiled.tif"
    with rasterio.open(vrt) as ds:
        profile = {**ds.profile, "driver": "GTiff", "tiled": True, "blockxsize": 512, "blockysize": 512}
        with rasterio.open(tiled, "w", **profile) as dst:
            for _, window in ds.block_windows(1):
                dst.write(ds.read(1, window=window), 1, window=window)
    timings = []
    for source in (vrt, tiled):
        started, cpu = time.perf_counter(), _cpu(resource.RUSAGE_SELF)
        rasterio.shutil.copy(str(source), str(work / "cog.tif"), driver="COG", COMPRESS="ZSTD", LEVEL=1,
                             BLOCKSIZE=512, NUM_THREADS=1)
        timings.append((time.perf_counter() - started, _cpu(resource.RUSAGE_SELF) - cpu))
    shutil.rmtree(work, ignore_errors=True)
    return timings[0], timings[1]


def peak_memory_mib(src: Path, out: Path) -> float:
    """Peak resident memory (MiB) of a fresh child process running ours on ``src``.

    The child reports its own ``VmHWM`` from ``/proc/self/status``. Neither
    ``RUSAGE_CHILDREN`` (the maximum over every child so far, ``gdal_calc.py``
    included) nor the child's ``RUSAGE_SELF`` (Linux carries the forking parent's
    high-water mark across ``execve``) would isolate it.
    """
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "from pipeline.ingest.api import run_indices\n"
        f"run_indices({str(src)!r}, 'rededge-mx', {str(out)!r}, indices={list(SIX)!r}, show_progress=False)\n"
        "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')][0])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return int(done.stdout.split()[-1]) / 1024.0


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
    read = _best([time_read_only(src, workers) for _ in range(args.repeat)])
    ours = _best([time_ours(src, workdir / "ours", "ZSTD") for _ in range(args.repeat)])
    ours_deflate = _best([time_ours(src, workdir / "ours_deflate", "DEFLATE") for _ in range(args.repeat)])
    ours_pred = _best([time_ours(src, workdir / "ours_pred", "ZSTD", True) for _ in range(args.repeat)])
    load = os.getloadavg()[0]
    print(f"{'':38s}{'wall s':>9s}{'CPU s':>9s}   (1-min load average {load:.1f} on {workers} CPUs)")
    for label, (wall, cpu) in (("gdal_calc.py x6 (DEFLATE GTiff)", gdal), ("read-only (rasterio, all blocks)", read),
                               ("ours, six COGs ZSTD (default)", ours), ("ours, six COGs DEFLATE", ours_deflate),
                               ("ours, six COGs ZSTD + FP predictor", ours_pred)):
        print(f"{label:38s}{wall:9.2f}{cpu:9.2f}")
    print(f"ratio gdal_calc / ours (ZSTD)        wall {gdal[0] / ours[0]:6.2f} x  CPU {gdal[1] / ours[1]:6.2f} x"
          "   (target >= 8 wall)")
    print(f"ratio gdal_calc / ours (DEFLATE)     wall {gdal[0] / ours_deflate[0]:6.2f} x  "
          f"CPU {gdal[1] / ours_deflate[1]:6.2f} x")
    print(f"ratio gdal_calc / ours (ZSTD+pred)   wall {gdal[0] / ours_pred[0]:6.2f} x  "
          f"CPU {gdal[1] / ours_pred[1]:6.2f} x")
    print(f"ratio ours (ZSTD) / read-only        wall {ours[0] / read[0]:6.2f} x  CPU {ours[1] / read[1]:6.2f} x")
    ours_cog, gdal_cog = cog_conversion_cost(src, workdir / "cog_cost")
    print(f"COG conversion of one index, precomputed overviews: wall {ours_cog[0]:.2f} s CPU {ours_cog[1]:.2f} s; "
          f"GDAL building overviews from a tiled GTiff: wall {gdal_cog[0]:.2f} s CPU {gdal_cog[1]:.2f} s")
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
