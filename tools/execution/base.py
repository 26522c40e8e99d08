"""The interface every executor has, and how many local workers this machine holds.

An executor runs a module-level function over a batch's items and hands the results back in
the items' order, never in completion order, so what the driver records does not depend on
the executor, the number of workers or their timing. `map_async` starts the work and returns
at once; its `Pending.result()` is what `map` gives, so a caller records one batch while the
executor works on the next.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from tools.config import WORKER_MEMORY_MB

T = TypeVar("T")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)

#: Tasks per worker a batch is cut into: small enough to balance uneven images, large
#: enough that sending a task (about a millisecond) stays small against judging it.
CHUNKS_PER_WORKER = 4


class Pending(Protocol[R_co]):
    """Work started by `map_async`."""

    retried: bool
    """Whether a worker died and the items ran again (a killed writer leaves temp files)."""

    def done(self) -> bool:
        """Whether every task has ended (so nothing of it still runs)."""
        ...

    def result(self) -> list[R_co]:
        """The results in item order (raises what a task raised)."""
        ...

    def wait(self) -> None:
        """Wait until nothing of it runs any more, whatever its outcome."""
        ...


class BatchExecutor(Protocol):
    """Runs `fn` over a batch's items; results in item order."""

    @property
    def workers(self) -> int: ...

    def map(self, fn: Callable[[T], R], items: Sequence[T], *, what: str) -> list[R]:
        """`fn` of every item, in the items' order; `what` names the work in an error."""
        ...

    def map_async(self, fn: Callable[[T], R], items: Sequence[T], *, what: str) -> Pending[R]:
        """Start `fn` of every item now and return at once."""
        ...

    def start(self) -> None:
        """Start the workers now, so their loading overlaps what the caller does next."""
        ...

    def close(self) -> None:
        """Stop the workers (started again on the next `map`)."""
        ...


def chunks(items: Sequence[T], workers: int) -> list[list[T]]:
    """`items` cut into about `CHUNKS_PER_WORKER` tasks a worker, in order."""
    size = max(1, -(-len(items) // (workers * CHUNKS_PER_WORKER)))
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


def cores() -> int:
    """The cores this process may use (its affinity, where the system says)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def available_mb() -> int | None:
    """Memory available to new processes now, in MB (Linux's MemAvailable); None: unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20
    except (ValueError, OSError, AttributeError):
        return None


def worker_cap(*, per_worker_mb: int = WORKER_MEMORY_MB) -> tuple[int, str]:
    """The most local workers this machine holds, and why, in words: one per core, and no
    more than the available memory fits (a worker holds about `per_worker_mb`). A request
    over it once started 400 workers on 2 cores and ended in the kernel's OOM killer."""
    n_cores, memory = cores(), available_mb()
    if memory is None:
        return n_cores, f"{n_cores} cores"
    fits = max(1, memory // per_worker_mb)
    why = f"{n_cores} cores, {memory / 1024:.1f} GB available at {per_worker_mb} MB a worker"
    return min(n_cores, fits), why
