"""Jobs for tests/tools/execution's pools, in a module that imports next to nothing:
a spawned worker imports the module a job is defined in."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any


def square_later(n: int) -> int:
    """Early items finish last: the answer must still come back in item order."""
    time.sleep(0.02 * (6 - n % 6))
    return n * n


def die_once(job: tuple[str, int]) -> int:
    """The first worker to get here dies (as if killed); everyone after it works."""
    marker, n = job
    if n == 3 and not os.path.exists(marker):
        Path(marker).write_text("died")
        os._exit(1)
    return n + 100


def always_die(n: int) -> int:
    os._exit(1)


def in_actor(n: int) -> bool:
    """Whether this runs in a Ray actor (not in the process that asked)."""
    import ray

    return ray.is_initialized() and ray.get_runtime_context().get_actor_id() is not None


def stop_once(job: tuple[str, int]) -> int:
    """The first worker to get here stops itself (as `kill -STOP` does): it never finishes
    and never dies; everyone after it works."""
    import signal

    marker, n = job
    if n == 3 and not os.path.exists(marker):
        Path(marker).write_text("stopped")
        os.kill(os.getpid(), signal.SIGSTOP)
    return n + 100


def map_past_one_stop(pool: Any, folder: Path) -> None:
    """`stop_once` over eight items on `pool` (a `BatchExecutor`, closed after): every answer
    comes back, in order, although one worker stopped for good."""
    marker = str(folder / "stopped")
    try:
        assert pool.map(stop_once, [(marker, n) for n in range(8)], what="adding") == [
            n + 100 for n in range(8)
        ]
    finally:
        pool.close()
    assert Path(marker).exists()


def stalled_twice(pool: Any) -> str:
    """The error of a batch started ahead on `pool` (closed after) whose workers stop, and
    stop again on fresh ones: one line, and no output."""
    import pytest

    from tools.errors import FacetoryError

    pending = pool.map_async(always_stop, [1, 2], what="stopping on purpose")
    with pytest.raises(FacetoryError) as failed:
        pending.result()
    pool.close()
    assert "\n" not in str(failed.value)
    return str(failed.value)


def always_stop(n: int) -> int:
    import signal

    os.kill(os.getpid(), signal.SIGSTOP)
    return n
