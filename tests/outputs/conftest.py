"""Fixtures of the outputs tests: one synthetic flight, its reports and its open data (built once)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from outputs_fixtures import Fixture, build_fixture


@pytest.fixture(scope="session")
def flight(tmp_path_factory: pytest.TempPathFactory) -> Fixture:
    """survey/, indices/, predictions/ of a 2-grower, 4-field flight (one field withheld from open data)."""
    return build_fixture(tmp_path_factory.mktemp("flight"))


@pytest.fixture(scope="session")
def reports(flight: Fixture, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``shimanto report`` output folder for :func:`flight`."""
    from cli import main

    out = tmp_path_factory.mktemp("reports")
    rc = main(["report", str(flight.survey), "--indices", str(flight.indices), "--predictions",
               str(flight.predictions), "--out", str(out)])
    assert rc == 0
    return out


@pytest.fixture(scope="session")
def opendata(flight: Fixture, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``shimanto publish`` output folder for :func:`flight`."""
    from cli import main

    out = tmp_path_factory.mktemp("pub") / "opendata"
    rc = main(["publish", str(flight.survey), "--indices", str(flight.indices), "--predictions",
               str(flight.predictions), "--out", str(out)])
    assert rc == 0
    return out
