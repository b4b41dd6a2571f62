"""Fixtures for the MicaSense capture tests: real captures linked into temporary folders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def rededge_dir(shared_dir: Path) -> Path:
    """``0000SET/000`` of the real MicaSense RedEdge sample (panel IMG_0000, flight IMG_0001)."""
    return shared_dir / "data" / "micasense-rededge" / "0000SET" / "000"


@pytest.fixture(scope="session")
def bad_exposure_file(shared_dir: Path) -> Path:
    """A real RedEdge frame whose ExposureTime is the legacy firmware's bogus 1/6329 s."""
    return shared_dir / "data" / "micasense-rededge" / "0001SET" / "000" / "IMG_0003_1.tif"


def _link(files: list[Path], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for f in files:
        (folder / f.name).symlink_to(f)
    return folder


@pytest.fixture(scope="session")
def link_files() -> Callable[[list[Path], Path], Path]:
    """``link_files(files, folder)``: symlink real files into a temporary folder (never copied into the repo)."""
    return _link
