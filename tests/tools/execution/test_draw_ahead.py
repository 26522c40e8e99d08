"""A diffusion model draws the next batch on a thread while this one is judged; the batch
takes those pictures only when they are exactly its own (a build that does so:
tests/agent/runtime/test_draw_ahead_build.py)."""

from __future__ import annotations

import threading
from pathlib import Path

from tools.contracts import GeneratedImage, PlanItem
from tools.execution.draw_ahead import DrawAhead, Job
from tools.execution.inprocess import InProcess
from tools.generate.base import image_filename


def item(n: int, prompt: str = "a face") -> PlanItem:
    return PlanItem.model_validate(
        {"id": f"face-{n:06d}", "class": "face", "prompt": prompt, "seed": n})


class Painter:
    """Writes one file a job and notes which thread drew which batch."""

    def __init__(self, out_dir: Path, fail: bool = False) -> None:
        self.out_dir, self.fail = out_dir, fail
        self.calls: list[tuple[str, list[str]]] = []

    def __call__(self, jobs: list[Job]) -> dict[str, GeneratedImage]:
        self.calls.append((threading.current_thread().name, [it.id for _, it in jobs]))
        if self.fail:
            raise RuntimeError("out of GPU memory")
        drawn = {}
        for attempt, it in jobs:
            path = self.out_dir / image_filename(it, attempt)
            path.write_text(it.prompt)
            drawn[f"{it.id}-a{attempt}"] = GeneratedImage(
                item_id=it.id, path=str(path), width=8, height=8, backend="painter",
                model="test", seed=it.seed)
        return drawn


def test_the_next_batch_drawn_ahead_is_taken_without_drawing_it_again(tmp_path: Path) -> None:
    painter = Painter(tmp_path)
    ahead = DrawAhead(painter, tmp_path)
    batch = [(0, item(1)), (0, item(2))]
    ahead.start(batch)
    drawn = ahead.take([(0, item(1)), (0, item(2))])  # equal jobs, built again by the batch
    assert drawn is not None and sorted(drawn) == ["face-000001-a0", "face-000002-a0"]
    assert len(painter.calls) == 1 and painter.calls[0][0].startswith("draw-ahead")
    ahead.close(lambda path: True)
    assert (tmp_path / "face-000001-a0.png").read_text() == "a face"


def test_a_speculation_the_batch_does_not_match_is_dropped_and_its_files_removed(
        tmp_path: Path) -> None:
    painter = Painter(tmp_path)
    ahead = DrawAhead(painter, tmp_path)
    ahead.start([(0, item(1)), (0, item(2))])
    # replanning changed one prompt before the batch came: not the same pictures
    assert ahead.take([(0, item(1)), (0, item(2, "a smiling face"))]) is None
    recorded = {tmp_path / "face-000001-a0.png"}  # the batch drew and recorded this one again
    ahead.close(lambda path: path in recorded)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["face-000001-a0.png"]


def test_a_speculation_that_failed_is_drawn_again_by_its_batch(tmp_path: Path) -> None:
    ahead = DrawAhead(Painter(tmp_path, fail=True), tmp_path)
    ahead.start([(0, item(1))])
    assert ahead.take([(0, item(1))]) is None  # the batch draws it and meets the error itself
    ahead.close(lambda path: False)


def test_draw_ahead_wraps_any_executor_and_takes_only_its_own_batch(tmp_path: Path) -> None:
    painter = Painter(tmp_path)
    ahead = DrawAhead(painter, tmp_path, InProcess())  # drawn at once, in this thread
    ahead.start([(0, item(1))])
    assert painter.calls == [(threading.current_thread().name, ["face-000001"])]
    assert ahead.take([(0, item(2))]) is None  # another batch: it draws its own
    ahead.close(lambda path: False)
    assert not (tmp_path / "face-000001-a0.png").exists()  # drawn ahead, never recorded
