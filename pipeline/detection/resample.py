"""A scene read at the model's working GSD: the one resampling rule of training, evaluation and inference.

A detection model works at one ground sample distance (``ModelCard.gsd_m``, the training
scenes' pixel size after resampling). A scene at another GSD (the demo's flight plan flies
5 cm, its surveys are 10 cm; the project supports 3–10 cm) is read through a GDAL warped VRT
(:class:`rasterio.vrt.WarpedVRT`, same CRS) onto the *working grid*: the scene's north-up grid
with the same origin (top-left corner) and pixels of ``gsd_m``, ``ceil(extent / gsd_m)`` pixels
across. Resampling (GDAL warp kernels, https://gdal.org/programs/gdalwarp.html#cmdoption-gdalwarp-r):

* coarser target (downsampling, e.g. 5 cm → 10 cm): ``average`` — the mean of the valid source
  pixels a target pixel covers, weighted by their covered fraction (GDAL ≥ 3.1); nodata (NaN)
  pixels do not count, a target pixel with no valid source pixel is nodata;
* finer target (upsampling): ``bilinear``.

A scene within 1 % of the working GSD is read as it is (no warp). Labels and fields are
rasterised directly on the working grid (polygons), so they need no resampling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import rasterio
from affine import Affine
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT

from pipeline.errors import GeoreferenceError

#: Relative GSD difference below which a scene is read without resampling.
GSD_TOLERANCE = 0.01


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid: affine transform and size in pixels."""

    transform: Affine
    width: int
    height: int

    @property
    def gsd_m(self) -> float:
        """Pixel side (m)."""
        return abs(self.transform.a)


def working_grid(transform: Affine, width: int, height: int, gsd_m: float | None, name: str = "scene") -> Grid | None:
    """The grid of a ``width × height`` raster at ``transform`` resampled to ``gsd_m`` (m); ``None`` when the
    raster is already within :data:`GSD_TOLERANCE` of it or ``gsd_m`` is ``None``.

    Raises:
        GeoreferenceError: the raster is rotated/sheared or its pixels are not square within the tolerance.
    """
    if gsd_m is None:
        return None
    if transform.b or transform.d:
        raise GeoreferenceError(f"{name} has a rotated geotransform {tuple(transform)[:6]}; export the "
                                "orthomosaic north-up (gdalwarp without -rotate) so it can be resampled")
    px, py = abs(transform.a), abs(transform.e)
    if abs(px - py) > GSD_TOLERANCE * max(px, py):
        raise GeoreferenceError(f"{name} has non-square pixels {px:g} × {py:g} m; resample it to square pixels "
                                "(gdalwarp -tr) first")
    if abs(px - gsd_m) <= GSD_TOLERANCE * gsd_m:
        return None
    sx, sy = math.copysign(gsd_m, transform.a), math.copysign(gsd_m, transform.e)
    out = Grid(Affine(sx, 0.0, transform.c, 0.0, sy, transform.f),
               max(1, math.ceil(width * px / gsd_m - 1e-9)), max(1, math.ceil(height * py / gsd_m - 1e-9)))
    return out


def resampling_for(source_gsd_m: float, target_gsd_m: float) -> Resampling:
    """``average`` when the target pixels are coarser than the source's, else ``bilinear`` (module docstring)."""
    return Resampling.average if target_gsd_m >= source_gsd_m else Resampling.bilinear


class ResampledScene(WarpedVRT):
    """A scene opened on a :class:`Grid` (a ``WarpedVRT`` that also closes its source dataset).

    ``scene_path`` and ``grid`` let worker threads open their own copy (:func:`open_on_grid`).
    """

    scene_path: str
    grid: Grid

    def close(self) -> None:
        """Close the VRT and the source dataset it reads."""
        source = self.src_dataset
        super().close()
        source.close()


def open_on_grid(path: str | Path, grid: Grid, **open_options: str) -> ResampledScene:
    """Open ``path`` (rasterio open options ``open_options``) read through a warped VRT on ``grid``."""
    src = rasterio.open(path, **open_options)
    try:
        nodata = src.nodata
        if nodata is None and src.dtypes[0].startswith("float"):
            nodata = float("nan")  # pixels of the grid beyond the scene's edge read as NaN, not 0
        vrt = ResampledScene(src, crs=src.crs, transform=grid.transform, width=grid.width, height=grid.height,
                             resampling=resampling_for(abs(src.transform.a), grid.gsd_m), nodata=nodata)
    except Exception:
        src.close()
        raise
    vrt.scene_path = str(path)
    vrt.grid = grid
    return vrt
