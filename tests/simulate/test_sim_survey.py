"""The survey folder: determinism, georeferencing, fields, labels and spectral realism."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import rasterio
from pyproj import Transformer

from pipeline.common.cog import cog_problems
from pipeline.simulate.canopy import diseases_of
from pipeline.simulate.sun import sun_position
from pipeline.simulate.survey import SurveySpec


def test_same_seed_same_pixels_other_seed_differs(make_survey, small_survey):
    again = make_survey()
    assert np.array_equal(again.bands, small_survey.bands, equal_nan=True)
    assert again.folder.fields.read_bytes() == small_survey.folder.fields.read_bytes()
    assert again.folder.labels.read_bytes() == small_survey.folder.labels.read_bytes()
    other = make_survey(seed=12)
    assert other.bands.shape != small_survey.bands.shape or not np.array_equal(
        other.bands, small_survey.bands, equal_nan=True)


def test_layout_seed_keeps_fields_while_flight_seed_changes_noise(make_survey, small_survey):
    flight = make_survey(seed=99, layout_seed=11)
    assert flight.folder.fields.read_bytes() == small_survey.folder.fields.read_bytes()
    assert flight.folder.labels.read_bytes() == small_survey.folder.labels.read_bytes()
    assert flight.bands.shape == small_survey.bands.shape
    valid = ~np.isnan(flight.bands)
    diff = np.abs(flight.bands[valid] - small_survey.bands[valid])
    assert 0 < np.median(diff) < 0.01  # same scene, fresh sensor noise


def test_scene_is_a_georeferenced_rededge_mx_cog(small_survey):
    s = small_survey
    assert s.crs.to_epsg() == 6690
    assert s.descriptions == ("blue", "green", "red", "nir", "red_edge")
    assert s.tags["SENSOR"] == "rededge-mx"
    assert s.bands.dtype == np.float32 and math.isnan(s.nodata)
    assert cog_problems(s.folder.scene) == []
    assert s.transform.a == pytest.approx(0.2) and s.transform.e == pytest.approx(-0.2)
    rows, cols = s.bands.shape[1:]
    cx, cy = s.transform @ (cols / 2, rows / 2)
    lon, lat = Transformer.from_crs(6690, 4326, always_xy=True).transform(cx, cy)
    assert lat == pytest.approx(33.20, abs=0.005) and lon == pytest.approx(133.14, abs=0.005)


def test_footprint_is_irregular_and_reflectance_in_range(small_survey):
    valid = ~np.isnan(small_survey.bands[0])
    assert np.array_equal(valid, ~np.isnan(small_survey.bands).any(axis=0))  # same footprint in every band
    assert 0.4 < valid.mean() < 0.95
    rows = np.flatnonzero(valid.any(axis=1))
    cols = np.flatnonzero(valid.any(axis=0))
    bbox = valid[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    assert bbox.mean() < 0.95  # not a filled rectangle
    values = small_survey.bands[:, valid]
    assert values.min() >= 0.0 and values.max() <= 1.0
    area_ha = valid.sum() * 0.2 * 0.2 / 1e4
    assert area_ha == pytest.approx(0.5, rel=0.25)


def test_fields_contract(small_survey):
    fields = small_survey.fields
    assert len(fields) >= 6
    assert {p["crop"] for _, p in fields} == {"rice", "ginger"}
    ids = [p["field_id"] for _, p in fields]
    assert ids == sorted(set(ids)) and all(i.startswith("F") for i in ids)
    assert sum(not p["open_data"] for _, p in fields) == 1
    for geom, props in fields:
        assert geom.geom_type == "Polygon" and geom.is_valid
        assert props["grower"] and all(ord(c) > 0x3000 for c in props["grower"].replace(" ", ""))
        assert len(props["planted"]) == 10 and props["planted"].startswith("2026-")
        rect = geom.minimum_rotated_rectangle
        assert geom.area / rect.area < 0.995 or len(geom.exterior.coords) > 6  # not a rectangle
        xs = np.array(geom.exterior.coords)[:, 0]
        assert np.unique(np.round(xs, 1)).size > 4  # not axis aligned


def test_fields_land_on_valid_vegetated_pixels(small_survey):
    s = small_survey
    valid = ~np.isnan(s.bands[0])
    ndvi = s.index("nir", "red")
    for geom, props in s.fields:
        inside = s.mask([geom])
        assert inside.sum() > 1000, props["field_id"]
        assert valid[inside].all(), f"{props['field_id']} leaves the mosaic footprint"
        assert np.nanmean(ndvi[inside]) > 0.5, props["field_id"]
    outside_fields = valid & ~s.mask(g.buffer(1.0) for g, _ in s.fields)
    assert np.nanmean(ndvi[outside_fields]) < np.nanmean(ndvi[s.mask(g for g, _ in s.fields)])


def test_labels_lie_in_their_fields_with_valid_classes(small_survey):
    fields = {p["field_id"]: (g, p) for g, p in small_survey.fields}
    labels = small_survey.labels
    assert labels
    per_field: dict[str, int] = {}
    areas = []
    for geom, props in labels:
        field_geom, field_props = fields[props["field_id"]]
        assert props["crop"] == field_props["crop"]
        assert props["class"] in diseases_of(props["crop"])
        assert geom.difference(field_geom).area < 1e-3 * geom.area + 1e-6
        per_field[props["field_id"]] = per_field.get(props["field_id"], 0) + 1
        areas.append(geom.area)
    for crop in ("rice", "ginger"):
        crop_fields = [i for i, (_, p) in fields.items() if p["crop"] == crop]
        diseased = [i for i in crop_fields if i in per_field]
        assert diseased, f"no diseased {crop} field"
        assert len(diseased) < len(crop_fields), f"no healthy {crop} field"
    assert max(per_field.values()) >= 3
    assert min(areas) < 10 and max(areas) > 4 * min(areas)  # few m^2 upwards (field size caps it)
    assert any(len(g.exterior.coords) > 20 for g, _ in labels)


@pytest.mark.parametrize("crop", ["rice", "ginger"])
def test_healthy_canopy_has_a_red_edge(small_survey, crop):
    healthy, _ = small_survey.crop_masks(crop)
    b = {k: float(np.nanmean(v[healthy])) for k, v in small_survey.band.items()}
    assert b["nir"] > b["red_edge"] > b["red"]
    assert b["green"] > b["red"]


@pytest.mark.parametrize("crop", ["rice", "ginger"])
def test_disease_is_distinct_yet_overlapping(small_survey, crop):
    healthy, diseased = small_survey.crop_masks(crop)
    assert diseased.sum() > 100
    for a, b in (("nir", "red"), ("nir", "red_edge")):
        index = small_survey.index(a, b)
        h, d = index[healthy], index[diseased]
        assert d.mean() < h.mean() - 0.01, (a, b)
        assert (d > np.percentile(h, 10)).mean() > 0.02, (a, b)  # distributions overlap, as in real data


def test_survey_json_records_sun_and_canopy(small_survey):
    meta = json.loads(small_survey.folder.meta_path.read_text(encoding="utf-8"))
    spec = SurveySpec(seed=11)
    sun = sun_position(spec.when, spec.centre_lat, spec.centre_lon)
    assert meta["seed"] == 11 and meta["sensor"] == "rededge-mx" and meta["gsd_cm"] == 20.0
    assert meta["sun"]["zenith_deg"] == pytest.approx(sun.zenith_deg, abs=1e-3)
    assert meta["sun"]["azimuth_deg"] == pytest.approx(sun.azimuth_deg, abs=1e-3)
    assert 10 < meta["sun"]["zenith_deg"] < 40  # 10:30 JST on 1 July
    for crop in ("rice", "ginger"):
        classes = meta["canopy"][crop]
        assert set(classes) == {"healthy", *diseases_of(crop)}
        for name in diseases_of(crop):
            assert classes[name]["cab"] < classes["healthy"]["cab"]
            assert classes[name]["cbrown"] > classes["healthy"]["cbrown"]


def test_disease_spreads_from_its_origins(make_survey):
    early = make_survey(disease_progress=0.3)
    late = make_survey(disease_progress=1.5)
    none = make_survey(disease_progress=0.0)
    assert none.labels == []
    area = lambda s: sum(g.area for g, _ in s.labels)  # noqa: E731
    assert 0 < area(early) < area(late)
    early_fields = {p["field_id"] for _, p in early.labels}
    late_fields = {p["field_id"] for _, p in late.labels}
    assert early_fields <= late_fields
    assert all(p["origin"] for _, p in early.labels if p["patch_id"].endswith("P1"))
    for geom, props in early.labels:  # early patches grow in place
        later = [g for g, p in late.labels if p["field_id"] == props["field_id"] and g.intersects(geom)]
        assert later and max(g.area for g in later) >= geom.area
    with rasterio.open(none.folder.scene) as src:
        assert src.count == 5


def test_growth_follows_days_after_planting(make_survey):
    young = make_survey(days_after_planting=15.0, disease_progress=0.0)
    grown = make_survey(days_after_planting=75.0, disease_progress=0.0)
    for crop in ("rice", "ginger"):
        ndvi_young = np.nanmean(young.index("nir", "red")[young.crop_masks(crop)[0]])
        ndvi_grown = np.nanmean(grown.index("nir", "red")[grown.crop_masks(crop)[0]])
        assert ndvi_young < ndvi_grown - 0.1, crop
    planted = {p["planted"] for _, p in young.fields}
    assert planted == {"2026-06-16"}
