"""Fixtures shared by every test folder."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: ../shared beside the project root (developer machines and CI; not a user's fresh clone).
SHARED_DIR = PROJECT_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ``../shared`` folder; tests using it skip with a reason when it is absent."""
    if not (SHARED_DIR / "data").is_dir():
        pytest.skip(f"needs ../shared/data (real drone data beside the project), not found at {SHARED_DIR}")
    return SHARED_DIR


def require_binary(name: str, package: str) -> str:
    """Path of an external program, or skip naming the Debian package that provides it."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"needs '{name}' (Debian package {package}; install with: bash .ci/system-deps.sh)")
    return path


@pytest.fixture(scope="session", autouse=True)
def opendata_key_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every test publishes with a throwaway anonymisation key (``SHIMANTO_OPENDATA_KEY_FILE``), never the
    user's ``~/.config/shimanto/opendata.key``; the file is created by the first publish of the session."""
    path = tmp_path_factory.mktemp("opendata-key") / "opendata.key"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SHIMANTO_OPENDATA_KEY_FILE", str(path))
        yield path


@pytest.fixture
def run_cli():
    """Call the CLI in-process: ``run_cli(['indices', ...])`` returns the exit status."""
    from cli import main

    return main
