"""Jobs for tests/tools/test_workers.py's pools, in a module that imports next to nothing:
a spawned worker imports the module a job is defined in."""

from __future__ import annotations

import os
import time
from pathlib import Path


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


def always_stop(n: int) -> int:
    import signal

    os.kill(os.getpid(), signal.SIGSTOP)
    return n
