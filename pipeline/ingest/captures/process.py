"""Per-capture processing: raw bands -> radiance -> panel/DLS reflectance -> aligned, georeferenced stack.

Batch philosophy: every capture is processed independently. A capture with a
bad file (unreadable metadata, the legacy bad exposure tag, a missing band...)
is reported and skipped; the others are written. :func:`run_captures` returns a
:class:`CapturesReport`; the CLI writes the summary and exits non-zero, naming
the failed captures, when any failed.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import tifffile

from pipeline.errors import InputError
from pipeline.ingest.captures.align import align_bands
from pipeline.ingest.captures.discover import REDEDGE_BANDS, CaptureGroup, normalise_band_name
from pipeline.ingest.captures.dls import horizontal_irradiance_dls1, solar_position, sun_sensor_angle
from pipeline.ingest.captures.metadata import BandMeta
from pipeline.ingest.captures.panel import PanelRegion, capture_has_panel, find_panel
from pipeline.ingest.captures.radiometry import panel_reflectance_factor, raw_to_radiance, undistort

#: Output band order (RedEdge-MX file order) and the band all others are aligned to.
BAND_ORDER: tuple[str, ...] = tuple(REDEDGE_BANDS.values())
REFERENCE_BAND = "green"


@dataclass(frozen=True)
class RadianceCapture:
    """One capture converted to radiance, before calibration.

    Attributes:
        group: The source files.
        metas: Band metadata in :data:`BAND_ORDER`.
        radiance: Per-band radiance images (distorted sensor geometry), W/m²/sr/nm.
        panels: Panel region found in each band (``None`` where none).
    """

    group: CaptureGroup
    metas: tuple[BandMeta, ...]
    radiance: tuple[np.ndarray, ...]
    panels: tuple[PanelRegion | None, ...]

    @property
    def has_panel(self) -> bool:
        return capture_has_panel(self.panels)

    @property
    def time(self) -> dt.datetime | None:
        return self.metas[0].time_utc


@dataclass(frozen=True)
class Calibration:
    """Per-band multipliers from radiance to reflectance and where they came from."""

    factors: tuple[float, ...]
    source: str
    notes: tuple[str, ...] = field(default=())


def load_radiance(group: CaptureGroup) -> RadianceCapture:
    """Read the band images of a complete capture and convert them to radiance; look for a panel.

    Raises:
        InputError: the capture is incomplete or a pixel array is unreadable.
    """
    if not group.ok:
        raise InputError(f"capture {group.label}: " + "; ".join(group.problems))
    by_name = {normalise_band_name(m.band_name): m for m in group.bands}
    metas = tuple(by_name[name] for name in BAND_ORDER)
    radiance: list[np.ndarray] = []
    for meta in metas:
        try:
            raw = tifffile.imread(meta.path)
        except Exception as exc:  # corrupt strips raise various tifffile/zlib errors
            raise InputError(f"{str(meta.path)!r}: cannot read the pixels ({exc}); the file is corrupt") from exc
        radiance.append(raw_to_radiance(np.asarray(raw), meta))
    panels = tuple(find_panel(r) for r in radiance)
    return RadianceCapture(group, metas, tuple(radiance), panels)


def dls_irradiance(meta: BandMeta) -> tuple[float, str]:
    """Irradiance on the ground for one band (W/m²/nm) from the DLS, and how it was obtained.

    DLS2 ``HorizontalIrradiance`` when present; else the DLS1 reading corrected for
    sensor tilt and sun angle (see :mod:`pipeline.ingest.captures.dls`) when pose,
    GPS and time are known; else the raw spectral irradiance.

    Raises:
        InputError: the image carries no DLS irradiance.
    """
    if meta.horizontal_irradiance is not None:
        return meta.horizontal_irradiance, "dls2 horizontal irradiance"
    if meta.dls_irradiance is None or not meta.dls_irradiance > 0:
        raise InputError(
            f"{str(meta.path)!r} has no DLS spectral irradiance (no downwelling light sensor?); "
            "calibrate with a panel capture instead of --dls"
        )
    if meta.dls_pose_rad is not None and meta.has_gps and meta.time_utc is not None:
        assert meta.lat is not None and meta.lon is not None
        elevation, azimuth = solar_position(meta.lat, meta.lon, meta.time_utc)
        if elevation > math.radians(5):
            angle = sun_sensor_angle(elevation, azimuth, meta.dls_pose_rad)
            return horizontal_irradiance_dls1(meta.dls_irradiance, elevation, angle), "dls1 tilt-corrected"
    return meta.dls_irradiance, "dls raw spectral irradiance"


def panel_calibration(panel: RadianceCapture, reflectance: Sequence[float]) -> Calibration:
    """Reflectance factors F_b = ρ_b / mean panel radiance_b from a panel capture.

    Raises:
        InputError: the panel is not found in some band, or ``reflectance`` has the wrong length.
    """
    if len(reflectance) != len(BAND_ORDER):
        raise InputError(f"panel reflectance has {len(reflectance)} values; expected {len(BAND_ORDER)}, bands 1-5")
    missing = [BAND_ORDER[i] for i, p in enumerate(panel.panels) if p is None]
    if missing:
        raise InputError(
            f"capture {panel.group.label}: no reflectance panel found in band(s) {', '.join(missing)}; "
            "pick another panel capture with --panel, or use --dls"
        )
    factors = tuple(
        panel_reflectance_factor(region.mean(rad), rho)
        for region, rad, rho in zip(panel.panels, panel.radiance, reflectance, strict=True)
        if region is not None
    )
    return Calibration(factors, f"panel {panel.group.label}")


def dls_calibration(capture: RadianceCapture) -> Calibration:
    """Reflectance factors π / E_b from the capture's own DLS irradiance."""
    values = [dls_irradiance(m) for m in capture.metas]
    kinds = sorted({kind for _e, kind in values})
    return Calibration(tuple(math.pi / e for e, _k in values), "dls", tuple(kinds))


