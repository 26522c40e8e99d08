"""The executors of one run: which one takes a batch's per-image work."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tools.execution.images import ImageWorkers
from tools.execution.inprocess import InProcess
from tools.execution.pool import WorkerPool
from tools.execution.run import ExecutionOptions, RunExecutors


def executors(options: ExecutionOptions, made: list[str]) -> RunExecutors:
    here = ImageWorkers.here(lambda: None, lambda path: np.zeros(1), lambda path, box: None)
    return RunExecutors(options, critic_config=lambda: None, here=lambda: here,
                        on_pool=lambda: made.append("pool"))


def test_one_worker_runs_everything_here_and_never_makes_a_pool() -> None:
    made: list[str] = []
    run = executors(ExecutionOptions(workers=1), made)
    assert isinstance(run.images(50).pool, InProcess)
    run.start()
    run.close(lambda: set())
    assert made == []


def test_several_workers_take_batches_but_a_single_image_or_a_test_s_tool_stays_here() -> None:
    made: list[str] = []
    run = executors(ExecutionOptions(workers=2), made)
    assert isinstance(run.images(5).pool, WorkerPool)
    assert run.images(5) is run.render_ahead()._workers  # one pool for all of it
    assert isinstance(run.images(1).pool, InProcess)
    assert isinstance(run.images(5, own=True).pool, InProcess)
    assert made == ["pool"]  # made once, when first needed
    run.close(lambda: set())


def test_closing_deletes_what_was_drawn_ahead_and_never_recorded(tmp_path: Path) -> None:
    from tools.contracts import PlanItem
    from tools.execution.draw_ahead import DrawAhead
    from tools.generate.base import image_filename

    items = [PlanItem.model_validate({"id": f"face-{n}", "class": "face", "seed": n})
             for n in (1, 2)]
    paths = [tmp_path / image_filename(it, 0) for it in items]

    def draw(jobs: list) -> dict:
        for _, it in jobs:
            (tmp_path / image_filename(it, 0)).write_text(it.id)
        return {}

    run = executors(ExecutionOptions(), [])
    run.drawing_ahead = DrawAhead(draw, tmp_path, InProcess())
    run.drawing_ahead.start([(0, it) for it in items])  # the run stops before taking it
    run.close(lambda: {paths[0].resolve()})  # one of them was recorded all the same
    assert paths[0].exists() and not paths[1].exists()
    assert run.drawing_ahead is None
