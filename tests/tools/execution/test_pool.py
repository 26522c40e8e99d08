"""The worker pool: results in item order, a dead worker's batch run again once, then a clean
error; and the critic, embedding and descriptor give on the pool what they give here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tools.execution.pool_jobs import (
    always_die,
    always_stop,
    die_once,
    map_past_one_stop,
    square_later,
    stalled_twice,
)
from tools.errors import FacetoryError
from tools.execution.base import cores, worker_cap
from tools.execution.pool import WorkerPool


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


def test_a_pool_never_has_more_workers_than_the_machine_holds() -> None:
    assert WorkerPool(999).workers == worker_cap()[0] <= cores()
    assert worker_cap(per_worker_mb=10**9)[0] == 1  # memory for not even one: still one
    assert "cores" in worker_cap()[1]


def stalling_pool() -> WorkerPool:
    """Two workers that count as stuck after 10 s without a finished task."""
    return WorkerPool(2, stall_seconds=10, notice=print)


def test_a_stopped_worker_is_killed_and_its_batch_runs_again_in_a_fresh_pool(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    map_past_one_stop(stalling_pool(), tmp_path)
    said = capsys.readouterr().out
    assert "made no progress for 10 s while adding: running the batch again" in said
    assert "stopped worker process (pid " in said


def test_a_batch_that_stalls_again_fails_with_one_line_naming_the_stopped_worker() -> None:
    message = stalled_twice(stalling_pool())
    assert "stopped worker process" in message
    assert "made no progress for 10 s while stopping on purpose, twice" in message


def test_closing_a_pool_with_a_stopped_worker_ends_it_instead_of_waiting_forever() -> None:
    pool = WorkerPool(1, stall_seconds=5)
    pending = pool.map_async(always_stop, [1], what="stopping")
    pending.wait()  # the stall kills the stopped worker: nothing of it runs any more
    assert pending.done()
    pool.map_async(always_stop, [2], what="stopping")
    pool.close()  # returns: the stopped worker is killed after the stall timeout


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
