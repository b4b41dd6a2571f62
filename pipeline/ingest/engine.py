"""Streaming, threaded computation of index rasters from an :class:`Orthomosaic`.

One pass over the input: windows aligned to the input's internal blocks (merged to
about ``window_pixels`` pixels) are read ONCE, with only the bands the requested
indices need, by a pool of threads (one reader per thread and file; GDAL
decompression and NumPy release the GIL). Every index of a window, and its
overview pyramid (NaN-aware 2 x 2 means, :mod:`pipeline.ingest.overviews`), is
computed and stored in the same pass into raw float32 grids (short-lived memory
maps: no lock, no GDAL write cache). Then GDAL's COG driver turns each grid,
through a VRT that declares the precomputed overviews, into a compressed
Cloud-Optimized GeoTIFF, conversions running in parallel. Memory stays bounded:
at most ``2 x workers`` windows are in flight and the GDAL cache is capped.
"""

from __future__ import annotations

import math
import os
import shutil
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil
from rasterio._err import CPLE_BaseError
from rasterio.errors import RasterioError
from rasterio.windows import Window

from pipeline.errors import InputError
from pipeline.ingest.indices import ResolvedIndex, evaluate
from pipeline.ingest.orthomosaic import Orthomosaic
from pipeline.ingest.overviews import overview_factors, pyramid, vrt_with_overviews

Progress = Callable[[int], None]


@dataclass(frozen=True)
class EngineSettings:
    """Tuning of the streaming pass and the COG outputs.

    Attributes:
        workers: Threads (0: all CPUs).
        window_pixels: Target pixels per window (rounded to whole input blocks).
        compress: COG compression (DEFLATE, ZSTD, LZW...).
        level: Compression level (DEFLATE 1-12, ZSTD 1-22); 0 keeps GDAL's default.
        blocksize: COG tile size in pixels.
        overview_resampling: Overview resampling of the COGs.
        cache_mb: GDAL block cache (MiB) during the pass; bounds memory (GDAL's default is 5% of RAM).
        predictor: TIFF floating-point predictor (3): COGs ~11% smaller on canopy, ~15% more CPU in total.
    """

    workers: int = 0
    window_pixels: int = 1 << 20
    compress: str = "ZSTD"
    level: int = 1
    blocksize: int = 512
    overview_resampling: str = "AVERAGE"
    cache_mb: int = 128
    predictor: bool = False

    @property
    def threads(self) -> int:
        """Worker threads actually used."""
        return self.workers if self.workers > 0 else max(1, os.cpu_count() or 1)


