"""Smooth random fields (band-limited Gaussian noise) for vigour, texture and mottling."""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], scale_px: float, order: int = 3) -> np.ndarray:
    """Zero-mean, unit-variance random field with correlation length about ``scale_px`` pixels.

    White noise on a coarse grid with spacing ``scale_px / 2`` is Gaussian-filtered
    (sigma 1 coarse cell) and spline-upsampled to ``shape``; cost is that of one
    ``ndimage.zoom``, independent of the scale.

    Args:
        rng: Random generator (consumed deterministically).
        shape: ``(rows, cols)`` of the output.
        scale_px: Correlation length in pixels (>= 1).
        order: Spline order of the upsampling (1 is faster, 3 smoother).

    Returns:
        ``shape`` float32 array.
    """
    step = max(scale_px / 2.0, 1.0)
    coarse_shape = (int(np.ceil(shape[0] / step)) + 2, int(np.ceil(shape[1] / step)) + 2)
    coarse = ndimage.gaussian_filter(rng.standard_normal(coarse_shape), sigma=1.0, mode="wrap")
    coarse = (coarse - coarse.mean()) / max(float(coarse.std()), 1e-12)
    if step <= 1.0:
        return coarse[: shape[0], : shape[1]].astype(np.float32)
    fine = ndimage.zoom(coarse.astype(np.float32), (shape[0] / coarse_shape[0], shape[1] / coarse_shape[1]),
                        order=order, mode="nearest", grid_mode=False)
    return np.ascontiguousarray(fine[: shape[0], : shape[1]], dtype=np.float32)
