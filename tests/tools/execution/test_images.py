"""A batch's per-image work on any executor: worker processes give exactly what this
process gives, and this process's own tools run where they are (`ImageWorkers.here`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tools.contracts import PlanItem
from tools.critic import Critic, CriticConfig
from tools.errors import FacetoryError
from tools.execution.images import ImageWorkers
from tools.execution.inprocess import InProcess
from tools.stores.embed import describe_file, embed_file


@pytest.mark.slow
def test_the_pool_judges_embeds_and_describes_exactly_as_this_process_does(
    drawn: list[tuple[Path, PlanItem]],
) -> None:
    paths = [path for path, _ in drawn]
    boxes = [(16.0, 16.0, 112.0, 112.0)] * len(paths)
    config = CriticConfig()
    local = Critic(config)

    workers = ImageWorkers.pooled(2, config)
    try:
        verdicts = workers.judge_many(drawn)
        vectors = workers.embed_many(paths)
        descriptors = workers.describe_many(list(zip(paths, boxes, strict=True)))
    finally:
        workers.close()

    assert verdicts == [local.judge(p, i) for p, i in drawn]
    for vector, path in zip(vectors, paths, strict=True):
        np.testing.assert_array_equal(vector, embed_file(path))
    for descriptor, path, box in zip(descriptors, paths, boxes, strict=True):
        np.testing.assert_array_equal(descriptor, describe_file(path, box))


def test_a_pool_started_without_a_critic_refuses_to_judge() -> None:
    with pytest.raises(FacetoryError, match="without a critic"):
        ImageWorkers.pooled(1).judge_many([])


def test_a_critic_the_workers_cannot_build_is_one_clear_error_not_a_dead_worker(
    tmp_path: Path,
) -> None:
    item = PlanItem(id="i0", **{"class": "face"}, seed=0, faces=1, attributes={})
    workers = ImageWorkers.pooled(2, CriticConfig(landmark_points=7))
    try:
        with pytest.raises(FacetoryError, match="landmark_points must be 5 or 68"):
            workers.judge_many([(tmp_path / "a.png", item), (tmp_path / "b.png", item)])
    finally:
        workers.close()


def test_this_process_s_own_tools_run_here_and_the_critic_is_built_only_to_judge(
    tmp_path: Path,
) -> None:
    built: list[str] = []

    def critic() -> Critic:
        built.append("critic")
        raise AssertionError("embedding needs no critic")

    here = ImageWorkers.here(critic, lambda path: np.array([len(path.name)]),
                             lambda path, box: np.array(box))
    assert isinstance(here.pool, InProcess)
    assert [v.tolist() for v in here.embed_many([tmp_path / "ab.png"])] == [[6]]
    assert [v.tolist() for v in here.describe_many([(tmp_path / "a.png", (1, 2, 3, 4))])] == [
        [1, 2, 3, 4]]
    assert built == []
