"""What the terminal shows while a command works: progress bars (on stderr, gone when done), the
cost lines of a training, and a stdout that survives a reader that went away.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from rich.console import Console


class PipeSafe:
    """A text stream (stdout) that turns a closed pipe into silence: ``initlab … | head`` keeps
    running and saving after ``head`` exits; ``broken`` says it happened (exit 141 at the end)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream, self.broken = stream, False

    def write(self, text: str) -> int:
        if not self.broken:
            try:
                self.stream.write(text)
            except BrokenPipeError:
                self._close()
        return len(text)

    def flush(self) -> None:
        if not self.broken:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._close()

    def _close(self) -> None:
        """From now on write nowhere, and let the interpreter's last flush find nothing."""
        self.broken = True
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
            os.close(devnull)

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding, …
        return getattr(self.stream, name)


STDOUT = PipeSafe(sys.stdout)


def bar_console(show: Console, err: Console) -> Console:
    """Where a progress bar goes: the output's terminal, else stderr (so a redirected or JSON
    stdout gets only results)."""
    return show if show.is_terminal and not show.quiet else err


@contextlib.contextmanager
def progress(console: Console, label: str) -> Iterator[Callable[[int, int], None]]:
    """A transient progress bar on ``console`` while the block runs; yields on_step(done, total).
    Lines printed on ``console`` meanwhile appear above the bar."""
    from rich.progress import (  # noqa: PLC0415
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    if not console.is_terminal:  # nothing to animate; write nothing
        yield lambda done, total: None
        return
    bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   console=console, transient=True, redirect_stdout=False,
                   redirect_stderr=False)
    task = bar.add_task(label, total=None)
    with bar:
        yield lambda done, total: bar.update(task, completed=done, total=total)


@contextlib.contextmanager
def training(show: Console, bar: Console, *, log_costs: bool) -> Iterator[Any]:
    """Runner callbacks: a progress bar on ``bar`` (``bar_console``) and, with ``log_costs``, on
    ``show`` the table at initialization (a single chunk's, as soon as it is known) and one line
    per logged cost (prefixed with the chunk when there are several)."""
    from initlab.experiments.runner import Callbacks  # noqa: PLC0415
    from initlab.reporting import run_tables  # noqa: PLC0415 (numpy: not for --help)

    def on_init_stats(chunk: Any, layers: Any) -> None:
        if chunk.count == 1:
            run_tables.layer_table(show, layers, "Per layer at initialization", symmetry=True)

    def on_log(chunk: Any, iteration: int, costs: Any) -> None:
        where = f"chunk {chunk.index + 1}/{chunk.count}" if chunk.count > 1 else ""
        show.print(run_tables.cost_line(iteration, costs, where), markup=False)

    with progress(bar, "training") as on_step:
        yield Callbacks(on_init_stats if log_costs else None, on_log if log_costs else None,
                        on_step)
