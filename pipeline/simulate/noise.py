"""Smooth random fields (band-limited Gaussian noise) for vigour, texture and mottling."""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def _catmull_rom(t: np.ndarray) -> tuple[np.ndarray, ...]:
    """Cubic-convolution weights (a = -0.5) of the 4 neighbours for fractional offsets ``t``."""
    t2, t3 = t * t, t * t * t
    return (
        (-t3 + 2 * t2 - t) / 2,
        (3 * t3 - 5 * t2 + 2) / 2,
        (-3 * t3 + 4 * t2 + t) / 2,
        (t3 - t2) / 2,
    )


def _upsample_axis(a: np.ndarray, n_out: int, axis: int) -> np.ndarray:
    """Resample ``a`` along ``axis`` to ``n_out`` samples by Catmull-Rom interpolation (needs one margin cell)."""
    n_in = a.shape[axis]
    pos = 1.0 + np.arange(n_out, dtype=np.float64) * (n_in - 3) / n_out
    i0 = np.floor(pos).astype(np.intp)
    weights = _catmull_rom((pos - i0).astype(np.float32))
    shape = [1] * a.ndim
    shape[axis] = n_out
    out = np.zeros((*a.shape[:axis], n_out, *a.shape[axis + 1:]), dtype=np.float32)
    for k, w in enumerate(weights):
        out += np.take(a, i0 + (k - 1), axis=axis) * w.reshape(shape)
    return out


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], scale_px: float) -> np.ndarray:
    """Zero-mean random field of about unit variance with correlation length ``scale_px`` pixels.

    White noise on a coarse grid with spacing ``scale_px / 2`` is Gaussian-filtered
    (sigma 1 coarse cell), standardised and upsampled to ``shape`` with separable
    Catmull-Rom cubic interpolation (C1-smooth, no grid kinks); the cost is a few
    passes over the output, independent of the scale.

    Args:
        rng: Random generator (consumed deterministically).
        shape: ``(rows, cols)`` of the output.
        scale_px: Correlation length in pixels (>= 1).

    Returns:
        ``shape`` float32 array.
    """
    step = max(scale_px / 2.0, 1.0)
    coarse_shape = (int(np.ceil(shape[0] / step)) + 4, int(np.ceil(shape[1] / step)) + 4)
    coarse = ndimage.gaussian_filter(rng.standard_normal(coarse_shape), sigma=1.0, mode="wrap")
    coarse = ((coarse - coarse.mean()) / max(float(coarse.std()), 1e-12)).astype(np.float32)
    if step <= 1.0:
        return np.ascontiguousarray(coarse[: shape[0], : shape[1]])
    rows = _upsample_axis(coarse, shape[0], axis=0)
    return _upsample_axis(rows, shape[1], axis=1)
