"""Label-preserving augmentations of a training chip (pure numpy).

* Dihedral transforms: rotation by ``k·90°`` and an optional flip, applied to
  bands, labels and crops alike (8 symmetries of the square).
* Illumination: one gain ``g`` per chip multiplies every band (a sun-angle /
  exposure change); indices are computed *after* it, so ratio indices stay
  consistent while band magnitudes change.
* Band misregistration: one band moved by ``(dy, dx) ∈ {-1, 0, 1}²`` pixels
  (edge pixels replicated), as left by imperfect band alignment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ChipArrays:
    """A chip: ``bands (B, S, S)`` float32, ``labels (S, S)`` uint8, ``crops (S, S)`` uint8,
    ``reference (R, S, S)`` field medians of the relative indices (``None`` without)."""

    bands: np.ndarray
    labels: np.ndarray
    crops: np.ndarray
    reference: np.ndarray | None = None


def dihedral(arr: np.ndarray, k: int) -> np.ndarray:
    """Apply symmetry ``k`` (0..7) to the last two axes: ``rot90(k % 4)`` then flip left-right if ``k >= 4``."""
    out = np.rot90(arr, k % 4, axes=(-2, -1))
    if k >= 4:
        out = np.flip(out, axis=-1)
    return np.ascontiguousarray(out)


def shift_band(band: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Move a 2-D band by ``(dy, dx)`` pixels, replicating the edge."""
    h, w = band.shape
    padded = np.pad(band, ((abs(dy), abs(dy)), (abs(dx), abs(dx))), mode="edge")
    y0, x0 = abs(dy) - dy, abs(dx) - dx
    return padded[y0 : y0 + h, x0 : x0 + w]


def augment_chip(chip: ChipArrays, rng: np.random.Generator, brightness_range: float,
                 misregistration_prob: float) -> ChipArrays:
    """Random dihedral transform, illumination gain and band shift of one chip."""
    k = int(rng.integers(0, 8))
    bands = dihedral(chip.bands, k)
    gain = float(rng.uniform(1.0 - brightness_range, 1.0 + brightness_range)) if brightness_range > 0 else 1.0
    bands = bands * np.float32(gain)
    if misregistration_prob > 0 and rng.random() < misregistration_prob:
        j = int(rng.integers(0, bands.shape[0]))
        dy, dx = (0, 0)
        while (dy, dx) == (0, 0):
            dy, dx = (int(v) for v in rng.integers(-1, 2, size=2))
        bands[j] = shift_band(bands[j], dy, dx)
    reference = dihedral(chip.reference, k) if chip.reference is not None else None
    return ChipArrays(bands.astype(np.float32, copy=False), dihedral(chip.labels, k), dihedral(chip.crops, k),
                      reference)
