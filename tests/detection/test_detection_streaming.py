"""The throughput path (streaming.stream_strips) yields the strips of the reference engine.predict_strips."""

from __future__ import annotations

import numpy as np
import rasterio

from pipeline.detection.card import load_model
from pipeline.detection.engine import WindowPredictor, pick_device, predict_strips
from pipeline.detection.scenes import band_positions, read_fields, scene_bands
from pipeline.detection.streaming import FastPredictor, StageTimes, stream_strips


def test_stream_strips_match_reference_engine(tiny_model, toy_surveys):
    survey = toy_surveys[1]
    model, card = load_model(tiny_model)
    device = pick_device("cpu")
    info = scene_bands(survey / "scene.tif")
    positions = band_positions(info, card.bands, card.sensor, survey / "scene.tif")
    fields = read_fields(survey / "fields.geojson", info.crs)
    times = StageTimes()
    with rasterio.open(survey / "scene.tif") as src:
        reference = list(predict_strips(src, positions, WindowPredictor(model, card, device), fields, 64, 16, 3))
        fast = list(stream_strips(src, positions, FastPredictor(model, card, device), fields, 64, 16, 3, times))
    assert [s.row0 for s in fast] == [s.row0 for s in reference]
    for a, b in zip(fast, reference, strict=True):
        np.testing.assert_array_equal(a.field_index, b.field_index)
        assert np.mean(a.classes != b.classes) < 1e-3  # float rounding may flip exact ties only
        np.testing.assert_allclose(a.disease_probability, b.disease_probability, atol=1e-4)
    assert {"model", "blend"} <= set(times.seconds)
