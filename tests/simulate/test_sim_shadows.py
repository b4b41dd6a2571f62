"""Cast shadows and sky light."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.ingest.sensors import get_sensor
from pipeline.simulate.shadows import sunlit_fraction
from pipeline.simulate.spectra import band_reflectance, diffuse_fraction


@pytest.mark.parametrize(("azimuth", "direction"), [(180.0, (-1, 0)), (90.0, (0, -1)), (270.0, (0, 1))])
def test_tower_shadow_points_away_from_the_sun_with_the_right_length(azimuth, direction):
    gsd, zenith, tower = 0.5, 45.0, 10.0
    height = np.zeros((201, 201), dtype=np.float32)
    height[100, 100] = tower
    lit = sunlit_fraction(height, gsd, zenith, azimuth)
    dr, dc = direction  # rows grow southwards: the sun in the south throws shadows north (up)
    expected_len = tower * math.tan(math.radians(zenith)) / gsd  # 20 px
    along = [lit[100 + k * dr, 100 + k * dc] for k in range(1, 40)]
    shadow_len = sum(1 for v in along if v < 0.5)
    assert shadow_len == pytest.approx(expected_len, abs=1.5)
    assert lit[100 - 5 * dr, 100 - 5 * dc] == 1.0  # sunward side stays lit
    assert lit[100 + 5 * dc, 100 + 5 * dr] == 1.0  # beside the shadow stays lit


def test_flat_ground_is_fully_lit_and_high_sun_shortens_shadows():
    assert sunlit_fraction(np.zeros((50, 60), np.float32), 0.1, 30.0, 120.0).min() == 1.0
    height = np.zeros((120, 120), np.float32)
    height[60:62, 60:62] = 8.0
    low = (sunlit_fraction(height, 0.1, 60.0, 180.0) < 0.5).sum()
    high = (sunlit_fraction(height, 0.1, 15.0, 180.0) < 0.5).sum()
    assert high < low


def test_diffuse_fraction_is_bluer_and_grows_with_zenith():
    mx = get_sensor("rededge-mx")
    at25 = dict(zip(mx.band_names, band_reflectance(diffuse_fraction(25.0), mx), strict=True))
    at60 = dict(zip(mx.band_names, band_reflectance(diffuse_fraction(60.0), mx), strict=True))
    assert 0.2 < at25["blue"] < 0.45 and 0.05 < at25["nir"] < 0.2
    assert at25["blue"] > at25["green"] > at25["red"] > at25["nir"]
    assert all(at60[b] > at25[b] for b in mx.band_names)
    assert diffuse_fraction(25.0, turbidity=0.3)[100] > diffuse_fraction(25.0, turbidity=0.05)[100]
