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
from dataclasses import dataclass
from typing import Protocol, TypeVar

from tools.config import STALL_SECONDS, WORKER_MEMORY_MB
from tools.errors import FacetoryError

T = TypeVar("T")
K = TypeVar("K")
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


def worker_cap(
    *, cpus: int | None = None, memory_mb: int | None = None,
    per_worker_mb: int = WORKER_MEMORY_MB,
) -> tuple[int, str]:
    """The most workers a machine holds, and why, in words: one per core, and no more than
    the available memory fits (a worker holds about `per_worker_mb`). `cpus` and `memory_mb`
    (None: unknown) are a Ray cluster's; without `cpus`, this machine's, measured now. A
    request over it once started 400 workers on 2 cores and ended in the kernel's OOM killer."""
    if cpus is None:
        cpus, memory_mb = cores(), available_mb()
    if memory_mb is None:
        return cpus, f"{cpus} cores"
    fits = max(1, memory_mb // per_worker_mb)
    why = f"{cpus} cores, {memory_mb / 1024:.1f} GB available at {per_worker_mb} MB a worker"
    return min(cpus, fits), why


def workers_within(asked: int, cap: tuple[int, str] | None) -> int:
    """`asked` workers as `cap` (`worker_cap`; None: not known yet) holds them; 0 or negative
    is refused."""
    if asked < 1:
        raise FacetoryError(f"workers must be 1 or more, not {asked}")
    return asked if cap is None else min(asked, cap[0])


class Stalled(Exception):
    """A batch made no progress for the stall timeout; its workers were ended: run it again."""


def _silent(line: str) -> None:
    """Says nothing (a `StallPolicy` nobody listens to)."""


@dataclass(frozen=True)
class StallPolicy:
    """How long a batch may make no progress, and what then happens: its workers are killed,
    it runs again once on fresh ones (said through `notice`), and a second stall is one line.
    The one policy of the process pool and of Ray's actors (a stopped or hung worker would
    otherwise hang the build with no message)."""

    seconds: float = STALL_SECONDS
    notice: Callable[[str], None] = _silent

    def __post_init__(self) -> None:
        if self.seconds <= 0:
            raise FacetoryError(f"the stall timeout must be above 0 seconds, not {self.seconds}")

    def watch(
        self, waiting: set[K], *, wait: Callable[[set[K], float], tuple[set[K], set[K]]],
        busy: Callable[[set[K]], object],
    ) -> set[K]:
        """Wait until every task of `waiting` has ended (then nothing is returned); the tasks
        still waiting when for `seconds` none ended and no worker ran. `wait(tasks, timeout)`
        gives (ended, still waiting), `busy(tasks)` a snapshot of the CPU time used by the
        workers of those still waiting (a worker loading its models or judging a slow image
        uses some, a stopped or blocked one none)."""
        before = busy(waiting)
        while waiting:
            ended, waiting = wait(waiting, self.seconds)
            was, before = before, busy(waiting)
            if not ended and before == was:
                return waiting
        return set()

    def stalled(self, stuck: str, *, what: str, last: bool, again: str) -> Exception:
        """What to raise for a stalled batch whose workers (`stuck` names them) were killed:
        on the `last` attempt a FacetoryError, else `Stalled` (said through `notice`, with
        `again` saying where the batch runs again)."""
        line = f"{stuck} made no progress for {self.seconds:g} s while {what}"
        if last:
            return FacetoryError(
                f"{line}, twice; nothing of the batch was recorded. Check the machine "
                "(a stopped or swapping process), then run again to resume")
        self.notice(f"{line}: running the batch again {again}")
        return Stalled(line)


def _stat_fields(path: str) -> list[str]:
    """A /proc stat file's fields after the command name (state first); empty: unreadable."""
    try:
        with open(path, encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def process_state(pid: int) -> str:
    """The process's state letter (T: stopped); empty when it cannot be read."""
    return (_stat_fields(f"/proc/{pid}/stat") or [""])[0]


def cpu_ticks(pid: int, *, main_thread: bool = False) -> int:
    """User and system CPU time of a process in clock ticks, or of its `main_thread` only
    (where a Ray actor runs its tasks: its other threads tick even while it waits for work);
    -1 when it cannot be read (then only finished tasks count as progress)."""
    path = f"/proc/{pid}/task/{pid}/stat" if main_thread else f"/proc/{pid}/stat"
    fields = _stat_fields(path)
    return int(fields[11]) + int(fields[12]) if len(fields) > 12 else -1
