"""The worker pool: results in item order, a dead worker's batch run again once, then a clean
error; and the critic, embedding and descriptor give on the pool what they give here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.tools.pool_jobs import always_die, die_once, square_later
from tools.contracts import PlanItem
from tools.critic import Critic, CriticConfig
from tools.errors import FacetoryError
from tools.generate.procedural import ProceduralGenerator
from tools.stores.embed import describe_file, embed_file
from tools.workers import ImageWorkers, WorkerPool


@pytest.fixture
def pool() -> Iterator[WorkerPool]:
    """Two worker processes, stopped after the test."""
    workers = WorkerPool(2)
    yield workers
    workers.close()


def test_results_come_back_in_item_order_whatever_finishes_first(pool: WorkerPool) -> None:
    assert pool.map(square_later, list(range(12)), what="squaring") == [
        n * n for n in range(12)
    ]


def test_a_worker_that_dies_mid_batch_is_replaced_and_the_whole_batch_runs_again(
    pool: WorkerPool, tmp_path: Path,
) -> None:
    marker = str(tmp_path / "died")
    assert pool.map(die_once, [(marker, n) for n in range(8)], what="adding") == [
        n + 100 for n in range(8)
    ]
    assert Path(marker).exists()


def test_a_worker_that_dies_again_fails_the_batch_with_one_clear_line(pool: WorkerPool) -> None:
    with pytest.raises(FacetoryError, match="died twice while dying on purpose"):
        pool.map(always_die, [1, 2, 3], what="dying on purpose")


def test_a_pool_needs_at_least_one_worker() -> None:
    with pytest.raises(FacetoryError, match="1 or more"):
        WorkerPool(0)


@pytest.mark.slow
def test_the_pool_judges_embeds_and_describes_exactly_as_this_process_does(
    tmp_path: Path,
) -> None:
    items = [
        PlanItem(id=f"i{n}", **{"class": "face"}, seed=n, faces=1,
                 attributes={"eyewear": "glasses" if n % 2 else "none"})
        for n in range(4)
    ]
    images = ProceduralGenerator(image_size=128).generate(items, tmp_path)
    paths = [Path(image.path) for image in images]
    boxes = [(16.0, 16.0, 112.0, 112.0)] * len(paths)
    config = CriticConfig()
    local = Critic(config)

    workers = ImageWorkers(2, config)
    try:
        verdicts = workers.judge_many(list(zip(paths, items, strict=True)))
        vectors = workers.embed_many(paths)
        descriptors = workers.describe_many(list(zip(paths, boxes, strict=True)))
    finally:
        workers.close()

    assert verdicts == [local.judge(p, i) for p, i in zip(paths, items, strict=True)]
    for vector, path in zip(vectors, paths, strict=True):
        np.testing.assert_array_equal(vector, embed_file(path))
    for descriptor, path, box in zip(descriptors, paths, boxes, strict=True):
        np.testing.assert_array_equal(descriptor, describe_file(path, box))


def test_a_pool_started_without_a_critic_refuses_to_judge() -> None:
    with pytest.raises(FacetoryError, match="without a critic"):
        ImageWorkers(1).judge_many([])


def test_a_critic_the_workers_cannot_build_is_one_clear_error_not_a_dead_worker(
    tmp_path: Path,
) -> None:
    item = PlanItem(id="i0", **{"class": "face"}, seed=0, faces=1, attributes={})
    workers = ImageWorkers(2, CriticConfig(landmark_points=7))
    try:
        with pytest.raises(FacetoryError, match="landmark_points must be 5 or 68"):
            workers.judge_many([(tmp_path / "a.png", item), (tmp_path / "b.png", item)])
    finally:
        workers.close()


def test_a_batch_started_in_the_background_comes_back_in_item_order(pool: WorkerPool) -> None:
    pending = pool.map_async(square_later, list(range(12)), what="squaring")
    assert pending.result() == [n * n for n in range(12)]
    assert pending.done() and not pending.retried


def test_a_worker_that_dies_in_a_background_batch_makes_it_run_again_whole(
    pool: WorkerPool, tmp_path: Path,
) -> None:
    marker = str(tmp_path / "died")
    pending = pool.map_async(die_once, [(marker, n) for n in range(8)], what="adding")
    assert pending.result() == [n + 100 for n in range(8)]
    assert pending.retried and Path(marker).exists()


def test_a_background_batch_whose_worker_dies_again_fails_with_one_clear_line(
    pool: WorkerPool,
) -> None:
    pending = pool.map_async(always_die, [1, 2, 3], what="dying on purpose")
    with pytest.raises(FacetoryError, match="died twice while dying on purpose"):
        pending.result()
