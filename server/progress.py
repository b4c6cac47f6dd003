"""Progress of long work on stderr: rich bars on a terminal, plain timed lines in a log or a pipe."""
from __future__ import annotations

import time

from ingest.pipeline import Progress

STAGE_LABELS = {
    "parse": "Reading papers",
    "embed": "Embedding chunks",
    "fetch": "Fetching documents",
    "store": "Storing passages",
    "commitments": "Finding commitments",
    "publish": "Publishing the index",
}
PLAIN_INTERVAL_SECONDS = 5.0  # a plain line at most this often per stage, besides its first and last


def progress_for(stream, enabled: bool = True) -> Progress:
    """Bars when `stream` is a terminal, lines otherwise, so a log or a CI run shows progress too."""
    if not enabled:
        return RichProgress(enabled=False)
    return RichProgress() if stream.isatty() else PlainProgress(stream)


class RichProgress(Progress):
    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self._bars = None
        self._tasks: dict[str, int] = {}

    def __enter__(self) -> "RichProgress":
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bars, TextColumn, TimeElapsedColumn

            self._bars = Bars(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                              console=Console(stderr=True), transient=False)
            self._bars.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._bars is not None:
            self._bars.stop()

    def start(self, stage: str, total: int | None) -> None:
        """A bar for a counted stage; a pulsing bar with the time taken for one without a count."""
        if self._bars is not None and total != 0:
            self._tasks[stage] = self._bars.add_task(STAGE_LABELS.get(stage, stage), total=total)

    def extend(self, stage: str, amount: int) -> None:
        if self._bars is None or not amount:
            return
        if stage in self._tasks:
            task = self._tasks[stage]
            self._bars.update(task, total=self._bars.tasks[task].total + amount)
        else:
            self.start(stage, amount)

    def finish(self, stage: str) -> None:
        if self._bars is not None and stage in self._tasks:
            self._bars.update(self._tasks[stage], total=1, completed=1)

    def advance(self, stage: str, amount: int = 1) -> None:
        if self._bars is not None and stage in self._tasks:
            self._bars.advance(self._tasks[stage], amount)

    def note(self, message: str) -> None:
        if self._bars is not None:
            from rich.markup import escape

            self._bars.console.print(f"[yellow]note:[/] {escape(message)}", highlight=False)


class PlainProgress(Progress):
    """"Reading papers: 12/40 (31 s)" lines: on each stage's start and end, and every few seconds between."""

    def __init__(self, stream):
        self.stream = stream
        self._totals: dict[str, int] = {}
        self._done: dict[str, int] = {}
        self._started: dict[str, float] = {}
        self._printed: dict[str, float] = {}

    def __enter__(self) -> "PlainProgress":
        return self

    def __exit__(self, *exc) -> None:
        pass

    def _line(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def _report(self, stage: str) -> None:
        now = time.monotonic()
        self._printed[stage] = now
        label = STAGE_LABELS.get(stage, stage)
        self._line(f"{label}: {self._done[stage]}/{self._totals[stage]} ({now - self._started[stage]:.0f} s)")

    def start(self, stage: str, total: int) -> None:
        if not total:
            return
        self._totals[stage], self._done[stage], self._started[stage] = total, 0, time.monotonic()
        self._report(stage)

    def extend(self, stage: str, amount: int) -> None:
        if not amount:
            return
        if stage in self._totals:
            self._totals[stage] += amount
        else:
            self.start(stage, amount)

    def advance(self, stage: str, amount: int = 1) -> None:
        if stage not in self._totals:
            return
        self._done[stage] += amount
        finished = self._done[stage] >= self._totals[stage]
        if finished or time.monotonic() - self._printed[stage] >= PLAIN_INTERVAL_SECONDS:
            self._report(stage)

    def note(self, message: str) -> None:
        self._line(f"note: {message}")
