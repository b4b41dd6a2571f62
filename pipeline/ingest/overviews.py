"""Overview pyramids computed in NumPy during the streaming pass, and the VRT that
hands them to GDAL's COG driver (so that the driver copies them instead of
recomputing them from the full-resolution raster).

Each level halves the previous one with a NaN-aware 2 x 2 mean (GDAL's AVERAGE
resampling with NaN nodata): ``mean = sum(valid) / count(valid)``, NaN where a
2 x 2 cell has no valid pixel; odd edges average the pixels that exist.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np
from rasterio.crs import CRS
from rasterio.transform import Affine


def overview_factors(width: int, height: int, blocksize: int) -> list[int]:
    """Decimation factors 2, 4, 8... until a level fits into one ``blocksize`` tile (as the COG driver does)."""
    factors: list[int] = []
    factor = 1
    while max(math.ceil(width / factor), math.ceil(height / factor)) > blocksize:
        factor *= 2
        factors.append(factor)
    return factors


def halve(values: np.ndarray) -> np.ndarray:
    """NaN-aware 2 x 2 mean of a 2-D float32 array (output ``ceil(rows/2) x ceil(cols/2)``)."""
    rows, cols = values.shape
    if rows % 2 or cols % 2:
        values = np.pad(values, ((0, rows % 2), (0, cols % 2)), constant_values=np.nan)
    valid = ~np.isnan(values)
    filled = np.where(valid, values, np.float32(0))
    total = filled[0::2, 0::2] + filled[0::2, 1::2]
    total += filled[1::2, 0::2]
    total += filled[1::2, 1::2]
    flags = valid.view(np.uint8)
    count = flags[0::2, 0::2] + flags[0::2, 1::2]
    count += flags[1::2, 0::2]
    count += flags[1::2, 1::2]
    out = np.full(total.shape, np.nan, dtype=np.float32)
    np.divide(total, count, out=out, where=count > 0)
    return out


def pyramid(values: np.ndarray, levels: int) -> list[np.ndarray]:
    """The first ``levels`` overview levels of ``values`` (each from the previous one)."""
    out: list[np.ndarray] = []
    current = values
    for _ in range(levels):
        current = halve(current)
        out.append(current)
    return out


def vrt_with_overviews(
    full: Path,
    overviews: Sequence[Path],
    *,
    width: int,
    height: int,
    crs: CRS,
    transform: Affine,
    description: str,
    tags: Mapping[str, str],
    blocksize: int = 512,
) -> str:
    """VRT XML exposing single-band float32 ``full`` with ``overviews`` as its overview levels.

    Paths are written relative to the VRT, which must sit in ``full``'s folder.
    """
    gt = ", ".join(repr(float(v)) for v in transform.to_gdal())
    meta = "".join(f"<MDI key={quoteattr(k)}>{escape(v)}</MDI>" for k, v in tags.items())
    ovr = "".join(
        f'<Overview><SourceFilename relativeToVRT="1">{escape(p.name)}</SourceFilename>'
        "<SourceBand>1</SourceBand></Overview>"
        for p in overviews
    )
    return (
        f'<VRTDataset rasterXSize="{width}" rasterYSize="{height}">'
        f"<SRS>{escape(crs.to_wkt())}</SRS><GeoTransform>{gt}</GeoTransform>"
        f"<Metadata>{meta}</Metadata>"
        f'<VRTRasterBand dataType="Float32" band="1" blockXSize="{blocksize}" blockYSize="{blocksize}">'
        f"<Description>{escape(description)}</Description>"
        "<NoDataValue>nan</NoDataValue>"
        f'<SimpleSource><SourceFilename relativeToVRT="1">{escape(full.name)}</SourceFilename>'
        f"<SourceBand>1</SourceBand>"
        f'<SrcRect xOff="0" yOff="0" xSize="{width}" ySize="{height}"/>'
        f'<DstRect xOff="0" yOff="0" xSize="{width}" ySize="{height}"/></SimpleSource>'
        f"{ovr}</VRTRasterBand></VRTDataset>"
    )
