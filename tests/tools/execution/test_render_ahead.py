"""Batches drawn and judged on the pool ahead of the batch that takes them: a batch gets
exactly what drawing and judging it in this process gives, whatever was started ahead, a
worker killed mid-batch makes the batch run again whole, and what was drawn ahead and never
recorded is deleted when the build stops."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.config import ProceduralConfig
from tools.contracts import PlanItem
from tools.critic import Critic, CriticConfig
from tools.execution.image_tasks import RenderJob
from tools.execution.images import ImageWorkers
from tools.execution.render_ahead import RenderAhead
from tools.generate.procedural import ProceduralGenerator

pytestmark = pytest.mark.slow  # a real pool: its workers load the critic's models

SIZE = 128


@pytest.fixture(scope="module")
def workers() -> Iterator[ImageWorkers]:
    pool = ImageWorkers.pooled(2, CriticConfig())
    yield pool
    pool.close()


def items(seeds: list[int]) -> list[PlanItem]:
    return [PlanItem(id=f"i{k}", **{"class": "face"}, seed=seed, faces=1, attributes={})
            for k, seed in enumerate(seeds)]


def jobs(batch: list[PlanItem], out: Path) -> list[RenderJob]:
    recipes = ProceduralGenerator(ProceduralConfig(fault_rate=0.3), image_size=SIZE).recipes(batch)
    return [RenderJob(recipe=r, image_size=SIZE, out_dir=out, attempt=0, judge=r.item)
            for r in recipes]


def drawn_here(batch: list[PlanItem], out: Path) -> dict[str, tuple[bytes, object]]:
    """file name -> (bytes, verdict) drawn and judged in this process, one by one."""
    generator = ProceduralGenerator(ProceduralConfig(fault_rate=0.3), image_size=SIZE)
    images = generator.generate(batch, out)
    critic = Critic(CriticConfig())
    return {Path(i.path).name: (Path(i.path).read_bytes(), critic.judge(Path(i.path), item))
            for i, item in zip(images, batch, strict=True)}


def as_taken(taken: list, out: Path) -> dict[str, tuple[bytes, object]]:
    return {Path(p.image.path).name: ((out / Path(p.image.path).name).read_bytes(), p.verdict)
            for p in taken}


def test_a_batch_started_ahead_gets_what_drawing_it_here_gives(
    workers: ImageWorkers, tmp_path: Path
) -> None:
    first, second = items(list(range(10, 16))), items(list(range(20, 26)))
    second = [i.model_copy(update={"id": f"j{k}"}) for k, i in enumerate(second)]
    ahead = RenderAhead(workers)
    ahead.start(jobs(first, tmp_path / "pool"))
    ahead.start(jobs(second, tmp_path / "pool"))  # the next batch, while this one is taken

    assert as_taken(ahead.take(jobs(first, tmp_path / "pool")), tmp_path / "pool") == (
        drawn_here(first, tmp_path / "here"))
    assert as_taken(ahead.take(jobs(second, tmp_path / "pool")), tmp_path / "pool") == (
        drawn_here(second, tmp_path / "here"))


def test_a_guess_that_turned_out_wrong_is_waited_out_and_the_file_is_the_batchs_own(
    workers: ImageWorkers, tmp_path: Path
) -> None:
    guessed, actual = items([1, 2, 3, 4]), items([1, 2, 99, 4])  # same files, one other seed
    ahead = RenderAhead(workers)
    ahead.start(jobs(guessed, tmp_path / "pool"))

    taken = ahead.take(jobs(actual, tmp_path / "pool"))

    assert as_taken(taken, tmp_path / "pool") == drawn_here(actual, tmp_path / "here")


def test_a_worker_killed_mid_batch_makes_the_batch_run_again_whole(
    workers: ImageWorkers, tmp_path: Path
) -> None:
    batch = items(list(range(40, 52)))
    workers.start()
    assert workers.pool.map(abs, [-1, -2], what="warming up") == [1, 2]
    ahead = RenderAhead(workers)
    ahead.start(jobs(batch, tmp_path / "pool"))
    victim = next(iter(workers.pool._executor._processes))  # type: ignore[union-attr]
    os.kill(victim, signal.SIGKILL)

    taken = ahead.take(jobs(batch, tmp_path / "pool"))

    assert ahead.reruns == 1
    assert as_taken(taken, tmp_path / "pool") == drawn_here(batch, tmp_path / "here")
    assert not list((tmp_path / "pool").glob(".*.tmp")), "a killed writer's temp file was left"


def test_what_was_drawn_ahead_and_never_recorded_is_deleted_when_the_build_stops(
    workers: ImageWorkers, tmp_path: Path
) -> None:
    taken_batch, ahead_batch = items([5, 6]), items([7, 8])
    ahead_batch = [i.model_copy(update={"id": f"next{k}"}) for k, i in enumerate(ahead_batch)]
    ahead = RenderAhead(workers)
    recorded = {p.image.path for p in ahead.take(jobs(taken_batch, tmp_path))}
    ahead.start(jobs(ahead_batch, tmp_path))

    ahead.close(lambda path: str(path) in recorded)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["i0-a0.png", "i1-a0.png"]
