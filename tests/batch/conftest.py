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
