"""The one live progress display of a build: a row per class while images are drawn and judged,
a row for all of them, then one row for YOLO training, each with an ETA from its own rate so far.

A row's clock starts when its first batch starts and stops when the row is done (or the drawing
ends short), so a finished class shows the time it took instead of ticking on. The ETA is the
rate measured so far over what is left: accepted images per second for drawing, seconds per
epoch for training. Training's own output is not shown here (it goes to train.log).
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn
from rich.table import Column
from rich.text import Text

ALL = "all classes"
TRAINING = "training"


def _training_images(event: dict[str, Any]) -> str:
    """What training learns from: the export's training split and the collages beside it."""
    images = f"{event['images']:,} images"
    collages = event.get("collages") or 0
    return f"{images} + {collages:,} collages" if collages else images


def clock(seconds: float) -> str:
    """'1:05' or '1:02:05': elapsed time as a stopwatch shows it."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def duration(seconds: float) -> str:
    """'40 s', '3 min', '1.5 h': a time left in words a person reads at a glance."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def row_seconds(task: Task, now: float | None = None) -> float:
    """Seconds the row has run: frozen at its end once it has one."""
    if task.fields["began"] is None:  # a class still waiting for its first attempt
        return 0.0
    end = task.fields.get("ended") or (now if now is not None else time.monotonic())
    return max(0.0, end - task.fields["began"])


def eta_seconds(task: Task, now: float | None = None) -> float | None:
    """What is left at the rate so far (done per second since the row began); None before
    anything is done or once the row has ended."""
    if task.fields.get("ended") or not task.completed or task.total is None:
        return None
    spent = row_seconds(task, now)
    return max(0.0, (task.total - task.completed) * spent / task.completed)


class ClockColumn(ProgressColumn):
    """The row's own elapsed time, stopped when the row is done."""

    def render(self, task: Task) -> Text:
        return Text(clock(row_seconds(task)), style="progress.elapsed")


class EtaColumn(ProgressColumn):
    """'ETA 3 min' from the row's measured rate; 'done' or 'short' once it has ended."""

    def render(self, task: Task) -> Text:
        if task.fields.get("ended"):
            short = task.total is not None and task.completed < task.total
            return Text("short" if short else "done", style="yellow" if short else "green")
        left = eta_seconds(task)
        return Text("ETA --" if left is None else f"ETA {duration(left)}",
                    style="progress.remaining")


class BuildDisplay:
    """Rows per class, all classes and training, in one rich Progress; fed by the build's
    status after each batch (`show_status`) and by its events (`on_event`)."""

    def __init__(self, console: Console | None = None) -> None:
        # its own console on the stdout of now: training redirects sys.stdout into train.log
        # and the live display must keep drawing on the terminal meanwhile
        self.console = console or Console(file=sys.stdout)
        self.progress = Progress(
            TextColumn("{task.description}", table_column=Column(width=18, no_wrap=True,
                                                                 overflow="ellipsis")),
            BarColumn(bar_width=12),
            MofNCompleteColumn(table_column=Column(justify="right")),
            TextColumn("{task.fields[info]}", table_column=Column(width=16, no_wrap=True,
                                                                  overflow="ellipsis")),
            ClockColumn(),
            EtaColumn(),
            console=self.console,
        )
        self.rows: dict[str, Any] = {}
        self.last_update = time.monotonic()

    def __enter__(self) -> BuildDisplay:
        self.progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.end_drawing()
        self.progress.stop()

    def _task(self, task_id: Any) -> Task:
        return next(t for t in self.progress.tasks if t.id == task_id)

    def _row(self, name: str, total: int, began: float | None) -> Any:
        if name not in self.rows:
            self.rows[name] = self.progress.add_task(
                escape(name), total=total, info="", began=began, ended=None
            )
        return self.rows[name]

    def show_status(self, status: dict[str, Any]) -> None:
        """One batch committed: each class's accepted count against its target, and the whole."""
        now = time.monotonic()
        began = self.last_update  # a row first seen now began with the batch that ended now
        self.last_update = now
        for name, row in status["classes"].items():  # every class, so `all classes` stays last
            task_id = self._row(name, row["target"], None)
            if row["attempts"]:
                if self._task(task_id).fields["began"] is None:
                    self.progress.update(task_id, began=began)
                self._set(task_id, row["accepted"], row["target"], f"{row['attempts']} tried",
                          now)
            else:
                self.progress.update(task_id, info="waiting")
        total = status["total"]
        if len(status["classes"]) > 1 and total["attempts"]:
            self._set(self._row(ALL, total["target"], self._first_began()), total["accepted"],
                      total["target"], f"{total['attempts']} tried", now)
        self.progress.refresh()  # every batch is drawn, however fast the next one follows

    def _first_began(self) -> float:
        started = [self._task(t).fields["began"] for t in self.rows.values()]
        return min((b for b in started if b is not None), default=self.last_update)

    def _set(self, task_id: Any, done: int, target: int, info: str, now: float) -> None:
        ended = now if done >= target else None
        task = self._task(task_id)
        if task.fields.get("ended"):
            ended = task.fields["ended"]  # a finished row keeps the time it took
        self.progress.update(task_id, completed=min(done, target), info=info, ended=ended)

    def end_drawing(self) -> None:
        """Drawing is over (export or training began, or the run stopped): every clock stops."""
        now = time.monotonic()
        for name, task_id in self.rows.items():
            if name != TRAINING and not self._task(task_id).fields.get("ended"):
                self.progress.update(task_id, ended=now)

    def on_event(self, event: dict[str, Any]) -> None:
        """Training's start and each finished epoch (from the build's event log)."""
        kind = event.get("event")
        if kind in {"exported", "training"}:
            self.end_drawing()
        if kind == "training":
            epochs = event.get("epochs") or 0
            log = f"; its output is in {event['log']}" if event.get("log") else ""
            self.progress.console.print(
                f"training YOLO {event['task']} on {_training_images(event)}, {epochs} epochs "
                f"({event['model']}){log}",
                highlight=False, markup=False, soft_wrap=False,
            )
            self.rows[TRAINING] = self.progress.add_task(
                TRAINING, total=epochs or None, info="epochs", began=time.monotonic(), ended=None
            )
        elif kind == "train_epoch" and TRAINING in self.rows:
            task_id = self.rows[TRAINING]
            done, total = int(event["epoch"]), int(event["epochs"])
            ended = time.monotonic() if done >= total else None
            self.progress.update(task_id, completed=done, total=total, ended=ended)
            self.progress.refresh()
