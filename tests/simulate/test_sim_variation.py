"""Domain randomisation knobs of the simulator: nominal by default, recorded, and held-out ranges disjoint."""

from __future__ import annotations

import json

import numpy as np
import rasterio

from pipeline.simulate.canopy import DISEASES
from pipeline.simulate.survey import SurveySpec, simulate_survey
from pipeline.simulate.variation import SHIFTED, TRAINING, SimVariation, sample_variation


def test_training_and_shifted_ranges_never_overlap():
    for name in ("disease_strength", "background_gain", "lai_gain", "illumination_gain", "noise_gain", "psf_sigma_px"):
        train = getattr(TRAINING, name)
        for lo, hi in getattr(SHIFTED, name):
            assert all(hi < t_lo or lo > t_hi for t_lo, t_hi in train), name
    rng = np.random.default_rng(0)
    a, b = sample_variation(rng), sample_variation(np.random.default_rng(0))
    assert a == b  # seeded
    assert set(a.disease_strength) == set(DISEASES)


def test_disease_strength_scales_every_delta():
    v = SimVariation(disease_strength={"blast": 0.5})
    e, base = v.effect("blast"), DISEASES["blast"]
    assert e.cab_factor == 1 + 0.5 * (base.cab_factor - 1) and e.cbrown_add == 0.5 * base.cbrown_add
    assert v.effect("brown_spot") is DISEASES["brown_spot"]


def test_shifted_survey_differs_from_nominal_and_records_its_settings(tmp_path):
    spec = SurveySpec(seed=5, hectares=1.0, gsd_cm=25.0)
    nominal = simulate_survey(tmp_path / "nominal", spec)
    shifted = simulate_survey(tmp_path / "shifted", SurveySpec(seed=5, hectares=1.0, gsd_cm=25.0,
                                                               variation=sample_variation(np.random.default_rng(1),
                                                                                          SHIFTED)))
    with rasterio.open(nominal.scene) as a, rasterio.open(shifted.scene) as b:
        x, y = a.read(), b.read()
    assert x.shape == y.shape and np.array_equal(np.isnan(x), np.isnan(y))  # same site and grid
    assert np.nanmean(np.abs(x - y)) > 0.005
    meta = json.loads(shifted.meta_path.read_text())
    assert meta["variation"]["noise_gain"] >= 2.5 and meta["variation"]["misregistration_px"] != [0, 0]
    assert json.loads(nominal.meta_path.read_text())["variation"]["noise_gain"] == 1.0
