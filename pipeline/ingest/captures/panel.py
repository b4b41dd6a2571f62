"""Calibration-panel registry and automatic panel detection.

Detection method (no QR decoder needed): a MicaSense reflectance panel is a
large, flat, very uniform grey square printed next to a QR code. In each band's
radiance image, block-averaged 4x (a 1280x960 frame becomes 320x240):

1. local mean μ and standard deviation σ over a 7x7 window (28 px);
2. candidate pixels: coefficient of variation σ/μ < 0.03 and μ above the
   image's 75th percentile (the panel is bright-ish and flat);
3. connected components; keep the largest that is square (bbox aspect within
   0.75-1.33), compact (fills >= 85 % of its bounding box) and big enough
   (side >= 5 % of the image width);
4. confirm the QR code: one of the four neighbouring squares of the same size
   (left, right, above, below) has QR-like texture at full resolution — binarised
   at half the panel's brightness it is 25-85 % bright with many black/white
   transitions (>= 0.04 per pixel along rows and along columns).

The panel region is the component's bounding box shrunk by 10 % per side (away
from the edges). A capture contains a panel when it is found in at least 3 of
its bands. Panel reflectance per band comes from :data:`PANEL_REFLECTANCE`
(MicaSense publishes it per serial) or ``--panel-reflectance``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from scipy import ndimage

from pipeline.errors import InputError, unknown_name

#: Panel serial -> reflectance for bands 1-5 (blue, green, red, NIR, red edge), MicaSense's published figures.
PANEL_REFLECTANCE: Mapping[str, tuple[float, ...]] = MappingProxyType(
    {
        "RP02-1603036-SC": (0.67, 0.69, 0.68, 0.61, 0.67),
    }
)
DEFAULT_PANEL_SERIAL = "RP02-1603036-SC"
BLOCK = 4
WINDOW = 7
MAX_CV = 0.03
MIN_FILL = 0.85
MIN_SIDE_FRACTION = 0.05
MIN_BANDS_WITH_PANEL = 3


@dataclass(frozen=True)
class PanelRegion:
    """An axis-aligned panel region in full-resolution pixel coordinates (end exclusive)."""

    row0: int
    col0: int
    row1: int
    col1: int

    @property
    def centre(self) -> tuple[float, float]:
        """(row, col) of the centre."""
        return (self.row0 + self.row1) / 2.0, (self.col0 + self.col1) / 2.0

    def mean(self, image: np.ndarray) -> float:
        """Mean of ``image`` over the region (NaNs ignored)."""
        return float(np.nanmean(image[self.row0 : self.row1, self.col0 : self.col1]))


def panel_reflectance(serial: str | None = None, override: Sequence[float] | None = None) -> tuple[float, ...]:
    """Per-band panel reflectance: ``override`` when given, else the registry entry of ``serial``.

    Raises:
        UnknownNameError: the serial is not in :data:`PANEL_REFLECTANCE`.
        InputError: an override value is outside (0, 1].
    """
    if override is not None:
        bad = [v for v in override if not 0.0 < v <= 1.0]
        if bad or not override:
            raise InputError(
                f"--panel-reflectance values {list(override)} must be in (0, 1], one per band "
                "(e.g. 0.67,0.69,0.68,0.61,0.67)"
            )
        return tuple(float(v) for v in override)
    key = serial or DEFAULT_PANEL_SERIAL
    if key not in PANEL_REFLECTANCE:
        raise unknown_name("panel serial", key, list(PANEL_REFLECTANCE))
    return PANEL_REFLECTANCE[key]


def _block_mean(image: np.ndarray, block: int) -> np.ndarray:
    rows, cols = (s // block * block for s in image.shape)
    return np.nan_to_num(image[:rows, :cols]).reshape(rows // block, block, cols // block, block).mean(axis=(1, 3))


def _qr_like(window: np.ndarray, panel_level: float) -> bool:
    if window.size == 0 or min(window.shape) < 8:
        return False
    binary = np.nan_to_num(window) > 0.5 * panel_level
    bright = float(binary.mean())
    row_changes = float(np.mean(binary[:, 1:] != binary[:, :-1]))
    col_changes = float(np.mean(binary[1:, :] != binary[:-1, :]))
    return 0.25 <= bright <= 0.85 and row_changes >= 0.04 and col_changes >= 0.04


def _has_qr_neighbour(radiance: np.ndarray, row0: int, col0: int, side: int, level: float) -> bool:
    rows, cols = radiance.shape
    inner = int(side * 0.6)
    for dr, dc in ((0, -1), (0, 1), (-1, 0), (1, 0)):
        for dist in (1.0, 1.2, 1.4):
            r = int(row0 + side / 2 + dr * dist * side - inner / 2)
            c = int(col0 + side / 2 + dc * dist * side - inner / 2)
            r0, c0, r1, c1 = max(r, 0), max(c, 0), min(r + inner, rows), min(c + inner, cols)
            if r1 - r0 >= inner // 2 and c1 - c0 >= inner // 2 and _qr_like(radiance[r0:r1, c0:c1], level):
                return True
    return False


def find_panel(radiance: np.ndarray) -> PanelRegion | None:
    """Find a reflectance panel in one band's radiance image (method in the module doc), or ``None``."""
    small = _block_mean(radiance, BLOCK)
    mu = ndimage.uniform_filter(small, WINDOW)
    sd = np.sqrt(np.maximum(ndimage.uniform_filter(small * small, WINDOW) - mu * mu, 0.0))
    candidate = (sd < MAX_CV * np.maximum(mu, 1e-12)) & (mu > np.percentile(small, 75))
    labels, _count = ndimage.label(candidate)
    min_side = MIN_SIDE_FRACTION * small.shape[1]
    best: tuple[int, PanelRegion] | None = None
    for index, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is None:
            continue
        height, width = sl[0].stop - sl[0].start, sl[1].stop - sl[1].start
        area = int((labels[sl] == index).sum())
        if min(height, width) < min_side or not 0.75 <= height / width <= 1.33 or area < MIN_FILL * height * width:
            continue
        # The uniform window erodes the component by WINDOW//2 on each side: grow back, then shrink 10 %.
        grow = WINDOW // 2
        r0, r1 = (sl[0].start - grow) * BLOCK, (sl[0].stop + grow) * BLOCK
        c0, c1 = (sl[1].start - grow) * BLOCK, (sl[1].stop + grow) * BLOCK
        side = max(r1 - r0, c1 - c0)
        level = float(small[sl][labels[sl] == index].mean())
        if not _has_qr_neighbour(radiance, r0, c0, side, level):
            continue
        mr, mc = (r1 - r0) // 10, (c1 - c0) // 10
        region = PanelRegion(max(r0 + mr, 0), max(c0 + mc, 0), r1 - mr, c1 - mc)
        if best is None or area > best[0]:
            best = (area, region)
    return best[1] if best else None


def capture_has_panel(regions: Sequence[PanelRegion | None]) -> bool:
    """Whether enough bands found a panel for the capture to count as a panel capture."""
    return sum(r is not None for r in regions) >= min(MIN_BANDS_WITH_PANEL, len(regions))
