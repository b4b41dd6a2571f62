"""The pure NumPy core: every registry index against an independent float64 computation."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.errors import InputError, UnknownNameError
from pipeline.ingest.indices import DEFAULT_INDICES, INDICES, compute_indices, safe_ratio
from pipeline.ingest.overviews import halve, overview_factors, pyramid
from pipeline.ingest.sensors import get_sensor


def reference(data: np.ndarray) -> dict[str, np.ndarray]:
    """Independent float64 formulas (RedEdge-MX order), inf and 0/0 mapped to NaN."""
    _b, g, r, n, re = (data[i].astype(np.float64) for i in range(5))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {
            "ndvi": (n - r) / (n + r),
            "ndre": (n - re) / (n + re),
            "gndvi": (n - g) / (n + g),
            "savi": 1.5 * (n - r) / (n + r + 0.5),
            "osavi": (n - r) / (n + r + 0.16),
            "evi2": 2.5 * (n - r) / (n + 2.4 * r + 1.0),
            "cire": n / re - 1.0,
            "cigreen": n / g - 1.0,
            "mcari": ((re - r) - 0.2 * (re - g)) * (re / r),
            "mtci": (n - re) / (re - r),
        }
    return {k: np.where(np.isfinite(v), v, np.nan) for k, v in out.items()}


def test_every_registry_index_matches_reference(kit) -> None:
    data = kit.reflectance(60, 70)
    got = compute_indices(data, "rededge-mx", list(INDICES))
    want = reference(data)
    assert set(got) == set(INDICES)
    for name, values in got.items():
        assert values.dtype == np.float32 and values.shape == (60, 70)
        np.testing.assert_allclose(values, want[name], rtol=1e-4, atol=1e-4, equal_nan=True, err_msg=name)
        assert not np.isinf(values).any(), name


def test_nodata_and_zero_over_zero_become_nan(kit) -> None:
    got = compute_indices(kit.reflectance(10, 10), "rededge-mx", DEFAULT_INDICES)
    for name in ("ndvi", "ndre", "gndvi"):
        assert np.isnan(got[name][0, 0]) and np.isnan(got[name][1, 0]), name
    assert np.isnan(got["ndvi"][0, 1]) and not np.isnan(got["ndre"][0, 1])  # red-only nodata
    assert np.isnan(got["ndvi"][1, 1])  # nir = red = 0
    assert np.isnan(safe_ratio(np.float32(1.0), np.float32(0.0)))


def test_mapping_input_and_any_shape(kit) -> None:
    data = kit.reflectance(8, 9)
    mapping = {name: data[i].ravel() for i, name in enumerate(kit.RMX_ORDER)}
    got = compute_indices(mapping, get_sensor("rededge-mx"), ["ndvi", "cire"])
    np.testing.assert_allclose(got["ndvi"], reference(data)["ndvi"].ravel(), atol=1e-5, equal_nan=True)


def test_spyndex_indices_match_own_formulas(kit) -> None:
    data = kit.reflectance(20, 20)
    got = compute_indices(data, "rededge-mx", ["ndvi", "gndvi", "spyndex:NDVI", "spyndex:GNDVI", "spyndex:NDREI"])
    np.testing.assert_allclose(got["spyndex:NDVI"], got["ndvi"], atol=1e-6, equal_nan=True)
    np.testing.assert_allclose(got["spyndex:GNDVI"], got["gndvi"], atol=1e-6, equal_nan=True)
    np.testing.assert_allclose(got["spyndex:NDREI"], reference(data)["ndre"], atol=1e-5, equal_nan=True)
    # EVI uses spyndex's default constants g=2.5, C1=6, C2=7.5, L=1.
    evi = compute_indices(data, "rededge-mx", ["spyndex:EVI"])["spyndex:EVI"]
    b, r, n = data[0].astype(np.float64), data[2].astype(np.float64), data[3].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        want = 2.5 * (n - r) / (n + 6 * r - 7.5 * b + 1.0)
    np.testing.assert_allclose(evi, np.where(np.isfinite(want), want, np.nan), rtol=1e-4, atol=1e-4, equal_nan=True)


def test_bad_names_and_bands(kit) -> None:
    data = kit.reflectance(4, 4)
    with pytest.raises(UnknownNameError, match="ndvi"):
        compute_indices(data, "rededge-mx", ["ndvx"])
    with pytest.raises(InputError, match="needs B"):
        compute_indices(data[1:], "m3m", ["spyndex:EVI"])
    with pytest.raises(InputError, match="blue"):
        compute_indices(data[:4], "rededge-mx", ["ndvi"])  # wrong band count
    with pytest.raises(UnknownNameError, match="spyndex"):
        compute_indices(data, "rededge-mx", ["spyndex:NOPE"])


def test_overview_pyramid_is_nan_aware_mean() -> None:
    values = np.array([[1, 2, np.nan], [3, np.nan, np.nan], [5, 6, 7]], dtype=np.float32)
    np.testing.assert_allclose(halve(values), [[2.0, np.nan], [5.5, 7.0]], equal_nan=True)
    levels = pyramid(np.ones((9, 17), np.float32), 3)
    assert [lv.shape for lv in levels] == [(5, 9), (3, 5), (2, 3)]
    assert overview_factors(4096, 4096, 512) == [2, 4, 8]
    assert overview_factors(512, 300, 512) == []
