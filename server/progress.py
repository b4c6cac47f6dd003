"""Progress bars for long work, drawn with rich on stderr."""
from __future__ import annotations

from ingest.pipeline import Progress

STAGE_LABELS = {"parse": "Reading papers", "embed": "Embedding chunks"}


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

    def start(self, stage: str, total: int) -> None:
        if self._bars is not None and total:
            self._tasks[stage] = self._bars.add_task(STAGE_LABELS.get(stage, stage), total=total)

    def extend(self, stage: str, amount: int) -> None:
        if self._bars is None or not amount:
            return
        if stage in self._tasks:
            task = self._tasks[stage]
            self._bars.update(task, total=self._bars.tasks[task].total + amount)
        else:
            self.start(stage, amount)

    def advance(self, stage: str, amount: int = 1) -> None:
        if self._bars is not None and stage in self._tasks:
            self._bars.advance(self._tasks[stage], amount)

    def note(self, message: str) -> None:
        if self._bars is not None:
            from rich.markup import escape

            self._bars.console.print(f"[yellow]skipped:[/] {escape(message)}", highlight=False)
