"""Re-writing rasters for open data: privacy mask, clean metadata, COG; thumbnails.

Only metadata set here reaches the published files (band names from an allow-list pattern,
a fixed producer tag); source tags are never copied, so nothing personal hidden in a TIFF tag
travels along.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from matplotlib import colormaps
from PIL import Image
from pyproj import CRS
from rasterio.enums import Resampling

from pipeline.common.atomic import atomic_write_bytes
from pipeline.common.cog import cog_problems, write_cog
from pipeline.errors import InputError

SAFE_NAME = re.compile(r"^[A-Za-z0-9_. -]{1,40}$")
PRODUCER_TAG = {"PRODUCER": "Shimanto Town, Kochi (394122)", "LICENSE": "PDL-1.0"}


@dataclass(frozen=True)
class PublishedRaster:
    """A raster written for open data, with what STAC needs to describe it."""

    path: Path
    dtype: str
    nodata: float | int | None
    band_names: tuple[str, ...]
    shape: tuple[int, int]
    transform: Affine
    crs: CRS
    valid_percent: float


def safe_band_names(names: tuple[str | None, ...], default: str) -> tuple[str, ...]:
    """Band descriptions kept only when they look like band names; else ``default_<n>``."""
    return tuple(n if n and SAFE_NAME.match(n) else f"{default}_{i}" for i, n in enumerate(names, start=1))


def publish_raster(
    src_path: Path,
    dst_path: Path,
    mask_for: Callable[[tuple[int, int], Affine, CRS], np.ndarray],
    resampling: str = "AVERAGE",
    band_names: tuple[str, ...] | None = None,
) -> PublishedRaster:
    """Copy a raster as a masked COG.

    Args:
        src_path: Input GeoTIFF (COG or not).
        dst_path: Output COG.
        mask_for: ``(shape, transform, crs) -> bool array`` of publishable pixels.
        resampling: Overview resampling (NEAREST for class maps).
        band_names: Band names to write (default: the source descriptions, sanitised).

    Raises:
        InputError: the raster has no CRS or the COG fails validation.
    """
    with rasterio.open(src_path) as src:
        if src.crs is None:
            raise InputError(f"{str(src_path)!r} has no CRS; write it with a CRS (EPSG:6690) before publishing")
        data = src.read()
        crs = CRS.from_user_input(src.crs)
        transform, nodata = src.transform, src.nodata
        names = band_names or safe_band_names(tuple(src.descriptions), src_path.stem)
    floating = np.issubdtype(data.dtype, np.floating)
    if nodata is None:
        nodata = float("nan") if floating else int(np.iinfo(data.dtype).max)
    allowed = mask_for(data.shape[1:], transform, crs)
    data = data.copy()
    data[:, ~allowed] = nodata
    valid = allowed.copy()
    if floating:
        valid &= np.isfinite(data).all(axis=0)
    elif not (isinstance(nodata, float) and math.isnan(nodata)):
        valid &= (data != nodata).all(axis=0)
    write_cog(dst_path, data, transform=transform, crs=crs, nodata=nodata, band_descriptions=names,
              tags=PRODUCER_TAG, resampling=resampling)
    problems = cog_problems(dst_path)
    if problems:
        raise InputError(f"published raster {str(dst_path)!r} is not a valid COG: {'; '.join(problems)}")
    return PublishedRaster(
        dst_path, data.dtype.name, nodata, names, data.shape[1:], transform, crs,
        round(100.0 * float(valid.mean()), 2) if valid.size else 0.0,
    )


def thumbnail_png(raster: Path, longest_px: int, vmin: float = 0.0, vmax: float = 1.0) -> bytes:
    """A viridis PNG (transparent nodata) of band 1, longest side ``longest_px``, with no text chunks."""
    with rasterio.open(raster) as src:
        scale = max(src.width, src.height) / float(longest_px)
        rows, cols = max(1, round(src.height / max(scale, 1))), max(1, round(src.width / max(scale, 1)))
        band = src.read(1, out_shape=(rows, cols), resampling=Resampling.nearest, masked=True).astype("float64")
    values = np.ma.filled(band, np.nan)
    norm = np.clip((values - vmin) / (vmax - vmin), 0, 1)
    rgba = (colormaps["viridis"](np.nan_to_num(norm)) * 255).astype("uint8")
    rgba[..., 3] = np.where(np.isfinite(values), 255, 0)
    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def write_thumbnail(raster: Path, dst: Path, longest_px: int) -> Path:
    """Write :func:`thumbnail_png` of an index map (scaled -0.2..1.0) atomically."""
    return atomic_write_bytes(dst, thumbnail_png(raster, longest_px, vmin=-0.2, vmax=1.0))
