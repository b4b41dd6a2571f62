"""Label-preserving augmentations of a training chip.

* Dihedral transforms (``torchvision.transforms.v2``): rotation by ``k·90°`` and an optional
  flip, applied jointly to the bands and field medians (``tv_tensors.Image``) and the labels and
  crops (``tv_tensors.Mask``) by one v2 pipeline, so image and masks can never disagree
  (8 symmetries of the square). ``k`` is drawn from the run's numpy Generator, so training stays
  seeded end to end.
* Illumination: one gain ``g`` per chip multiplies every band (a sun-angle /
  exposure change); indices are computed *after* it, so ratio indices stay
  consistent while band magnitudes change.
* Band misregistration: one band moved by ``(dy, dx) ∈ {-1, 0, 1}²`` pixels
  (edge pixels replicated), as left by imperfect band alignment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torchvision import tv_tensors
from torchvision.transforms import v2


@dataclass(frozen=True)
class ChipArrays:
    """A chip: ``bands (B, S, S)`` float32, ``labels (S, S)`` uint8, ``crops (S, S)`` uint8,
    ``reference (R, S, S)`` field medians of the relative indices (``None`` without)."""

    bands: np.ndarray
    labels: np.ndarray
    crops: np.ndarray
    reference: np.ndarray | None = None


class Rot90(v2.Transform):
    """Rotate by 90° counter-clockwise on the last two axes (exact, no resampling; as ``np.rot90``).

    A v2 transform, so one call rotates every ``tv_tensors.Image`` and ``tv_tensors.Mask`` of a sample.
    """

    _transformed_types = (tv_tensors.Image, tv_tensors.Mask)

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return tv_tensors.wrap(torch.rot90(inpt.as_subclass(torch.Tensor), 1, dims=(-2, -1)), like=inpt)


def dihedral_transform(k: int) -> v2.Compose:
    """Symmetry ``k`` (0..7) as a v2 pipeline: ``rot90`` ``k % 4`` times, then a left-right flip if ``k >= 4``."""
    steps: list[v2.Transform] = [Rot90() for _ in range(k % 4)]
    if k >= 4:
        steps.append(v2.RandomHorizontalFlip(p=1.0))
    return v2.Compose(steps or [v2.Identity()])


#: The 8 symmetries of the square, index ``k``.
DIHEDRAL: tuple[v2.Compose, ...] = tuple(dihedral_transform(k) for k in range(8))


def dihedral(arr: np.ndarray, k: int) -> np.ndarray:
    """Apply symmetry ``k`` to the last two axes of one array (through :data:`DIHEDRAL`)."""
    wrap = tv_tensors.Mask if arr.ndim == 2 else tv_tensors.Image
    return np.ascontiguousarray(DIHEDRAL[k](wrap(torch.from_numpy(np.ascontiguousarray(arr)))).numpy())


def dihedral_chip(chip: ChipArrays, k: int) -> ChipArrays:
    """Symmetry ``k`` of bands, field medians (images), labels and crops (masks) in one v2 call."""
    sample: dict[str, Any] = {"bands": tv_tensors.Image(torch.from_numpy(np.ascontiguousarray(chip.bands))),
                              "labels": tv_tensors.Mask(torch.from_numpy(np.ascontiguousarray(chip.labels))),
                              "crops": tv_tensors.Mask(torch.from_numpy(np.ascontiguousarray(chip.crops)))}
    if chip.reference is not None:
        sample["reference"] = tv_tensors.Image(torch.from_numpy(np.ascontiguousarray(chip.reference)))
    out = DIHEDRAL[k](sample)
    ref = out["reference"].numpy() if "reference" in out else None
    return ChipArrays(np.ascontiguousarray(out["bands"].numpy()), np.ascontiguousarray(out["labels"].numpy()),
                      np.ascontiguousarray(out["crops"].numpy()),
                      np.ascontiguousarray(ref) if ref is not None else None)


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
    chip = dihedral_chip(chip, k)
    bands = chip.bands
    gain = float(rng.uniform(1.0 - brightness_range, 1.0 + brightness_range)) if brightness_range > 0 else 1.0
    bands = bands * np.float32(gain)
    if misregistration_prob > 0 and rng.random() < misregistration_prob:
        j = int(rng.integers(0, bands.shape[0]))
        dy, dx = (0, 0)
        while (dy, dx) == (0, 0):
            dy, dx = (int(v) for v in rng.integers(-1, 2, size=2))
        bands[j] = shift_band(bands[j], dy, dx)
    return ChipArrays(bands.astype(np.float32, copy=False), chip.labels, chip.crops, chip.reference)
