"""``shimanto``: the command-line front end of the Shimanto drone pipeline.

Thin by design: each stage package contributes its commands through a
``register(app)`` function in its ``cli`` module, listed once in
:data:`COMMAND_GROUPS`. Only this module turns :class:`~pipeline.errors.PipelineError`
into a one-line message and an exit code.

Run ``shimanto --help`` or ``python cli.py --help``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Any

import typer

try:  # typer >= 0.20 vendors click as typer._click
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover - older typer uses click itself
    from click import exceptions as click_exceptions  # type: ignore[no-redef]

from pipeline.common.extras import missing_extra_message
from pipeline.errors import DependencyMissingError, PipelineError

#: Stage modules whose ``register(app)`` adds their commands, in help order.
COMMAND_GROUPS: tuple[str, ...] = (
    "pipeline.simulate.cli",  # simulate survey|season
    "pipeline.flight.cli",  # plan survey|check
    "pipeline.mavlink.cli",  # fly upload|download|start|monitor
    "pipeline.ingest.cli",  # ingest captures, indices
    "pipeline.ingest.mosaic.cli",  # mosaic (OpenDroneMap through NodeODM)
    "pipeline.detection.cli",  # train, evaluate, predict
    "pipeline.detection.scout_cli",  # scout export|import
    "pipeline.outputs.cli",  # report, publish
    "pipeline.search.cli",  # search plan|board|serve-auth|monitor
    "pipeline.batch.cli",  # reprocess, timeseries
    "pipeline.demo",  # demo
)


def build_app() -> typer.Typer:
    """Assemble the Typer application from every stage's ``register``."""
    app = typer.Typer(
        name="shimanto",
        help="Shimanto drone pipeline: flight planning, ingest, disease detection, reports, open data, search.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )

    @app.callback()
    def _root(
        verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="More log output (-v info, -vv debug)."),
    ) -> None:
        """Shimanto drone pipeline."""
        from pipeline.common.logging import configure_logging

        configure_logging(verbose)

    for module_name in COMMAND_GROUPS:
        importlib.import_module(module_name).register(app)
    return app


def _command_path(root: Any, argv: Sequence[str] | None) -> str:
    """``"plan survey"`` for ``shimanto plan survey …`` (group and sub-command names only)."""
    words = [a for a in (argv if argv is not None else sys.argv[1:]) if not a.startswith("-")]
    names: list[str] = []
    node: Any = root
    for word in words:
        commands = getattr(node, "commands", None)  # a command group (TyperGroup)
        if not isinstance(commands, dict) or word not in commands:
            break
        names.append(word)
        node = commands[word]
    return " ".join(names) or "…"


def _fail(message: str, code: int) -> int:
    typer.echo(f"error: {message}", err=True)
    return code


def run_command(argv: Sequence[str]) -> None:
    """Run one CLI command in-process and let its errors propagate.

    Batch reprocessing and notebooks use this to call exactly the commands a
    user would type; a :class:`PipelineError` (or a usage error) is raised,
    not printed.
    """
    command = typer.main.get_command(build_app())
    try:
        command.main(args=list(argv), prog_name="shimanto", standalone_mode=False)
    except typer.Exit as exc:
        if exc.exit_code:
            raise PipelineError(f"'shimanto {' '.join(argv)}' exited with status {exc.exit_code}") from exc


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the process exit status.

    Bad arguments and :class:`PipelineError` give one ``error: ...`` line on
    stderr and a non-zero status; unexpected exceptions keep their traceback.
    """
    command = typer.main.get_command(build_app())
    try:
        status = command.main(args=list(argv) if argv is not None else None, prog_name="shimanto",
                              standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        return _fail("aborted", 130)
    except click_exceptions.UsageError as exc:
        hint = f"; see '{exc.ctx.command_path} --help'" if exc.ctx is not None else ""
        return _fail(exc.format_message() + hint, exc.exit_code)
    except click_exceptions.ClickException as exc:
        return _fail(exc.format_message(), exc.exit_code)
    except PipelineError as exc:
        return _fail(str(exc), exc.exit_code)
    except ModuleNotFoundError as exc:
        message = missing_extra_message(exc.name, _command_path(command, argv))
        if message is None:
            raise
        return _fail(message, DependencyMissingError.exit_code)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    if status == 130:  # typer turns Ctrl-C into Exit(130) and, not standalone, returns that status
        return _fail("interrupted", 130)
    return 0


if __name__ == "__main__":
    sys.exit(main())
