"""Radiance of the real panel capture against MicaSense's reference model and published figures."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import tifffile
from skimage import measure

from pipeline.errors import InputError
from pipeline.ingest.captures.metadata import BandMeta, read_band_meta
from pipeline.ingest.captures.radiometry import (
    panel_reflectance_factor,
    radiance_to_reflectance_dls,
    raw_to_radiance,
    row_gradient,
    undistort,
    vignette_map,
)

#: Panel corners (x, y) MicaSense's tests publish for IMG_0000_1.tif (tests/test_panel.py).
MICASENSE_PANEL_CORNERS = [[809, 613], [648, 615], [646, 454], [808, 452]]


def reference_radiance(meta: BandMeta, raw: np.ndarray) -> np.ndarray:
    """Literal numpy transcription of micasense ``utils.raw_image_to_radiance`` (transposed layout kept)."""
    image = raw.T.astype(float)
    x_dim, y_dim = image.shape
    a1, a2, a3 = meta.radiometric_cal
    dark = meta.black_level
    poly = [*reversed(meta.vignette_poly), 1.0]
    x, y = np.meshgrid(np.arange(x_dim), np.arange(y_dim))
    x, y = x.T, y.T
    r = np.hypot(x - meta.vignette_centre[0], y - meta.vignette_centre[1])
    vignette = 1.0 / np.polyval(poly, r)
    rows = 1.0 / (1.0 + a2 * y / meta.exposure_s - a3 * y)
    lum = vignette * rows * (image - dark)
    lum[lum < 0] = 0
    return (lum.astype(float) / (meta.gain * meta.exposure_s) * a1 / 2.0**meta.bits_per_pixel).T


def panel_mask(shape: tuple[int, int]) -> np.ndarray:
    return measure.grid_points_in_poly(shape, np.fliplr(np.array(MICASENSE_PANEL_CORNERS)))


@pytest.mark.parametrize("band", [1, 2, 3, 4, 5])
def test_radiance_equals_micasense_reference_model(rededge_dir: Path, band: int) -> None:
    meta = read_band_meta(rededge_dir / f"IMG_0000_{band}.tif")
    raw = tifffile.imread(meta.path)
    np.testing.assert_allclose(raw_to_radiance(raw, meta), reference_radiance(meta, raw), rtol=1e-10, atol=1e-15)


def test_panel_radiance_matches_micasense_published_figures(rededge_dir: Path) -> None:
    # micasense tests/test_panel.py: raw mean 45406, radiance mean 0.170284 (std 0.00339), 26005 px,
    # irradiance_mean(0.67) = 0.7984 for IMG_0000_1.tif over the corners above.
    meta = read_band_meta(rededge_dir / "IMG_0000_1.tif")
    raw = tifffile.imread(meta.path)
    mask = panel_mask(raw.shape)
    radiance = raw_to_radiance(raw, meta)
    assert mask.sum() == pytest.approx(26005, rel=0.001)
    assert raw[mask].mean() == pytest.approx(45406, rel=0.01)
    assert radiance[mask].mean() == pytest.approx(0.170284, rel=0.01)
    assert radiance[mask].std() < 0.03 * radiance[mask].mean()  # uniform panel (MicaSense: std 0.0034)
    assert math.pi * radiance[mask].mean() / 0.67 == pytest.approx(0.7984, rel=0.002)
    # MicaSense measures on the undistorted image; undistorting must not move the uniform panel's mean.
    assert np.nanmean(undistort(radiance, meta)[mask]) == pytest.approx(0.170284, rel=0.01)
    # Physical closure: the panel factor maps the panel's radiance to its published reflectance.
    factor = panel_reflectance_factor(float(radiance[mask].mean()), 0.67)
    assert float((radiance[mask] * factor).mean()) == pytest.approx(0.67, rel=1e-9)


def test_vignette_is_one_at_centre_and_grows_outwards() -> None:
    poly = (-3.188e-05, 1.138e-07, -2.778e-09, 9.98e-12, -1.47e-14, 7.33e-18)
    v, x, y = vignette_map((40.0, 30.0), poly, (60, 80))
    assert v[30, 40] == pytest.approx(1.0)
    assert v[0, 0] > v[10, 20] > v[30, 40]
    assert x[5, 7] == 7 and y[5, 7] == 5


def test_row_gradient_and_scaling_on_a_synthetic_frame(rededge_dir: Path) -> None:
    meta = read_band_meta(rededge_dir / "IMG_0000_1.tif")
    y = np.array([0.0, 500.0])
    a1, a2, a3 = meta.radiometric_cal
    assert row_gradient(a2, a3, meta.exposure_s, y)[0] == 1.0
    assert row_gradient(a2, a3, meta.exposure_s, y)[1] == pytest.approx(1 / (1 + a2 * 500 / meta.exposure_s - a3 * 500))
    flat = np.full((meta.height, meta.width), 4800 + 1000, np.uint16)
    radiance = raw_to_radiance(flat, meta)
    # At the vignetting centre, row 0 of the formula: L = 1000 * a1 / (g * t) / 2^16.
    r, c = 0, round(meta.vignette_centre[0])
    v = vignette_map(meta.vignette_centre, meta.vignette_poly, (1, meta.width))[0][0, c]
    assert radiance[r, c] == pytest.approx(v * 1000 * a1 / (meta.gain * meta.exposure_s) / 65536)
    dark = np.full((meta.height, meta.width), 100, np.uint16)
    assert raw_to_radiance(dark, meta).max() == 0.0  # below the dark level floors at zero
    with pytest.raises(InputError, match="pixel array"):
        raw_to_radiance(np.zeros((3, 3), np.uint16), meta)


def test_reflectance_conversions_reject_bad_calibration() -> None:
    assert radiance_to_reflectance_dls(np.array([1.0]), math.pi)[0] == pytest.approx(1.0)
    with pytest.raises(InputError, match="DLS irradiance"):
        radiance_to_reflectance_dls(np.array([1.0]), 0.0)
    with pytest.raises(InputError, match="panel radiance"):
        panel_reflectance_factor(0.0, 0.5)
