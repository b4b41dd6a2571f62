"""Inference: outputs, band/sensor refusal, crop masking on fields, hotspot attributes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio

from pipeline.common.cog import cog_problems, write_cog
from pipeline.detection.classes import CLASS_NAMES, IGNORE
from pipeline.detection.predict import predict_scene
from pipeline.detection.scenes import load_labelled_scene
from pipeline.detection.streaming import InferenceSettings
from pipeline.errors import InputError

SETTINGS = InferenceSettings(window=64, overlap=16, batch_windows=4, min_hotspot_area_m2=0.1)


@pytest.fixture(scope="module")
def predicted(tmp_path_factory, tiny_model, toy_surveys):
    out = tmp_path_factory.mktemp("pred")
    survey = toy_surveys[2]
    predict_scene(survey / "scene.tif", tiny_model, out, survey / "fields.geojson", SETTINGS)
    return out, survey


def test_outputs_are_valid_cogs_with_class_names(predicted):
    out, survey = predicted
    for name in ("classes.tif", "probability.tif"):
        assert cog_problems(out / name) == []
    with rasterio.open(out / "classes.tif") as cls, rasterio.open(survey / "scene.tif") as scene:
        assert cls.dtypes[0] == "uint8" and cls.nodata == IGNORE
        assert (cls.width, cls.height, cls.transform, cls.crs) == (scene.width, scene.height, scene.transform,
                                                                   scene.crs)
        assert json.loads(cls.tags()["CLASS_NAMES"]) == list(CLASS_NAMES)
        classes = cls.read(1)
    with rasterio.open(out / "probability.tif") as prob:
        p = prob.read(1)
        assert prob.dtypes[0] == "float32"
    assert classes[0, 0] == IGNORE and np.isnan(p[0, 0])  # nodata corner
    ok = classes != IGNORE
    assert np.all((p[ok] >= 0) & (p[ok] <= 1 + 1e-5))
    assert [p.name for p in out.glob(".*")] == [".shimanto-output.json"]  # the output marker, no temporary leftovers


def test_crop_masking_on_fields(predicted):
    out, survey = predicted
    scene = load_labelled_scene(survey, ("blue", "green", "red", "nir", "red_edge"))
    with rasterio.open(out / "classes.tif") as cls:
        classes = cls.read(1)
    assert not np.isin(classes[scene.crops == 1], [5, 6, 7]).any()  # no ginger class on rice
    assert not np.isin(classes[scene.crops == 2], [1, 2, 3, 4]).any()  # no rice class on ginger
    outside = (scene.field_index == 0) & (classes != IGNORE)
    assert np.all(classes[outside] == 0)


def test_hotspot_attributes(predicted):
    out, survey = predicted
    doc = json.loads((out / "hotspots.geojson").read_text())
    fields = {f["properties"]["field_id"]: f["properties"]["crop"]
              for f in json.loads((survey / "fields.geojson").read_text())["features"]}
    for feat in doc["features"]:
        props = feat["properties"]
        assert set(props) == {"class", "crop", "field_id", "area_m2", "mean_probability", "lat", "lon"}
        assert props["class"] in CLASS_NAMES[1:] and props["class"] not in ("rice_healthy", "ginger_healthy")
        assert fields[props["field_id"]] == props["crop"]
        assert props["area_m2"] >= SETTINGS.min_hotspot_area_m2
        assert 0.0 <= props["mean_probability"] <= 1.0
        assert 32.5 < props["lat"] < 33.5 and 132.5 < props["lon"] < 133.5
        assert feat["geometry"]["type"] == "Polygon"


def _rewrite_scene(src_path, dst_path, descriptions, sensor):
    with rasterio.open(src_path) as src:
        data, transform, crs = src.read(), src.transform, src.crs
    write_cog(dst_path, data[: len(descriptions)], transform=transform, crs=crs, nodata=float("nan"),
              band_descriptions=descriptions, tags={"SENSOR": sensor})


def test_predict_refuses_mismatched_bands_and_sensor(tmp_path, tiny_model, toy_surveys, run_cli):
    scene = tmp_path / "fourband.tif"
    _rewrite_scene(toy_surveys[0] / "scene.tif", scene, ("blue", "green", "red", "nir"), "rededge-mx")
    with pytest.raises(InputError, match="red_edge"):
        predict_scene(scene, tiny_model, tmp_path / "out", None, SETTINGS)
    assert not (tmp_path / "out" / "classes.tif").exists()
    other = tmp_path / "p4m.tif"
    _rewrite_scene(toy_surveys[0] / "scene.tif", other, ("blue", "green", "red", "nir", "red_edge"), "p4m")
    assert run_cli(["predict", str(other), "--model", str(tiny_model), "--out", str(tmp_path / "out2")]) == 2
    assert not (tmp_path / "out2").exists() or not any((tmp_path / "out2").iterdir())


def test_predict_without_fields_is_memory_bounded_strips(tmp_path, tiny_model, toy_surveys):
    from pipeline.detection.card import load_model
    from pipeline.detection.engine import pick_device
    from pipeline.detection.streaming import FastPredictor, stream_strips

    model, card = load_model(tiny_model)
    predictor = FastPredictor(model, card, pick_device("cpu"))
    with rasterio.open(toy_surveys[0] / "scene.tif") as src:
        strips = list(stream_strips(src, [1, 2, 3, 4, 5], predictor, None,
                                    InferenceSettings(window=64, overlap=16, batch_windows=3)))
        height, width = src.height, src.width
    rows = [s.row0 for s in strips]
    assert rows[0] == 0 and rows == sorted(rows)
    assert sum(s.classes.shape[0] for s in strips) == height
    assert all(s.classes.shape[1] == width and s.classes.shape[0] <= 64 for s in strips)