def reflectance_stack(
    capture: RadianceCapture, calibration: Calibration
) -> tuple[np.ndarray, tuple[int, int, int, int], list[tuple[float, float]]]:
    """Undistort, calibrate and align the bands.

    Returns:
        ``(stack, window, shifts)``: float32 ``(5, rows, cols)`` reflectance in :data:`BAND_ORDER`,
        the crop window (row0, col0, row1, col1) in the reference band's frame, the per-band shifts.
    """
    bands = [
        undistort(rad, meta) * factor
        for rad, meta, factor in zip(capture.radiance, capture.metas, calibration.factors, strict=True)
    ]
    stack, shifts, window = align_bands(bands, BAND_ORDER.index(REFERENCE_BAND))
    return stack, window, shifts


def nearest_panel(capture: RadianceCapture, panels: Sequence[RadianceCapture]) -> RadianceCapture:
    """The panel capture closest in time to ``capture`` (the first one when times are unknown)."""
    if capture.time is None or any(p.time is None for p in panels):
        return panels[0]
    assert capture.time is not None
    when = capture.time
    return min(panels, key=lambda p: abs((p.time or when) - when))


def choose_panels(
    captures: Sequence[RadianceCapture], forced: str | None
) -> list[RadianceCapture]:
    """Panel captures: the forced one (label, file prefix or CaptureId) or every auto-detected one.

    Raises:
        InputError: the forced capture is not among the readable captures.
    """
    if forced is None:
        return [c for c in captures if c.has_panel]
    hits = [c for c in captures if forced in (c.group.label, c.group.capture_id)]
    if not hits:
        known = ", ".join(f"{c.group.label} ({c.group.capture_id})" for c in captures)
        raise InputError(f"--panel {forced!r} matches no readable capture; expected one of: {known}")
    return hits

