"""Cloud-Optimized GeoTIFF writing and validation (the only rasterio writer most stages need)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil
from rasterio.crs import CRS
from rasterio.io import MemoryFile
from rasterio.transform import Affine

from pipeline.common.atomic import atomic_path


def write_cog(
    path: Path | str,
    bands: np.ndarray,
    *,
    transform: Affine,
    crs: CRS | str,
    nodata: float | int | None = None,
    band_descriptions: Sequence[str] | None = None,
    tags: Mapping[str, Any] | None = None,
    band_tags: Sequence[Mapping[str, Any]] | None = None,
    compress: str = "DEFLATE",
    blocksize: int = 512,
    resampling: str = "AVERAGE",
) -> Path:
    """Write an in-memory array as a Cloud-Optimized GeoTIFF, atomically.

    Args:
        path: Destination ``.tif``.
        bands: ``(bands, rows, cols)`` or ``(rows, cols)`` array.
        transform: Affine pixel-to-CRS transform.
        crs: Coordinate reference system.
        nodata: Nodata value (``float('nan')`` for float rasters).
        band_descriptions: One name per band (stored as GDAL band descriptions).
        tags: Dataset-level metadata tags.
        band_tags: Per-band metadata tags.
        compress: GDAL compression (DEFLATE, LZW, ZSTD...).
        blocksize: Internal tile size in pixels.
        resampling: Overview resampling (AVERAGE for continuous, NEAREST for classes).

    Returns:
        The written path.
    """
    arr = bands[np.newaxis] if bands.ndim == 2 else bands
    count, height, width = arr.shape
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "count": count,
        "height": height,
        "width": width,
        "dtype": arr.dtype.name,
        "crs": crs,
        "transform": transform,
        "nodata": nodata,
    }
    with MemoryFile() as mem:
        with mem.open(**profile) as src:
            src.write(arr)
            if band_descriptions is not None:
                for i, name in enumerate(band_descriptions, start=1):
                    src.set_band_description(i, name)
            if tags:
                src.update_tags(**{k: str(v) for k, v in tags.items()})
            if band_tags:
                for i, bt in enumerate(band_tags, start=1):
                    src.update_tags(i, **{k: str(v) for k, v in bt.items()})
        with mem.open() as src, atomic_path(path) as tmp:
            predictor = 3 if np.issubdtype(arr.dtype, np.floating) else 2
            rasterio.shutil.copy(
                src,
                tmp,
                driver="COG",
                COMPRESS=compress,
                BLOCKSIZE=blocksize,
                PREDICTOR=predictor,
                OVERVIEW_RESAMPLING=resampling,
                BIGTIFF="IF_SAFER",
                NUM_THREADS="ALL_CPUS",
            )
    return Path(path)


def cog_problems(path: Path | str) -> list[str]:
    """Return every reason ``path`` is not a valid COG (empty list when valid).

    Uses ``rio_cogeo.cogeo.cog_validate``, the same check as ``rio cogeo validate``.
    """
    from rio_cogeo.cogeo import cog_validate

    is_valid, errors, _warnings = cog_validate(str(path), quiet=True)
    if is_valid:
        return []
    return list(errors) or ["not a valid Cloud-Optimized GeoTIFF"]
