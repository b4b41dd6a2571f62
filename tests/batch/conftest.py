"""Fixtures of the batch tests: one tiny synthetic season (3 flights, 0.5 ha at 25 cm)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.simulate.season import SeasonSpec, simulate_season

TINY_SEASON = SeasonSpec(seed=5, flights=3, hectares=0.5, gsd_cm=25.0, interval_days=7)


@pytest.fixture(scope="session")
def tiny_season(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder with three flights of one area, named by the <area>_<YYYYMMDD>_<sensor> convention."""
    root = tmp_path_factory.mktemp("season") / "flights"
    simulate_season(root, TINY_SEASON)
    return root


@pytest.fixture(scope="session")
def tiny_model(tiny_season: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small disease model trained for one short epoch on the last flight (no MLflow), for predict."""
    from pipeline.detection.config import DetectionConfig
    from pipeline.detection.train import Trainer, load_scenes, save_result

    cfg = DetectionConfig(chip_size=64, chip_stride=64, base_channels=8, epochs=1, batch_size=8, window=64,
                          overlap=16, batch_windows=4, max_train_seconds=10, val_fraction=0.3,
                          chips_per_epoch=16, max_val_chips=8, min_hotspot_area_m2=0.1)
    surveys = [sorted(p for p in tiny_season.iterdir() if p.is_dir())[-1]]
    out = tmp_path_factory.mktemp("model") / "model"
    trainer = Trainer(load_scenes(surveys, cfg.bands), cfg)
    save_result(trainer, surveys, out, trainer.fit(1), run_id=None)
    return out
