"""Scenes at another GSD than the model's: resampled to the working grid (GDAL average) for training,
evaluation and inference; predictions written back on the input grid."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from pipeline.detection.card import read_card
from pipeline.detection.config import DetectionConfig
from pipeline.detection.evaluate import evaluate_surveys
from pipeline.detection.predict import predict_scene
from pipeline.detection.resample import working_grid
from pipeline.detection.scenes import load_labelled_scene
from pipeline.detection.streaming import InferenceSettings
from pipeline.detection.train import Trainer, load_scenes, save_result
from pipeline.errors import GeoreferenceError
from pipeline.testing.toysurvey import ToySpec, make_toy_survey

BANDS = ("blue", "green", "red", "nir", "red_edge")
SETTINGS = InferenceSettings(window=64, overlap=16, batch_windows=4, min_hotspot_area_m2=0.1)


@pytest.fixture(scope="module")
def twin_surveys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same toy site (seed 3: same fields and disease discs in metres) at 10 cm and at 5 cm."""
    root = tmp_path_factory.mktemp("gsd")
    coarse = make_toy_survey(root / "g10", ToySpec(seed=3, grid=3, field_px=60, gap_px=6, gsd_m=0.1,
                                                  disease_share=0.7))
    fine = make_toy_survey(root / "g05", ToySpec(seed=3, grid=3, field_px=120, gap_px=12, gsd_m=0.05,
                                                disease_share=0.7))
    return coarse, fine


def test_working_grid_keeps_origin_and_covers_the_scene() -> None:
    t = Affine(0.05, 0, 305000.0, 0, -0.05, 3652000.0)
    grid = working_grid(t, 401, 300, 0.1)
    assert grid is not None
    assert grid.transform == Affine(0.1, 0, 305000.0, 0, -0.1, 3652000.0)
    assert (grid.width, grid.height) == (201, 150)  # ceil: the last half pixel is still covered
    assert working_grid(t, 401, 300, 0.0502) is None  # within 1 %: read as it is
    assert working_grid(t, 401, 300, None) is None
    with pytest.raises(GeoreferenceError, match="rotated"):
        working_grid(Affine(0.05, 0.01, 0, 0.01, -0.05, 0), 10, 10, 0.1)


def test_fine_scene_is_read_as_block_average(twin_surveys: tuple[Path, Path]) -> None:
    """5 cm read at 10 cm = the mean of each 2×2 block's valid pixels (NaN only when all four are NaN)."""
    _, fine = twin_surveys
    native = load_labelled_scene(fine, BANDS)
    scene = load_labelled_scene(fine, BANDS, gsd_m=0.1)
    h, w = native.stack.shape[1] // 2, native.stack.shape[2] // 2
    blocks = native.stack[:, : 2 * h, : 2 * w].reshape(len(BANDS), h, 2, w, 2)
    with np.errstate(invalid="ignore"), pytest.warns(RuntimeWarning, match="Mean of empty slice"):
        expected = np.nanmean(blocks, axis=(2, 4))
    assert scene.stack.shape == (len(BANDS), h, w) and abs(scene.transform.a) == pytest.approx(0.1)
    np.testing.assert_array_equal(np.isnan(scene.stack), np.isnan(expected))
    np.testing.assert_allclose(scene.stack, expected, rtol=1e-5, atol=1e-6, equal_nan=True)
    # labels are burnt on the working grid, not resampled
    assert scene.labels.shape == (h, w) and scene.field_index.max() == 9


def test_training_accepts_mixed_gsds_at_the_working_gsd(twin_surveys: tuple[Path, Path], tmp_path: Path,
                                                        small_cfg: DetectionConfig) -> None:
    coarse, fine = twin_surveys
    scenes = load_scenes([fine, coarse], BANDS, gsd_m=0.1)
    assert [abs(s.transform.a) for s in scenes] == [pytest.approx(0.1)] * 2
    assert scenes[0].labels.shape == scenes[1].labels.shape
    # without a working GSD the first survey's is used: the 10 cm survey is upsampled to 5 cm
    assert abs(load_scenes([fine, coarse], BANDS)[1].transform.a) == pytest.approx(0.05)
    trainer = Trainer(scenes, small_cfg)
    save_result(trainer, [fine, coarse], tmp_path / "m", trainer.fit(1), run_id=None)
    assert read_card(tmp_path / "m").gsd_m == pytest.approx(0.1)


