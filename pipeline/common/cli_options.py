"""Options shared by several stage CLIs."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.config import Params, load_params

PARAMS_HELP = "params.yaml with stage settings (default: the project's params.yaml)."


def params_option() -> Path | None:
    """A fresh ``--params`` option (use as a default value in a command signature)."""
    return typer.Option(None, "--params", help=PARAMS_HELP, dir_okay=False)  # type: ignore[no-any-return]


def read_params(path: Path | None) -> Params:
    """Load params at the CLI edge (the only place params.yaml is read)."""
    return load_params(path)


OVERWRITE_HELP = (
    "Replace --out even when it holds files this command did not write (they are deleted). Without it, --out "
    "must be new, empty, or an earlier output of the same command."
)


def overwrite_option() -> bool:
    """A fresh ``--overwrite`` flag (see :func:`pipeline.common.atomic.atomic_dir`)."""
    return typer.Option(False, "--overwrite", help=OVERWRITE_HELP)  # type: ignore[no-any-return]
