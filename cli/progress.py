"""A rich progress display for jobs that report ``(stage, done, total)``: one bar per stage."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

StageProgress = Callable[[str, int, int], None]


@contextmanager
def staged_progress(console: Console, quiet: bool = False) -> Iterator[StageProgress]:
    """Yield the callback the ingestion pipelines take; each new stage gets its own bar."""
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
        TimeElapsedColumn(), console=console, disable=quiet,
    ) as progress:
        tasks: dict[str, int] = {}

        def on_progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        yield on_progress