def plan_windows(
    height: int, width: int, block_shape: tuple[int, int], target_pixels: int, align: int = 1
) -> list[Window]:
    """Cover a ``height x width`` raster with windows made of whole internal blocks.

    Strip-organised files (blocks as wide as the raster) get windows of whole
    strips; tiled files get near-square groups of tiles of about ``target_pixels``.
    Window sizes are also multiples of ``align`` (the largest overview factor) so
    that every window maps onto whole overview pixels.
    """
    unit_r = math.lcm(max(1, block_shape[0]), align)
    unit_c = math.lcm(max(1, block_shape[1]), align)
    if block_shape[1] >= width:
        cols = width
        rows = unit_r * max(1, target_pixels // max(1, width * unit_r))
    else:
        side = math.sqrt(max(1, target_pixels))
        cols = min(width, unit_c * max(1, round(side / unit_c)))
        rows = min(height, unit_r * max(1, round(target_pixels / cols / unit_r)))
    return [
        Window(c, r, min(cols, width - c), min(rows, height - r))
        for r in range(0, height, rows)
        for c in range(0, width, cols)
    ]


def plan_pass(ortho: Orthomosaic, settings: EngineSettings) -> tuple[list[int], list[Window]]:
    """Overview factors of the outputs and the windows of the pass over ``ortho``."""
    factors = overview_factors(ortho.width, ortho.height, settings.blocksize)
    windows = plan_windows(ortho.height, ortho.width, ortho.block_shape, settings.window_pixels,
                           align=factors[-1] if factors else 1)
    return factors, windows


class _Readers:
    """One open dataset per (thread, file); closed together at the end."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._all: list[rasterio.DatasetReader] = []
        self._lock = threading.Lock()

    def get(self, path: Path) -> rasterio.DatasetReader:
        cache: dict[Path, rasterio.DatasetReader] | None = getattr(self._local, "cache", None)
        if cache is None:
            cache = self._local.cache = {}
        if path not in cache:
            ds = rasterio.open(path)
            cache[path] = ds
            with self._lock:
                self._all.append(ds)
        return cache[path]

    def close(self) -> None:
        for ds in self._all:
            ds.close()


def _read_window(ortho: Orthomosaic, readers: _Readers, bands: Sequence[str], window: Window) -> dict[str, np.ndarray]:
    """Read the needed bands of ``window`` (one call per file) as float32 reflectance."""
    wanted = [s for s in ortho.sources if s.band in bands]
    out: dict[str, np.ndarray] = {}
    for path in dict.fromkeys(s.path for s in wanted):
        group = [s for s in wanted if s.path == path]
        alpha = ortho.alpha if ortho.alpha is not None and ortho.alpha.path == path else None
        indexes = [s.index for s in group] + ([alpha.index] if alpha is not None else [])
        try:
            samples = readers.get(path).read(indexes, window=window)
        except (RasterioError, CPLE_BaseError) as exc:
            detail = exc.__cause__ or exc
            raise InputError(
                f"cannot read {str(path)!r} at rows {window.row_off}-{window.row_off + window.height} ({detail}); "
                "the file is truncated or corrupt, re-export it"
            ) from exc
        refl = ortho.to_reflectance(samples[: len(group)], group)
        if alpha is not None:
            refl[:, samples[-1] == 0] = np.nan
        out.update({s.band: refl[i] for i, s in enumerate(group)})
    return out


def _bounded_map(pool: ThreadPoolExecutor, func: Callable[[Window], Any], items: Sequence[Window],
                 in_flight: int) -> Iterator[Any]:
    """``pool.map`` with at most ``in_flight`` pending tasks (bounded memory), in order."""
    pending: list[Future[Any]] = []
    for item in items:
        pending.append(pool.submit(func, item))
        if len(pending) >= in_flight:
            yield pending.pop(0).result()
    for fut in pending:
        yield fut.result()


class RawGrid:
    """A float32 row-major raw file (with an ENVI header, so GDAL reads it) written window by window.

    Each write maps only the rows it touches and unmaps them at once: threads write
    disjoint windows without a lock, and the data goes to the page cache without
    staying in the process's resident memory.
    """

    def __init__(self, path: Path, width: int, height: int) -> None:
        self.path, self.width, self.height = path, width, height
        with path.open("wb") as fh:
            fh.truncate(width * height * 4)
        path.with_suffix(".hdr").write_text(
            f"ENVI\nsamples = {width}\nlines = {height}\nbands = 1\nheader offset = 0\nfile type = ENVI Standard\n"
            "data type = 4\ninterleave = bsq\nbyte order = 0\n", encoding="ascii")

    def write(self, values: np.ndarray, col: int, row: int) -> None:
        """Store a 2-D float32 block with its top-left pixel at ``(col, row)``."""
        rows, cols = values.shape
        mapped = np.memmap(self.path, dtype="<f4", mode="r+", offset=row * self.width * 4, shape=(rows, self.width))
        mapped[:, col : col + cols] = values
        del mapped


def _open_outputs(ortho: Orthomosaic, work: Path, stem: str, factors: Sequence[int]) -> list[RawGrid]:
    """Raw grids of one index: full resolution, then one per overview factor."""
    sizes = [(ortho.width, ortho.height)] + [(-(-ortho.width // f), -(-ortho.height // f)) for f in factors]
    names = [f"{stem}.raw"] + [f"{stem}.ovr{f}.raw" for f in factors]
    return [RawGrid(work / n, w, h) for n, (w, h) in zip(names, sizes, strict=True)]


def compute_index_rasters(
    ortho: Orthomosaic,
    indices: Sequence[ResolvedIndex],
    out_dir: Path,
    settings: EngineSettings | None = None,
    progress: Progress | None = None,
) -> dict[str, Path]:
    """Compute every index of ``indices`` over ``ortho`` into ``out_dir/<stem>.tif`` COGs.

    Args:
        ortho: The validated input.
        indices: Resolved indices (see :func:`pipeline.ingest.indices.resolve_indices`).
        out_dir: Existing folder (normally a temporary one swapped in by the caller).
        settings: Threads, window size and compression.
        progress: Called with the number of windows finished after each one.

    Returns:
        Index name to its COG path.

    Raises:
        InputError: an input block cannot be read (truncated or corrupt file).
    """
    settings = settings or EngineSettings()
    workers = settings.threads
    needed = sorted({b for r in indices for b in r.bands})
    factors, windows = plan_pass(ortho, settings)
    work = out_dir / ".work"
    work.mkdir(parents=True, exist_ok=True)
    readers = _Readers()
    outputs = {r.name: _open_outputs(ortho, work, r.file_stem, factors) for r in indices}
    try:

        def process(window: Window) -> None:
            values = evaluate(indices, _read_window(ortho, readers, needed, window))
            for name, arr in values.items():
                for f, grid, level in zip([1, *factors], outputs[name], [arr, *pyramid(arr, len(factors))],
                                          strict=True):
                    grid.write(level, window.col_off // f, window.row_off // f)

        with rasterio.Env(GDAL_CACHEMAX=settings.cache_mb), ThreadPoolExecutor(max_workers=workers) as pool:
            for done, _ in enumerate(_bounded_map(pool, process, windows, 2 * workers), start=1):
                if progress is not None:
                    progress(done)
    finally:
        readers.close()
    finals: dict[str, Path] = {}
    vrts: dict[str, Path] = {}
    for r in indices:
        paths = [grid.path for grid in outputs[r.name]]
        vrts[r.name] = work / f"{r.file_stem}.vrt"
        vrts[r.name].write_text(vrt_with_overviews(
            paths[0], paths[1:], width=ortho.width, height=ortho.height, crs=ortho.crs,
            transform=ortho.transform, description=r.name,
            tags={"INDEX": r.name, "FORMULA": r.formula, "REFERENCE": r.reference, "SENSOR": ortho.sensor.name,
                  "SOURCE_SCALE": str(ortho.scale or 1.0), "SOURCE_SCALING": ortho.scaling},
            blocksize=settings.blocksize), encoding="utf-8")
        finals[r.name] = out_dir / f"{r.file_stem}.tif"
    converters = min(workers, len(indices))
    with rasterio.Env(GDAL_CACHEMAX=settings.cache_mb), ThreadPoolExecutor(max_workers=converters) as pool:
        list(pool.map(lambda name: to_cog(vrts[name], finals[name], settings), finals))
    shutil.rmtree(work)
    return finals


def to_cog(src: Path, dst: Path, settings: EngineSettings) -> Path:
    """Copy a float32 raster (with its overviews, if any) to a Cloud-Optimized GeoTIFF via GDAL's COG driver."""
    options: dict[str, Any] = {
        "COMPRESS": settings.compress, "BLOCKSIZE": settings.blocksize,
        "OVERVIEW_RESAMPLING": settings.overview_resampling, "BIGTIFF": "IF_SAFER", "NUM_THREADS": 1,
    }
    if settings.predictor and settings.compress.upper() in {"DEFLATE", "ZSTD", "LZW", "LZMA"}:
        options["PREDICTOR"] = "FLOATING_POINT"
    if settings.level:
        options["LEVEL"] = settings.level
    rasterio.shutil.copy(str(src), str(dst), driver="COG", **options)
    return dst
