"""Cast shadows of trees and buildings from the sun position.

A pixel is shadowed when some obstacle along the ray towards the sun rises above
that ray: with horizontal distance ``t`` towards the sun (azimuth ``A``, zenith
``z``), shadow if ``h(p + t s) - h(p) > t cot(z)``, ``s = (sin A, cos A)`` (east, north).
The test marches in steps of one cell on a grid of about 0.5 m, then the lit
fraction is smoothed (Gaussian, 0.7 cell) and bilinearly upsampled: a soft
edge of about one coarse cell, like a penumbra plus the camera's blur.
Shadowed ground keeps only sky light: ``rho_obs = rho (lit + (1 - lit) f_diffuse)``
(see :func:`pipeline.simulate.spectra.diffuse_fraction`).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage


def sunlit_fraction(height: np.ndarray, gsd: float, zenith_deg: float, azimuth_deg: float,
                    cell_m: float = 0.5) -> np.ndarray:
    """Fraction of direct sunlight reaching each pixel (1 lit, 0 in shadow).

    Args:
        height: ``(rows, cols)`` obstacle height above ground, metres (north-up grid).
        gsd: Pixel size, metres.
        zenith_deg: Solar zenith, degrees.
        azimuth_deg: Solar azimuth, degrees clockwise from north.
        cell_m: Resolution of the shadow march, metres.

    Returns:
        ``(rows, cols)`` float32 in [0, 1].
    """
    step = max(1, round(cell_m / gsd))
    coarse: np.ndarray = height[::step, ::step]
    cell = gsd * step
    rise = cell / max(math.tan(math.radians(min(zenith_deg, 89.0))), 1e-6)  # ray rise per cell, metres
    top = float(coarse.max()) if coarse.size else 0.0
    shadow: np.ndarray = np.zeros(coarse.shape, dtype=bool)
    if top > 0:
        d_col, d_row = math.sin(math.radians(azimuth_deg)), -math.cos(math.radians(azimuth_deg))
        rows, cols = coarse.shape
        for k in range(1, min(math.ceil(top / rise), 400) + 1):
            dc, dr = round(k * d_col), round(k * d_row)
            if abs(dc) >= cols or abs(dr) >= rows:
                break
            ahead = np.zeros_like(coarse)  # height seen k cells towards the sun (0 beyond the edge)
            ahead[max(-dr, 0):rows - max(dr, 0), max(-dc, 0):cols - max(dc, 0)] = coarse[
                max(dr, 0):rows - max(-dr, 0), max(dc, 0):cols - max(-dc, 0)]
            shadow |= ahead - k * rise > coarse + 0.2
    lit: np.ndarray = (~shadow).astype(np.float32)
    if step == 1:
        return lit
    lit = ndimage.gaussian_filter(lit, 0.7, mode="nearest")  # round off the march's cell corners
    rows, cols = height.shape
    lit_rows, lit_cols = np.shape(lit)
    fine: np.ndarray = ndimage.zoom(lit, (rows / lit_rows, cols / lit_cols), order=1, mode="nearest", grid_mode=True)
    out = np.ones((rows, cols), dtype=np.float32)
    r, c = min(fine.shape[0], rows), min(fine.shape[1], cols)
    out[:r, :c] = np.clip(fine[:r, :c], 0.0, 1.0)
    return out
