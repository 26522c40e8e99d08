"""The build's live display: clocks that stop when a row is done, ETAs from measured rates."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from agent.cli import progress_display
from agent.cli.progress_display import ALL, TRAINING, BuildDisplay, duration, eta_seconds


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(progress_display.time, "monotonic", fake)
    return fake


def status(**accepted: int) -> dict:
    classes = {name: {"target": 10, "accepted": n, "attempts": n + 2} for name, n in
               accepted.items()}
    return {"classes": classes,
            "total": {"target": 10 * len(classes), "accepted": sum(accepted.values()),
                      "attempts": sum(c["attempts"] for c in classes.values())}}


def display() -> BuildDisplay:
    return BuildDisplay(Console(file=io.StringIO(), width=80))


def task(shown: BuildDisplay, name: str):
    return shown._task(shown.rows[name])


def test_a_finished_class_keeps_the_time_it_took_while_the_others_tick(clock: Clock) -> None:
    shown = display()
    clock.now += 10
    shown.show_status(status(a=10, b=4))
    clock.now += 50

    assert progress_display.row_seconds(task(shown, "a")) == 10
    assert progress_display.row_seconds(task(shown, "b")) == 60
    assert eta_seconds(task(shown, "a")) is None  # done: no ETA


def test_the_eta_is_what_is_left_at_the_rate_so_far(clock: Clock) -> None:
    shown = display()
    clock.now += 20
    shown.show_status(status(a=4, b=6))  # 10 of 20 in 20 s: 10 more take 20 s

    assert eta_seconds(task(shown, ALL)) == 20
    assert eta_seconds(task(shown, "a")) == 30  # 4 in 20 s, 6 left
    assert duration(30) == "30 s" and duration(180) == "3 min" and duration(5400) == "1.5 h"


def test_a_class_not_yet_begun_waits_above_all_classes_and_its_clock_starts_with_it(
        clock: Clock) -> None:
    shown = display()
    first = status(a=4, b=0)
    first["classes"]["b"]["attempts"] = 0
    clock.now += 10
    shown.show_status(first)
    assert [t.description for t in shown.progress.tasks] == ["a", "b", ALL]
    assert task(shown, "b").fields["info"] == "waiting"
    clock.now += 30
    assert progress_display.row_seconds(task(shown, "b")) == 0

    shown.show_status(status(a=8, b=2))  # b's first batch ends now: its clock starts with it
    clock.now += 5
    assert [t.description for t in shown.progress.tasks] == ["a", "b", ALL]
    assert progress_display.row_seconds(task(shown, "b")) == 35
    assert progress_display.row_seconds(task(shown, ALL)) == 45


def test_drawing_that_ends_short_stops_every_clock(clock: Clock) -> None:
    shown = display()
    clock.now += 5
    shown.show_status(status(a=3, b=10))
    shown.on_event({"event": "exported"})
    clock.now += 100

    assert progress_display.row_seconds(task(shown, "a")) == 5
    assert eta_seconds(task(shown, "a")) is None


def test_the_training_line_counts_the_collages_beside_the_exported_images(clock: Clock) -> None:
    shown = display()
    shown.on_event({"event": "training", "task": "detect", "images": 240, "collages": 120,
                    "epochs": 30, "model": "yolo11n", "log": None})
    with shown.progress:
        pass
    out = " ".join(shown.console.file.getvalue().split())
    assert "training YOLO detect on 240 images + 120 collages, 30 epochs (yolo11n)" in out


def test_training_is_one_row_with_seconds_per_epoch_times_epochs_left(clock: Clock) -> None:
    shown = display()
    shown.on_event({"event": "training", "task": "detect", "images": 240, "epochs": 30,
                    "model": "yolo11n", "log": "b/train.log"})
    clock.now += 12 * 6
    shown.on_event({"event": "train_epoch", "epoch": 12, "epochs": 30})

    assert eta_seconds(task(shown, TRAINING)) == 18 * 6
    with shown.progress:
        pass
    out = shown.console.file.getvalue()
    assert "training YOLO detect on 240 images, 30 epochs (yolo11n); its output is in " \
           "b/train.log" in " ".join(out.split())
    assert "12/30" in out and "ETA 2 min" in out
    assert all(len(line) <= 80 for line in out.splitlines())
