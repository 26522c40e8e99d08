"""The worker pool's interface on Ray, on a Ray started here on the CPU (`local_ray`):
results in item order from real actors (also for work started ahead), a dead actor's batch
run again once, then a clean error; images read by actors travel as bytes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tools.execution.pool_jobs import (
    always_die,
    die_once,
    in_actor,
    map_past_one_stop,
    square_later,
    stalled_twice,
)
from tools.contracts import PlanItem
from tools.critic import Critic, CriticConfig
from tools.errors import FacetoryError
from tools.execution.images import ImageWorkers
from tools.execution.ray_actors import (
    RayPool,
    _land,
    _refused_for_token,
    _ship,
    cluster_cap,
    cluster_cpus,
)


@pytest.fixture
def pool(local_ray: None) -> Iterator[RayPool]:
    """Two actors on the Ray started here, stopped after the test."""
    actors = RayPool(2)
    yield actors
    actors.close()


def test_results_come_back_in_item_order_from_ray_actors(pool: RayPool) -> None:
    assert pool.map(square_later, list(range(12)), what="squaring") == [
        n * n for n in range(12)
    ]
    assert all(pool.map(in_actor, [1, 2, 3], what="asking"))


def test_a_pool_without_a_size_has_one_actor_per_cpu_of_the_cluster(local_ray: None) -> None:
    assert RayPool().workers == cluster_cpus() >= 1


def test_a_pool_never_has_more_actors_than_the_cluster_holds(local_ray: None) -> None:
    # more than the cluster's CPUs would wait for one for ever: the batch would never end
    assert RayPool(999).workers == cluster_cap()[0] <= cluster_cpus()
    assert "cores" in cluster_cap()[1]
    with pytest.raises(FacetoryError, match="1 or more"):
        RayPool(0)


def test_a_stopped_actor_is_killed_and_its_batch_runs_again_on_fresh_actors(
    local_ray: None, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    map_past_one_stop(RayPool(2, stall_seconds=5, notice=print), tmp_path)
    said = capsys.readouterr().out
    assert "stopped Ray actor (pid " in said
    assert "made no progress for 5 s while adding: running the batch again on fresh actors" \
        in said


def test_actors_that_stall_again_fail_the_batch_with_one_line_naming_them(
    local_ray: None,
) -> None:
    message = stalled_twice(RayPool(2, stall_seconds=5))
    assert "stopped Ray actors (pid " in message
    assert "made no progress for 5 s while stopping on purpose, twice" in message


def test_an_actor_that_dies_mid_batch_is_replaced_and_the_whole_batch_runs_again(
    pool: RayPool, tmp_path: Path
) -> None:
    marker = str(tmp_path / "died")
    assert pool.map(die_once, [(marker, n) for n in range(8)], what="adding") == [
        n + 100 for n in range(8)
    ]
    assert Path(marker).exists()


def test_an_actor_that_dies_again_fails_the_batch_with_one_clear_line(pool: RayPool) -> None:
    with pytest.raises(FacetoryError, match="died twice while dying on purpose"):
        pool.map(always_die, [1, 2, 3], what="dying on purpose")


def test_work_started_ahead_gives_in_item_order_what_map_gives(pool: RayPool) -> None:
    pending = pool.map_async(square_later, list(range(8)), what="squaring")
    pending.wait()
    assert pending.done()
    assert pending.result() == [n * n for n in range(8)] and not pending.retried


def test_an_actor_that_dies_under_work_started_ahead_runs_the_items_again_once(
    pool: RayPool, tmp_path: Path
) -> None:
    marker = str(tmp_path / "died")
    pending = pool.map_async(die_once, [(marker, n) for n in range(8)], what="adding")
    assert pending.result() == [n + 100 for n in range(8)]
    assert pending.retried and Path(marker).exists()


def test_the_critic_on_ray_judges_exactly_as_this_process_does(
    local_ray: None, drawn: list[tuple[Path, PlanItem]]
) -> None:
    config = CriticConfig()
    workers = ImageWorkers.pooled(2, config, executor="ray")
    try:
        verdicts = workers.judge_many(drawn)
    finally:
        workers.close()
    local = Critic(config)
    assert verdicts == [local.judge(path, item) for path, item in drawn]


def test_an_error_raised_on_an_actor_is_its_own_one_line_error(
    local_ray: None, tmp_path: Path
) -> None:
    item = PlanItem(id="i0", **{"class": "face"}, seed=0, faces=1, attributes={})
    workers = ImageWorkers.pooled(2, CriticConfig(landmark_points=7), executor="ray")
    try:
        with pytest.raises(FacetoryError, match="landmark_points must be 5 or 68") as caught:
            workers.judge_many([(tmp_path / "a.png", item), (tmp_path / "b.png", item)])
    finally:
        workers.close()
    assert "\n" not in str(caught.value)


def test_an_image_a_node_cannot_see_reaches_it_as_bytes_under_the_same_name(
    tmp_path: Path,
) -> None:
    image = tmp_path / "driver" / "i0-a0.png"
    image.parent.mkdir()
    image.write_bytes(b"\x89PNG pixels")
    shipped = _ship((image, "label"))
    image.unlink()  # as on another node, where the driver's path does not exist
    landed, label = _land(shipped, tmp_path / "node")
    assert landed.name == "i0-a0.png" and landed.read_bytes() == b"\x89PNG pixels"
    assert label == "label"


def test_a_refused_token_is_told_apart_from_a_cluster_that_is_not_there() -> None:
    # how Ray 2.60's ray.init reports a token the head node refuses: the refusal's text
    # inside the RuntimeError a ConnectionError is raised from
    try:
        try:
            raise RuntimeError("Failed to connect to GCS. Last connection error: RPC error: "
                               "InvalidAuthToken: Authentication token is missing")
        except RuntimeError as cause:
            raise ConnectionError("Failed to connect to Ray cluster") from cause
    except ConnectionError as refused:
        assert _refused_for_token(refused)
    assert not _refused_for_token(ConnectionError("Failed to connect to Ray cluster"))
