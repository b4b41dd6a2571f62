"""Domain randomisation knobs of the simulator: nominal by default, recorded, and held-out ranges disjoint."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import rasterio

from pipeline.simulate.canopy import DISEASES
from pipeline.simulate.survey import SurveySpec, simulate_survey
from pipeline.simulate.variation import SHIFTED, TRAINING, SimVariation, sample_variation


def test_training_and_shifted_ranges_never_overlap() -> None:
    for name in ("disease_strength", "background_gain", "lai_gain", "illumination_gain", "noise_gain", "psf_sigma_px",
                 "lesion_scale_m", "lesion_contrast", "edge_softness", "shadow_gain"):
        train = getattr(TRAINING, name)
        for lo, hi in getattr(SHIFTED, name):
            assert all(hi < t_lo or lo > t_hi for t_lo, t_hi in train), name
    rng = np.random.default_rng(0)
    a, b = sample_variation(rng), sample_variation(np.random.default_rng(0))
    assert a == b  # seeded
    assert set(a.disease_strength) == set(DISEASES)


def test_disease_strength_scales_every_delta() -> None:
    v = SimVariation(disease_strength={"blast": 0.5})
    e, base = v.effect("blast"), DISEASES["blast"]
    assert e.cab_factor == 1 + 0.5 * (base.cab_factor - 1) and e.cbrown_add == 0.5 * base.cbrown_add
    assert v.effect("brown_spot") is DISEASES["brown_spot"]


def test_shifted_survey_differs_from_nominal_and_records_its_settings(tmp_path: Path) -> None:
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


def test_held_out_acquisition_is_disjoint_from_training() -> None:
    from pipeline.ingest.sensors import get_sensor
    from pipeline.simulate.variation import (
        MULTISPECTRAL_BANDS,
        SHIFTED_ACQUISITION,
        TRAINING_ACQUISITION,
        camera_pool,
        sample_acquisition,
    )

    for lo, hi in SHIFTED_ACQUISITION.gsd_cm:
        assert all(hi < t_lo or lo > t_hi for t_lo, t_hi in TRAINING_ACQUISITION.gsd_cm)
    assert not set(SHIFTED_ACQUISITION.sensors) & set(TRAINING_ACQUISITION.sensors)
    assert TRAINING_ACQUISITION.sensors == ("rededge-mx", "rededge-p")  # altum-pt: thermal; m3m: no blue
    assert set(camera_pool()) == {"rededge-mx", "rededge-p", "p4m"}

    def response(name: str) -> dict[str, tuple[float, float]]:
        s = get_sensor(name)
        return {b: (s.bands[s.band_index(b)].centre_nm, s.bands[s.band_index(b)].fwhm_nm) for b in MULTISPECTRAL_BANDS}

    for held in SHIFTED_ACQUISITION.sensors:  # the held-out camera really has other band responses
        assert all(response(held) != response(t) for t in TRAINING_ACQUISITION.sensors)
    draws = [sample_acquisition(np.random.default_rng(7)) for _ in range(2)]
    assert draws[0] == draws[1] and 5.0 <= draws[0].gsd_cm <= 10.0


def test_survey_with_another_camera_records_its_bands(tmp_path: Path) -> None:
    survey = simulate_survey(tmp_path / "p4m", SurveySpec(seed=5, hectares=1.0, gsd_cm=25.0, sensor="p4m"))
    with rasterio.open(survey.scene) as src:
        assert src.tags()["SENSOR"] == "p4m"
        assert src.descriptions == ("blue", "green", "red", "red_edge", "nir")
        assert [float(src.tags(i)["CENTRE_NM"]) for i in (1, 3)] == [450.0, 650.0]


def test_lesion_edge_and_shadow_knobs_change_the_scene_not_the_labels(tmp_path: Path) -> None:
    spec = SurveySpec(seed=6, hectares=1.0, gsd_cm=25.0)
    nominal = simulate_survey(tmp_path / "nominal", spec)
    with rasterio.open(nominal.scene) as src:
        base = src.read()
    knobs = {"lesion_contrast": SimVariation(lesion_contrast=0.7), "edge_softness": SimVariation(edge_softness=2.0),
             "shadow_gain": SimVariation(shadow_gain=1.4)}
    for name, variation in knobs.items():
        value = getattr(variation, name)
        varied = simulate_survey(tmp_path / name, SurveySpec(seed=6, hectares=1.0, gsd_cm=25.0, variation=variation))
        with rasterio.open(varied.scene) as src:
            assert np.nanmax(np.abs(src.read() - base)) > 0.002, name
        assert varied.labels.read_text() == nominal.labels.read_text()  # label outlines do not move
        assert json.loads(varied.meta_path.read_text())["variation"][name] == value


def test_band_response_variation_moves_bands_but_not_onto_the_held_out_camera(tmp_path: Path) -> None:
    from pipeline.ingest.sensors import get_sensor
    from pipeline.simulate.variation import SHIFTED_ACQUISITION, TRAINING_ACQUISITION

    v = SimVariation(band_shift_nm=(5.0, 0.0, -3.0), band_width_gain=(1.5,))
    s = v.respond(get_sensor("rededge-mx"))
    assert [b.centre_nm for b in s.bands] == [480.0, 560.0, 665.0, 842.0, 717.0]
    assert [b.fwhm_nm for b in s.bands] == [48.0, 27.0, 14.0, 57.0, 12.0] and s.name == "rededge-mx"
    assert SimVariation().respond(get_sensor("p4m")) is get_sensor("p4m")
    draw = sample_variation(np.random.default_rng(3), TRAINING)
    assert len(draw.band_shift_nm) == 5 and all(-8 <= d <= 8 for d in draw.band_shift_nm)
    assert sample_variation(np.random.default_rng(3), SHIFTED).band_shift_nm == ()  # SHIFTED: the camera does it
    (lo, hi), = TRAINING.band_shift_nm
    for held in SHIFTED_ACQUISITION.sensors:  # some band of the held-out camera lies outside every training draw
        for cam in TRAINING_ACQUISITION.sensors:
            base = {b.name: b.centre_nm for b in get_sensor(cam).bands}
            assert any(not lo <= b.centre_nm - base[b.name] <= hi for b in get_sensor(held).bands if b.name in base)
    survey = simulate_survey(tmp_path / "jitter", SurveySpec(seed=5, hectares=1.0, gsd_cm=25.0, variation=v))
    with rasterio.open(survey.scene) as src:
        assert float(src.tags(1)["CENTRE_NM"]) == 480.0 and float(src.tags(1)["FWHM_NM"]) == 48.0
        assert src.tags()["SENSOR"] == "rededge-mx"
