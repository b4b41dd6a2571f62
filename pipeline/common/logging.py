"""Logging set-up, called once by the CLI (never at import time)."""

from __future__ import annotations

import logging

from rich.logging import RichHandler


def configure_logging(verbose: int = 0) -> None:
    """Route the ``pipeline`` loggers through rich to stderr.

    Args:
        verbose: 0 warnings, 1 info, 2+ debug.
    """
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = RichHandler(show_path=False, rich_tracebacks=False)
    root = logging.getLogger("pipeline")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
