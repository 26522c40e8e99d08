"""The executor on a pool of local processes (the standard library's `ProcessPoolExecutor`).

A build spends most of its CPU time on per-image work, each a pure function of its input,
so a pool runs it on every core:

- workers are started with `spawn` (no fork of a process holding sqlite and chromadb
  handles), and each runs the caller's initializer once (the critic's models: about 2 CPU-s);
- results come back in the order of the inputs (`tools.execution.base`);
- the caller commits a batch only after every result of it is in: a worker that dies
  (`BrokenProcessPool`) makes the whole batch run again in a fresh pool, once; a second
  death is a `FacetoryError`, and nothing of the batch was written. A batch none of whose
  tasks finishes for `stall_seconds` (a stopped or hung worker) is treated the same way:
  its workers are killed and it runs again in a fresh pool, once; a second stall is a
  `FacetoryError` naming the worker;
- a pool never has more workers than the machine holds (`tools.execution.base.worker_cap`).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent import futures
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from typing import Any, Generic, TypeVar

from tools.config import STALL_SECONDS
from tools.errors import FacetoryError
from tools.execution.base import chunks, worker_cap

T = TypeVar("T")
R = TypeVar("R")


class WorkerPool:
    """`map` over a pool of `workers` processes, retried once in a fresh pool if one dies or
    makes no progress for `stall_seconds`; `workers` is capped at `worker_cap`."""

    def __init__(
        self,
        workers: int,
        *,
        initializer: Callable[..., None] | None = None,
        initargs: tuple[Any, ...] = (),
        stall_seconds: float = STALL_SECONDS,
        notice: Callable[[str], None] | None = None,
    ) -> None:
        if workers < 1:
            raise FacetoryError(f"workers must be 1 or more, not {workers}")
        if stall_seconds <= 0:
            raise FacetoryError(f"the stall timeout must be above 0 seconds, not {stall_seconds}")
        self.workers = min(workers, worker_cap()[0])
        self.stall_seconds = stall_seconds
        self._notice = notice or (lambda line: None)
        """Told, in one line, when a stalled batch runs again."""
        self._initializer = initializer
        self._initargs = initargs
        self._executor: ProcessPoolExecutor | None = None

    def map(self, fn: Callable[[T], R], items: Sequence[T], *, what: str) -> list[R]:
        """`fn` of every item, in the items' order; `what` names the work in an error.

        `fn` must be a module-level function (it is pickled by name).
        """
        return self._map(fn, items, what=what, attempts=2)

    def map_async(
        self, fn: Callable[[T], R], items: Sequence[T], *, what: str
    ) -> PoolPending[R]:
        """Start `fn` of every item now and return at once; `Pending.result()` is what `map`
        would have returned (a dead worker: the items run again in a fresh pool, once).

        One task an item, so a caller can start the next batch while it commits this one.
        """
        futures: list[Future[R]] | None = None
        try:
            with _sigint_blocked():
                pool = self._pool()
                futures = [pool.submit(fn, item) for item in items]
        except BrokenProcessPool:
            self._discard()
        return PoolPending(self, fn, list(items), what, futures)

    def _map(self, fn: Callable[[T], R], items: Sequence[T], *, what: str, attempts: int
             ) -> list[R]:
        if not items:
            return []
        parts = chunks(items, self.workers)
        for attempt in range(attempts):
            try:
                with _sigint_blocked():  # submitting may start workers
                    pool = self._pool()
                    tasks = [pool.submit(_run_chunk, fn, part) for part in parts]
                return [r for done in self.collect(tasks, what=what, last=attempt == attempts - 1)
                        for r in done]
            except BrokenProcessPool:
                self._discard()
        raise FacetoryError(
            f"a worker process died twice while {what}; nothing of the batch was recorded. "
            "Free some memory or pass a smaller --workers, then run again to resume"
        )

    def collect(self, tasks: list[Future[R]], *, what: str, last: bool) -> list[R]:
        """The tasks' results in order. None finishing for `stall_seconds`: the pool's
        workers are killed, and a BrokenProcessPool (run it again) or, on the `last`
        attempt, a FacetoryError naming the stuck worker."""
        waiting: set[Future[R]] = set(tasks)
        busy = self._cpu_ticks()
        while waiting:
            done, waiting = futures.wait(waiting, timeout=self.stall_seconds,
                                         return_when=futures.FIRST_COMPLETED)
            for task in done:
                task.result()  # a dead worker raises BrokenProcessPool now, not at the end
            was, busy = busy, self._cpu_ticks()
            if not done and busy == was:  # no task ended, no worker ran (loading is running)
                stuck = self._kill_stuck()
                line = (f"{stuck} made no progress for {self.stall_seconds:g} s while {what}")
                if last:
                    raise FacetoryError(
                        f"{line}, twice; nothing of the batch was recorded. Check the machine "
                        "(a stopped or swapping process), then run again to resume")
                self._notice(f"{line}: running the batch again in a fresh pool")
                raise BrokenProcessPool(line)
        return [task.result() for task in tasks]

    def _cpu_ticks(self) -> dict[int, int]:
        """CPU time each worker has used so far (clock ticks): a worker that loads its
        models or judges a slow image uses some, a stopped or blocked one none."""
        pids = getattr(self._executor, "_processes", None) or {}
        return {pid: _process_ticks(pid) for pid in pids}

    def _kill_stuck(self) -> str:
        """Kill this pool's workers and discard it; name the stuck ones (stopped, if any)."""
        executor, self._executor = self._executor, None
        pids = sorted(getattr(executor, "_processes", None) or {})
        stopped = [pid for pid in pids if _process_state(pid) in {"T", "t"}]
        for pid in pids:
            with suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        named = stopped or pids
        kind = "stopped " if stopped else ""
        return (f"{kind}worker process{'es' if len(named) > 1 else ''} "
                f"(pid {', '.join(map(str, named))})")

    def start(self) -> None:
        """Start every worker now, without waiting: their imports and model loading (about
        2 s each) then overlap whatever the caller does next instead of the first `map`.
        Does nothing when the pool is already up."""
        if self._executor is not None:
            return
        pool = self._pool()
        with _sigint_blocked():
            for _ in range(self.workers):
                pool.submit(_ready)

    def close(self) -> None:
        """Stop the workers (they are started again on the next `map`). A stopped worker
        would make this wait forever: one that did not end in `stall_seconds` is killed."""
        if self._executor is not None:
            executor = self._executor
            ended = threading.Thread(target=executor.shutdown,
                                     kwargs={"wait": True, "cancel_futures": True}, daemon=True)
            ended.start()
            ended.join(self.stall_seconds)
            if ended.is_alive():
                self._kill_stuck()
                ended.join()
            self._executor = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=self._initializer,
                initargs=self._initargs,
            )
        return self._executor

    def _discard(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


class PoolPending(Generic[R]):
    """The results of a `WorkerPool.map_async`, collected in item order by `result`."""

    def __init__(self, pool: WorkerPool, fn: Callable[[Any], R], items: list[Any], what: str,
                 futures: list[Future[R]] | None) -> None:
        self._pool, self._fn, self._items, self._what = pool, fn, items, what
        self._futures = futures
        self._executor = pool._executor  # the pool these tasks went to
        self.retried = False
        """Whether a worker died and the items ran again (a killed writer leaves temp files)."""

    def done(self) -> bool:
        """Whether every task has ended (so nothing of it still runs)."""
        return self._futures is None or all(f.done() for f in self._futures)

    def result(self) -> list[R]:
        """The results in item order; a worker death runs the items again in a fresh pool,
        once (the death already spent the first attempt)."""
        if self._futures is not None:
            try:
                return self._pool.collect(self._futures, what=self._what, last=False)
            except BrokenProcessPool:
                if self._pool._executor is self._executor:  # not a fresh one since
                    self._pool._discard()
        self.retried = True
        return self._pool._map(self._fn, self._items, what=self._what, attempts=1)

    def wait(self) -> None:
        """Wait until nothing of it runs any more, whatever its outcome (a stall kills the
        pool's workers, as in `result`)."""
        waiting = set(self._futures or ())
        busy = self._pool._cpu_ticks()
        while waiting:
            done, waiting = futures.wait(waiting, timeout=self._pool.stall_seconds,
                                         return_when=futures.FIRST_COMPLETED)
            was, busy = busy, self._pool._cpu_ticks()
            if not done and busy == was and self._pool._executor is self._executor:
                self._pool._kill_stuck()
                futures.wait(waiting)  # the killed pool fails them at once
                return


@contextmanager
def _sigint_blocked() -> Iterator[None]:
    """Block SIGINT in this thread while workers start: a started process inherits the mask,
    so a Ctrl-C while it imports stays pending until its initializer ignores it."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _run_chunk(fn: Callable[[T], R], chunk: list[T]) -> list[R]:
    """`fn` of each item of a chunk (one task: sending a task costs about a millisecond)."""
    return [fn(item) for item in chunk]


def _stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat's fields after the command name (state first); empty: unreadable."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def _process_state(pid: int) -> str:
    """The process's state letter (T: stopped); empty when it cannot be read."""
    return (_stat_fields(pid) or [""])[0]


def _process_ticks(pid: int) -> int:
    """User and system CPU time of a process in clock ticks; -1 when it cannot be read
    (then only finished tasks count as progress)."""
    fields = _stat_fields(pid)
    return int(fields[11]) + int(fields[12]) if len(fields) > 12 else -1


def _ready() -> None:
    """Nothing: a task that makes the pool start a worker."""
