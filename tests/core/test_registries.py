"""Registries that name code as strings fail in the tests, not at a user's run time (issue 15)."""

from __future__ import annotations

import importlib

import pytest

import cli
from pipeline.demo import DEMO_STAGES


@pytest.mark.parametrize("module_name", cli.COMMAND_GROUPS)
def test_every_command_group_resolves(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert callable(getattr(module, "register", None)), f"{module_name} has no register(app)"


@pytest.mark.parametrize("stage", DEMO_STAGES, ids=[s.name for s in DEMO_STAGES])
def test_every_demo_stage_resolves(stage) -> None:
    assert callable(stage.load()), f"demo stage {stage.name}: {stage.target} is not a function"


def test_demo_stage_names_are_unique() -> None:
    names = [s.name for s in DEMO_STAGES]
    assert len(names) == len(set(names))


def test_the_cli_lists_every_group() -> None:
    import typer

    command = typer.main.get_command(cli.build_app())
    names = set(command.commands)  # type: ignore[attr-defined]
    for expected in ("simulate", "plan", "fly", "ingest", "indices", "train", "evaluate", "predict", "report",
                     "publish", "search", "reprocess", "timeseries", "demo"):
        assert expected in names
