"""PROSAIL spectra, band integration, water/soil backgrounds and disease end-members."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.errors import InputError
from pipeline.ingest.sensors import get_sensor
from pipeline.simulate.canopy import CROPS, DISEASES, LAND_COVERS, crop_background, diseases_of
from pipeline.simulate.lut import build_crop_table
from pipeline.simulate.spectra import (
    WAVELENGTHS_NM,
    CanopyParams,
    Geometry,
    band_reflectance,
    band_response,
    canopy_spectrum,
    soil_spectrum,
    water_spectrum,
)

MX = get_sensor("rededge-mx")
GEO = Geometry(sun_zenith=25.0)


def _bands(spectrum: np.ndarray) -> dict[str, float]:
    return dict(zip(MX.band_names, band_reflectance(spectrum, MX).tolist(), strict=True))


def test_band_response_is_normalised_and_centred():
    srf = band_response(MX)
    assert srf.shape == (5, WAVELENGTHS_NM.size)
    np.testing.assert_allclose(srf.sum(axis=1), 1.0)
    for row, band in zip(srf, MX.bands, strict=True):
        centroid = float((row * WAVELENGTHS_NM).sum())
        assert centroid == pytest.approx(band.centre_nm, abs=1.0)  # solar weighting shifts it only slightly
        assert row[np.abs(WAVELENGTHS_NM - band.centre_nm) > 2 * band.fwhm_nm].sum() < 1e-3


def test_flat_spectrum_integrates_to_itself_and_batches():
    flat = np.full((3, WAVELENGTHS_NM.size), 0.25)
    np.testing.assert_allclose(band_reflectance(flat, MX), 0.25)
    assert band_reflectance(flat, MX).shape == (3, 5)


def test_bad_spectrum_length_and_thermal_sensor_are_refused():
    with pytest.raises(InputError, match="2101"):
        band_reflectance(np.zeros(100), MX)
    with pytest.raises(InputError, match="lwir"):
        band_response(get_sensor("altum-pt"))


def test_healthy_canopy_has_red_edge_and_green_peak():
    b = _bands(canopy_spectrum(CanopyParams(lai=3.5, cab=45.0), soil_spectrum(1.0, 0.5), GEO))
    assert b["nir"] > b["red_edge"] > b["red"]
    assert b["green"] > b["red"] and b["green"] > b["blue"]
    assert (b["nir"] - b["red"]) / (b["nir"] + b["red"]) > 0.75


def test_lai_and_chlorophyll_move_reflectance_the_physical_way():
    soil = soil_spectrum(1.0, 0.5)
    sparse = _bands(canopy_spectrum(CanopyParams(lai=0.5), soil, GEO))
    dense = _bands(canopy_spectrum(CanopyParams(lai=5.0), soil, GEO))
    assert dense["nir"] > sparse["nir"] and dense["red"] < sparse["red"]
    pale = _bands(canopy_spectrum(CanopyParams(lai=3.0, cab=15.0), soil, GEO))
    green = _bands(canopy_spectrum(CanopyParams(lai=3.0, cab=60.0), soil, GEO))
    assert pale["red"] > green["red"] and pale["red_edge"] > green["red_edge"]


def test_water_is_dark_in_nir_and_shallow_paddy_shows_its_bottom():
    deep = _bands(water_spectrum(2.0))
    shallow = _bands(water_spectrum(0.05, bottom=soil_spectrum(0.9, 0.0)))
    assert deep["nir"] < 0.02 < deep["green"] < 0.08
    assert deep["green"] > deep["red"]
    assert shallow["nir"] > deep["nir"]
    paddy = _bands(crop_background("rice"))
    assert paddy["nir"] < 0.06


def test_land_covers_are_physical():
    for name, spectrum_of in LAND_COVERS.items():
        spectrum = spectrum_of(GEO)
        assert spectrum.shape == WAVELENGTHS_NM.shape, name
        assert np.all((spectrum >= 0) & (spectrum <= 1)), name
    forest = _bands(LAND_COVERS["forest_broadleaf"](GEO))
    road = _bands(LAND_COVERS["road"](GEO))
    assert forest["nir"] > 3 * forest["red"]
    assert road["nir"] / road["red"] < 1.2


@pytest.mark.parametrize("name", list(DISEASES))
def test_disease_end_members_lower_ndvi_and_ndre(name):
    disease = DISEASES[name]
    healthy = CROPS[disease.crop].stage(70.0)
    bg = crop_background(disease.crop)
    h = _bands(canopy_spectrum(healthy, bg, GEO))
    d = _bands(canopy_spectrum(disease.apply(healthy, 1.0), bg, GEO))
    ndvi = lambda b: (b["nir"] - b["red"]) / (b["nir"] + b["red"])  # noqa: E731
    ndre = lambda b: (b["nir"] - b["red_edge"]) / (b["nir"] + b["red_edge"])  # noqa: E731
    assert ndvi(d) < ndvi(h)
    assert ndre(d) < ndre(h)
    assert disease.apply(healthy, 0.0) == healthy
    assert disease.why


def test_each_crop_has_its_classes():
    assert diseases_of("rice") == ("blast", "brown_spot", "bacterial_leaf_blight")
    assert diseases_of("ginger") == ("rhizome_rot", "leaf_spot")


def test_growth_rises_then_senesces():
    rice = CROPS["rice"]
    lais = [rice.stage(d).lai for d in (5, 30, 60, 85, 120)]
    assert lais[0] < lais[1] < lais[2] < lais[3] and lais[4] < lais[3]
    assert rice.stage(120).cbrown > rice.stage(60).cbrown


def test_lookup_table_matches_direct_prosail_at_nodes_and_between():
    table = build_crop_table("ginger", 70.0, MX, GEO)
    assert table.table.shape == (3, table.lai.size, 3, 5, 5)
    i, j = 5, 1
    node = table.healthy.replace(lai=float(table.lai[i]), cab=table.healthy.cab)
    direct = band_reflectance(canopy_spectrum(node, crop_background("ginger"), GEO), MX)
    got = table.lookup(np.array([0]), np.array([table.lai[i]]), np.array([table.cab_factor[j]]), np.array([0.0]))
    np.testing.assert_allclose(got[0], direct, rtol=1e-5)
    # between nodes: interpolation stays within the bracketing values
    mid_lai = 0.5 * (table.lai[i] + table.lai[i + 1])
    mid = table.lookup(np.array([2]), np.array([mid_lai]), np.array([1.0]), np.array([0.6]))[0]
    direct_mid = band_reflectance(
        canopy_spectrum(DISEASES["leaf_spot"].apply(table.healthy.replace(lai=float(mid_lai)), 0.6),
                        crop_background("ginger"), GEO), MX)
    np.testing.assert_allclose(mid, direct_mid, atol=0.01)
