"""What the commands share: here, how many worker processes a build gets by default."""

from __future__ import annotations

import os

from agent.cli.shared import IMAGES_PER_WORKER, default_workers


def test_a_small_build_is_judged_in_one_process() -> None:
    assert default_workers(IMAGES_PER_WORKER - 1) == 1
    assert default_workers(0) == 1


def test_a_large_build_gets_one_worker_per_core_it_may_use() -> None:
    cores = len(os.sched_getaffinity(0))
    assert default_workers(1_000_000) == cores
    assert default_workers(IMAGES_PER_WORKER * cores) == cores
