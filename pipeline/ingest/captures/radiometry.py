"""The MicaSense radiometric model (pure numpy): raw DN -> spectral radiance -> reflectance.

Follows MicaSense's public image-processing tutorial and library
(micasense/imageprocessing, ``micasense/utils.py::raw_image_to_radiance`` and
``micasense/image.py::Image.radiance``), with x = column and y = row in pixels:

* vignetting: r = hypot(x - cx, y - cy) about ``VignettingCenter``;
  V(x, y) = 1 / (1 + k0·r + k1·r² + … + k5·r⁶) with ``VignettingPolynomial`` k0..k5;
* row gradient (rolling-shutter read-out): R(y) = 1 / (1 + a2·y/tₑ − a3·y);
* L = V · R · (p − p_BL), floored at 0, with p_BL the dark level (EXIF BlackLevel
  mean, as MicaSense does; ``MicaSense:DarkRowValue`` mean when BlackLevel is absent);
* radiance = L / (g · tₑ) · a1 / 2^bits   [W/m²/sr/nm], g = ISO/100, tₑ exposure (s).

Reflectance (dimensionless) then follows from either

* a calibration panel of known reflectance ρ_p: factor F = ρ_p / mean(L_panel),
  reflectance = F · L (equivalently irradiance E = π·mean(L_panel)/ρ_p);
* or the downwelling light sensor: reflectance = π · L / E_DLS with E_DLS the
  XMP ``DLS:SpectralIrradiance`` (W/m²/nm) of the same band (or the DLS2's
  ``HorizontalIrradiance`` when the camera computed it).

Lens distortion (Brown-Conrady k1, k2, k3, p1, p2 in ``PerspectiveDistortion``)
is removed by :func:`undistort` onto the same pinhole camera matrix.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from pipeline.errors import InputError
from pipeline.ingest.captures.metadata import BandMeta


def vignette_map(
    centre: tuple[float, float], poly: tuple[float, ...], shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vignetting correction factor per pixel (multiply the image by it).

    Args:
        centre: (cx, cy) vignetting centre, px.
        poly: Coefficients k0.. of r¹.. (``VignettingPolynomial``; the constant term 1 is implicit).
        shape: (rows, cols).

    Returns:
        ``(V, x, y)``: V = 1 / (1 + Σ kᵢ·r^(i+1)), and the column/row coordinate grids.
    """
    rows, cols = shape
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float64)
    r = np.hypot(x - centre[0], y - centre[1])
    coeffs = [*reversed(poly), 1.0]  # np.polyval wants the highest power first
    return 1.0 / np.polyval(coeffs, r), x, y


def row_gradient(a2: float, a3: float, exposure_s: float, y: np.ndarray) -> np.ndarray:
    """Row-gradient (read-out) correction R(y) = 1 / (1 + a2·y/tₑ − a3·y)."""
    return 1.0 / (1.0 + a2 * y / exposure_s - a3 * y)


def raw_to_radiance(raw: np.ndarray, meta: BandMeta) -> np.ndarray:
    """Convert a raw band image (DN) to spectral radiance, W/m²/sr/nm (float64).

    Raises:
        InputError: the image size disagrees with the metadata.
    """
    if raw.shape != (meta.height, meta.width):
        raise InputError(
            f"{str(meta.path)!r}: pixel array is {raw.shape[1]}x{raw.shape[0]} but the tags say "
            f"{meta.width}x{meta.height}; the file is corrupt"
        )
    a1, a2, a3 = meta.radiometric_cal
    v, _x, y = vignette_map(meta.vignette_centre, meta.vignette_poly, raw.shape)
    corrected = v * row_gradient(a2, a3, meta.exposure_s, y) * (raw.astype(np.float64) - meta.dark_level)
    corrected[corrected < 0] = 0.0
    return corrected / (meta.gain * meta.exposure_s) * a1 / float(2**meta.bits_per_pixel)


def radiance_to_reflectance_dls(radiance: np.ndarray, irradiance: float) -> np.ndarray:
    """Reflectance = π · L / E, with E the downwelling spectral irradiance (W/m²/nm)."""
    if not (math.isfinite(irradiance) and irradiance > 0):
        raise InputError(f"DLS irradiance {irradiance!r} is not positive; use a panel capture (--panel) instead")
    return radiance * (math.pi / irradiance)


def panel_reflectance_factor(panel_radiance_mean: float, panel_reflectance: float) -> float:
    """Factor F turning radiance into reflectance: F = ρ_panel / mean panel radiance (sr·m²·nm/W)."""
    if not (panel_radiance_mean > 0):
        raise InputError(
            f"mean panel radiance {panel_radiance_mean!r} is not positive; the panel is dark or saturated — "
            "retake the panel capture in full sun"
        )
    return panel_reflectance / panel_radiance_mean


def undistort_coordinates(
    shape: tuple[int, int], focal_px: float, principal_px: tuple[float, float], distortion: tuple[float, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Source (row, col) in the distorted image for every pixel of the undistorted one.

    Brown-Conrady forward model on normalised coordinates (x, y) = ((u−cx)/f, (v−cy)/f):
    r² = x² + y²; x_d = x(1 + k1r² + k2r⁴ + k3r⁶) + 2p1xy + p2(r² + 2x²);
    y_d = y(1 + k1r² + k2r⁴ + k3r⁶) + p1(r² + 2y²) + 2p2xy (OpenCV's model, same camera matrix).
    """
    k1, k2, k3, p1, p2 = distortion
    cx, cy = principal_px
    rows, cols = shape
    v, u = np.mgrid[0:rows, 0:cols].astype(np.float64)
    x, y = (u - cx) / focal_px, (v - cy) / focal_px
    r2 = x * x + y * y
    radial = 1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))
    xd = x * radial + 2.0 * p1 * x * y + p2 * (r2 + 2.0 * x * x)
    yd = y * radial + p1 * (r2 + 2.0 * y * y) + 2.0 * p2 * x * y
    return yd * focal_px + cy, xd * focal_px + cx


def undistort(image: np.ndarray, meta: BandMeta) -> np.ndarray:
    """Remove lens distortion (bilinear resampling; pixels mapping outside become NaN)."""
    src_rows, src_cols = undistort_coordinates(image.shape, meta.focal_length_px, meta.principal_point_px,
                                               meta.distortion)
    return ndimage.map_coordinates(image.astype(np.float64), [src_rows, src_cols], order=1, mode="constant",
                                   cval=np.nan)
