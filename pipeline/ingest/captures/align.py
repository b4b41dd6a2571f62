"""Band-to-band registration of a MicaSense capture (five lenses, five sensors).

Method: each band is first undistorted with its own lens model, then its
translation to the reference band is estimated by phase correlation
(``skimage.registration.phase_cross_correlation``, 1/10 px precision) between
the Sobel gradient magnitudes of the two bands. Gradients, not intensities,
are matched because reflectance contrast flips between visible and NIR bands
(dark leaves in red, bright in NIR) while edges stay put. Translation only:
with the lenses a few centimetres apart and boresights near-parallel, the
residual rotation and scale between bands are below a pixel at flight height
(near-range panel captures keep some parallax off the dominant plane). The
aligned stack is cropped to the rectangle valid in every band.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage
from skimage.registration import phase_cross_correlation

from pipeline.errors import InputError

#: Largest plausible band-to-band offset as a fraction of the image size.
MAX_SHIFT_FRACTION = 0.1


def gradient_magnitude(image: np.ndarray) -> np.ndarray:
    """Sobel gradient magnitude with NaNs treated as the image mean, normalised to mean 0, std 1."""
    filled = np.where(np.isfinite(image), image, np.nanmean(image))
    grad = np.hypot(ndimage.sobel(filled, axis=0), ndimage.sobel(filled, axis=1))
    return (grad - grad.mean()) / (grad.std() + 1e-12)


def estimate_shift(reference: np.ndarray, moving: np.ndarray) -> tuple[float, float]:
    """(row, col) shift that, applied to ``moving`` with :func:`scipy.ndimage.shift`, aligns it to ``reference``."""
    shift, _error, _phase = phase_cross_correlation(
        gradient_magnitude(reference), gradient_magnitude(moving), upsample_factor=10, normalization=None
    )
    return float(shift[0]), float(shift[1])


def valid_rectangle(valid: np.ndarray) -> tuple[int, int, int, int]:
    """A large axis-aligned rectangle (row0, col0, row1, col1; end exclusive) where ``valid`` is all True.

    Greedy: repeatedly drop the border row or column holding the largest share of invalid pixels
    (for an interior hole, the side nearest to it).
    """
    r0, c0, r1, c1 = 0, 0, valid.shape[0], valid.shape[1]
    while r1 > r0 and c1 > c0 and not valid[r0:r1, c0:c1].all():
        sides = {
            "top": 1.0 - valid[r0, c0:c1].mean(),
            "bottom": 1.0 - valid[r1 - 1, c0:c1].mean(),
            "left": 1.0 - valid[r0:r1, c0].mean(),
            "right": 1.0 - valid[r0:r1, c1 - 1].mean(),
        }
        if max(sides.values()) == 0.0:  # an interior hole: cut from the side nearest to it
            rows, cols = np.nonzero(~valid[r0:r1, c0:c1])
            sides = {"top": -rows.min(), "bottom": rows.max() - (r1 - r0), "left": -cols.min(),
                     "right": cols.max() - (c1 - c0)}
        worst = max(sides, key=lambda k: sides[k])
        if worst == "top":
            r0 += 1
        elif worst == "bottom":
            r1 -= 1
        elif worst == "left":
            c0 += 1
        else:
            c1 -= 1
    return r0, c0, r1, c1


def align_bands(
    bands: Sequence[np.ndarray], reference: int
) -> tuple[np.ndarray, list[tuple[float, float]], tuple[int, int, int, int]]:
    """Align every band to ``bands[reference]`` and crop to the common valid area.

    Returns:
        ``(stack, shifts, window)``: the aligned ``(bands, rows, cols)`` float32 stack,
        the (row, col) shift applied to each band, and the crop window
        (row0, col0, row1, col1) in the reference band's pixel grid.

    Raises:
        InputError: bands differ in size, or a shift is implausibly large (> 10 % of the frame).
    """
    shape = bands[reference].shape
    if any(b.shape != shape for b in bands):
        raise InputError(f"bands differ in size ({[b.shape for b in bands]}); a capture's images must match")
    shifts: list[tuple[float, float]] = []
    moved: list[np.ndarray] = []
    for i, band in enumerate(bands):
        shift = (0.0, 0.0) if i == reference else estimate_shift(bands[reference], band)
        if abs(shift[0]) > MAX_SHIFT_FRACTION * shape[0] or abs(shift[1]) > MAX_SHIFT_FRACTION * shape[1]:
            raise InputError(
                f"band {i + 1} is offset by {shift[0]:.0f},{shift[1]:.0f} px from the reference band; expected a few "
                "px — the images do not show the same scene (mixed captures?) or are blank"
            )
        shifts.append(shift)
        moved.append(band if i == reference else ndimage.shift(band, shift, order=1, mode="constant", cval=np.nan))
    valid = np.all([np.isfinite(m) for m in moved], axis=0)
    r0, c0, r1, c1 = valid_rectangle(valid)
    if r1 - r0 < shape[0] // 2 or c1 - c0 < shape[1] // 2:
        raise InputError(f"aligned bands overlap only {c1 - c0}x{r1 - r0} px; the capture's bands do not overlap")
    stack = np.stack([m[r0:r1, c0:c1] for m in moved]).astype(np.float32)
    return stack, shifts, (r0, c0, r1, c1)
