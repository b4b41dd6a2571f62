"""Rich progress bars for anything that takes more than a couple of seconds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


def make_progress(console: Console | None = None, transient: bool = False) -> Progress:
    """A progress display with description, bar, count, elapsed and remaining time.

    Output goes to stderr so that stdout stays machine-readable.
    """
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console or Console(stderr=True),
        transient=transient,
    )


@contextmanager
def progress_task(description: str, total: float | None) -> Iterator[tuple[Progress, object]]:
    """Context manager yielding ``(progress, task_id)``; call ``progress.advance(task_id)``."""
    with make_progress() as progress:
        task_id = progress.add_task(description, total=total)
        yield progress, task_id