def test_predict_fine_scene_with_coarse_model(twin_surveys: tuple[Path, Path], tiny_model: Path,
                                              tmp_path: Path) -> None:
    """A 5 cm scene through a 10 cm model: outputs on the 5 cm grid, predicted on the 10 cm working grid."""
    coarse, fine = twin_surveys
    assert read_card(tiny_model).gsd_m == pytest.approx(0.1)
    predict_scene(fine / "scene.tif", tiny_model, tmp_path / "fine", fine / "fields.geojson", SETTINGS)
    predict_scene(coarse / "scene.tif", tiny_model, tmp_path / "coarse", coarse / "fields.geojson", SETTINGS)
    with rasterio.open(tmp_path / "fine" / "classes.tif") as cls, rasterio.open(fine / "scene.tif") as scene:
        assert (cls.width, cls.height, cls.transform) == (scene.width, scene.height, scene.transform)
        assert json.loads(cls.tags()["CLASS_NAMES"])
        assert cls.colormap(1)[2][:3] == (220, 40, 40)
        fine_classes = cls.read(1)
    with rasterio.open(tmp_path / "fine" / "probability.tif") as prob:
        assert (prob.width, prob.height) == (fine_classes.shape[1], fine_classes.shape[0])
    with rasterio.open(tmp_path / "coarse" / "classes.tif") as cls:
        coarse_classes = cls.read(1)
    # each 10 cm working pixel covers one 2×2 block of the output (nearest back onto the input grid)
    for dy, dx in ((0, 1), (1, 0), (1, 1)):
        np.testing.assert_array_equal(fine_classes[0::2, 0::2], fine_classes[dy::2, dx::2])
    # and the model sees what it sees at 10 cm: the two predictions agree almost everywhere
    agree = fine_classes[0::2, 0::2] == coarse_classes
    assert agree.mean() > 0.9
    hotspots = json.loads((tmp_path / "fine" / "hotspots.geojson").read_text())
    assert isinstance(hotspots["features"], list)


def test_evaluate_scores_fine_survey_on_the_working_grid(twin_surveys: tuple[Path, Path], tiny_model: Path) -> None:
    coarse, fine = twin_surveys
    a = evaluate_surveys(tiny_model, [coarse], SETTINGS, 1.0, 0.01)
    b = evaluate_surveys(tiny_model, [fine], SETTINGS, 1.0, 0.01)
    total = np.asarray(b["confusion_matrix"]).sum()
    assert total == pytest.approx(np.asarray(a["confusion_matrix"]).sum(), rel=0.02)  # 10 cm pixels, not 5 cm
    assert b["miou"] == pytest.approx(a["miou"], abs=0.1)


def test_mixed_cameras_only_when_asked(tmp_path: Path, toy_surveys: list[Path]) -> None:
    """Randomised training may mix cameras with the model's bands; the card then names no single sensor."""
    from pipeline.detection.train import card_sensor
    from pipeline.errors import InputError

    other = make_toy_survey(tmp_path / "p4m", ToySpec(seed=4, grid=2, sensor="p4m"))
    with pytest.raises(InputError, match="several sensors"):
        load_scenes([toy_surveys[0], other], BANDS)
    scenes = load_scenes([toy_surveys[0], other], BANDS, mixed_sensors=True)
    assert {s.sensor for s in scenes} == {"rededge-mx", "p4m"} and card_sensor(scenes) is None
    assert card_sensor(scenes[:1]) == "rededge-mx"


def test_train_cli_gsd_option(twin_surveys: tuple[Path, Path], tmp_path: Path, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``shimanto train --gsd-m`` sets the working GSD; a bad one is refused with one line and no model."""
    import yaml

    coarse, fine = twin_surveys
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"detection": {
        "chip_size": 64, "chip_stride": 64, "base_channels": 8, "batch_size": 8, "chips_per_epoch": 16,
        "max_val_chips": 8, "window": 64, "overlap": 16, "batch_windows": 4, "val_fraction": 0.3}}))
    assert run_cli(["train", str(fine), str(coarse), "--out", str(tmp_path / "bad"), "--epochs", "1", "--gsd-m",
                    "5", "--no-register", "--params", str(params)]) != 0
    assert not (tmp_path / "bad").exists()
    assert run_cli(["train", str(fine), str(coarse), "--out", str(tmp_path / "m"), "--epochs", "1", "--gsd-m",
                    "0.1", "--no-register", "--params", str(params)]) == 0
    card = read_card(tmp_path / "m")
    assert card.gsd_m == pytest.approx(0.1) and card.training_domain["gsd_m"] == pytest.approx(0.1)
