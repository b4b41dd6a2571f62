"""Plausibility of the scaled bands: impossible reflectance is refused before any index is computed.

A sample of every band (up to :data:`SAMPLE_WINDOWS` windows of 256 x 256 px
spread over a grid, nodata and alpha-masked pixels dropped) is turned into
reflectance exactly as the computation will (:meth:`Orthomosaic.to_reflectance`).
Surface reflectance lies in [0, 1]; bright targets and BRDF effects stay below
1.5. The sample is refused when its 99th percentile exceeds
:data:`MAX_REFLECTANCE` or its 1st percentile is below :data:`MIN_REFLECTANCE`
(a small tolerance for calibration noise around 0), with one line naming the
likely intended ``--scale``:

* a ``--scale`` below 1 is a GDAL-style multiplier: its inverse is named
  (``--scale 0.0001`` -> ``--scale 10000``);
* otherwise the smallest common divisor (255, 10000, 32768, 65535) that brings
  the sample's 99th percentile to 1.0 or below.

Ratio indices (NDVI) hide a wrong scale, since it cancels; SAVI, OSAVI, EVI2 and
every index with an additive constant do not — hence the check.

8-bit input (uint8, or values read with ``--scale 255``) passes with a warning:
such values are display brightness from an RGB camera, not reflectance; ratio
indices (GLI, NGRDI, VARI) are meaningful on them, indices with constants are not.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import rasterio
from rasterio._err import CPLE_BaseError
from rasterio.errors import RasterioError
from rasterio.windows import Window

from pipeline.errors import InputError
from pipeline.ingest.orthomosaic import Orthomosaic

MAX_REFLECTANCE = 1.5
MIN_REFLECTANCE = -0.05
SAMPLE_WINDOWS = 16
SAMPLE_SIDE = 256
COMMON_DIVISORS: tuple[float, ...] = (255.0, 10000.0, 32768.0, 65535.0)


def _windows(width: int, height: int) -> list[Window]:
    per_side = int(np.sqrt(SAMPLE_WINDOWS))
    w, h = min(SAMPLE_SIDE, width), min(SAMPLE_SIDE, height)
    cols = sorted({int(c) for c in np.linspace(0, width - w, per_side)})
    rows = sorted({int(r) for r in np.linspace(0, height - h, per_side)})
    return [Window(c, r, w, h) for r in rows for c in cols]


def _read(path: Path, index: int, window: Window) -> np.ndarray:
    try:
        with rasterio.open(path) as ds:
            return np.asarray(ds.read(index, window=window))
    except (RasterioError, CPLE_BaseError) as exc:
        raise InputError(f"cannot read {str(path)!r} at rows {window.row_off}-{window.row_off + window.height} "
                         f"({exc.__cause__ or exc}); the file is truncated or corrupt, re-export it") from exc


def sample_bands(ortho: Orthomosaic) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Band name -> (raw samples, reflectance) of the valid sampled pixels (1-D float64)."""
    out: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {s.band: ([], []) for s in ortho.sources}
    for window in _windows(ortho.width, ortho.height):
        mask: np.ndarray | None = None
        if ortho.alpha is not None:
            mask = _read(ortho.alpha.path, ortho.alpha.index, window) != 0
        for src in ortho.sources:
            raw = _read(src.path, src.index, window)
            refl = ortho.to_reflectance(raw[np.newaxis], [src])[0]
            keep = np.isfinite(refl) & (mask if mask is not None else True)
            out[src.band][0].append(raw[keep].astype(np.float64))
            out[src.band][1].append(refl[keep].astype(np.float64))
    return {b: (np.concatenate(r) if r else np.empty(0), np.concatenate(v) if v else np.empty(0))
            for b, (r, v) in out.items()}


def likely_divisor(raw_p99: float, given: float | None) -> float | None:
    """The ``--scale`` the user most likely meant (see the module doc), or ``None``."""
    if given is not None and 0 < given < 1 and raw_p99 * given <= MAX_REFLECTANCE:
        return 1.0 / given
    for divisor in COMMON_DIVISORS:
        if raw_p99 / divisor <= 1.0:
            return divisor
    return None


def check_reflectance(ortho: Orthomosaic, scene: str, given_scale: float | None) -> Orthomosaic:
    """Refuse impossible reflectance (one line naming the likely ``--scale``); return ``ortho`` with warnings.

    Raises:
        InputError: a band's sampled reflectance is above 1.5 or negative.
    """
    how = {"gdal metadata": "the file's GDAL scale/offset", "--scale": f"--scale {ortho.scale}",
           "sensor default": f"sensor {ortho.sensor.name!r}'s default scale {ortho.scale}",
           "none": "no scale (float samples taken as reflectance)"}[ortho.scaling]
    for band, (raw, refl) in sample_bands(ortho).items():
        if refl.size == 0:
            continue
        high, low = float(np.percentile(refl, 99)), float(np.percentile(refl, 1))
        if high <= MAX_REFLECTANCE and low >= MIN_REFLECTANCE:
            continue
        bad = f"reaches {high:.4g} (99th percentile)" if high > MAX_REFLECTANCE else f"falls to {low:.4g}"
        divisor = likely_divisor(float(np.percentile(raw, 99)), given_scale) if high > MAX_REFLECTANCE else None
        fix = (f"the likely intended value is --scale {divisor:g} (reflectance = sample / {divisor:g})"
               if divisor is not None else "check the export: reflectance must lie in 0-1.5")
        raise InputError(f"{scene!r}: band {band} read with {how} gives reflectance that {bad}; "
                         f"reflectance must lie in 0-1.5; {fix}")
    warnings: list[str] = []
    if ortho.dtype == "uint8" or ortho.scale == 255.0:
        warnings.append(f"{scene!r} holds 8-bit (0-255) values: display brightness from an RGB camera, not "
                        "reflectance; ratio indices (GLI, NGRDI, VARI) are meaningful, indices with additive "
                        "constants (SAVI, OSAVI, EVI2) are not")
    return replace(ortho, warnings=(*ortho.warnings, *warnings)) if warnings else ortho
