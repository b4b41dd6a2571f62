"""Fixtures of the detection tests: tiny toy surveys and a small trained model."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.detection.config import DetectionConfig
from pipeline.testing.toysurvey import ToySpec, make_toy_survey

BANDS = ("blue", "green", "red", "nir", "red_edge")


@pytest.fixture(scope="session")
def toy_surveys(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three toy survey folders (seeds 1..3, 3×3 fields of 60 px)."""
    root = tmp_path_factory.mktemp("toy")
    return [make_toy_survey(root / f"s{seed}", ToySpec(seed=seed, grid=3, disease_share=0.7)) for seed in (1, 2, 3)]


@pytest.fixture(scope="session")
def small_cfg() -> DetectionConfig:
    """A config small enough for seconds-long tests."""
    return DetectionConfig(chip_size=64, chip_stride=64, base_channels=8, epochs=1, batch_size=8, window=64,
                           overlap=16, batch_windows=4, max_train_seconds=30, val_fraction=0.3, min_hotspot_area_m2=0.1)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory, toy_surveys: list[Path], small_cfg: DetectionConfig) -> Path:
    """A model directory trained for two epochs without MLflow."""
    from pipeline.detection.train import Trainer, load_scenes, save_result

    out = tmp_path_factory.mktemp("model") / "m"
    trainer = Trainer(load_scenes(toy_surveys[:2], small_cfg.bands), small_cfg)
    history = trainer.fit(2)
    save_result(trainer, toy_surveys[:2], out, history, run_id=None)
    return out
