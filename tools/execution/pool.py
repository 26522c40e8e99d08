"""The executor on a pool of local processes (the standard library's `ProcessPoolExecutor`).

A build spends most of its CPU time on per-image work, each a pure function of its input,
so a pool runs it on every core:

- workers are started with `spawn` (no fork of a process holding sqlite and chromadb
  handles), and each runs the caller's initializer once (the critic's models: about 2 CPU-s);
- results come back in the order of the inputs (`tools.execution.base`);
- the caller commits a batch only after every result of it is in: a worker that dies
  (`BrokenProcessPool`) makes the whole batch run again in a fresh pool, once; a second
  death is a `FacetoryError`, and nothing of the batch was written. A batch none of whose
  tasks finishes for `stall_seconds` (a stopped or hung worker) is treated the same way
  (`tools.execution.base.StallPolicy`, Ray's too): its workers are killed and it runs again
  in a fresh pool, once; a second stall is a `FacetoryError` naming the worker;
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
from tools.execution.base import (
    Stalled,
    StallPolicy,
    chunks,
    cpu_ticks,
    process_state,
    worker_cap,
    workers_within,
)

T = TypeVar("T")
R = TypeVar("R")


class WorkerPool:
    """`map` over a pool of `workers` processes, retried once in a fresh pool if one dies or
    makes no progress for `stall_seconds` (`StallPolicy`); `workers` is capped at
    `worker_cap`."""

    def __init__(
        self,
        workers: int,
        *,
        initializer: Callable[..., None] | None = None,
        initargs: tuple[Any, ...] = (),
        stall_seconds: float = STALL_SECONDS,
        notice: Callable[[str], None] | None = None,
    ) -> None:
        self.workers = workers_within(workers, worker_cap())
        self.stall = StallPolicy(stall_seconds, *([notice] if notice else []))
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
            except (BrokenProcessPool, Stalled):
                self._discard()
        raise FacetoryError(
            f"a worker process died twice while {what}; nothing of the batch was recorded. "
            "Free some memory or pass a smaller --workers, then run again to resume"
        )

    def collect(self, tasks: list[Future[R]], *, what: str, last: bool) -> list[R]:
        """The tasks' results in order. A stall (`StallPolicy`): the pool's workers are
        killed, and `Stalled` (run it again) or, on the `last` attempt, a FacetoryError
        naming the stuck worker."""
        if self.stall.watch(set(tasks), wait=_wait_raising, busy=self._cpu_ticks):
            raise self.stall.stalled(self._kill_stuck(), what=what, last=last,
                                     again="in a fresh pool")
        return [task.result() for task in tasks]

    def _cpu_ticks(self, waiting: object = None) -> dict[int, int]:
        """CPU time each worker has used so far (clock ticks): a worker that loads its
        models or judges a slow image uses some, a stopped or blocked one none."""
        pids = getattr(self._executor, "_processes", None) or {}
        return {pid: cpu_ticks(pid) for pid in pids}

    def _kill_stuck(self) -> str:
        """Kill this pool's workers and discard it; name the stuck ones (stopped, if any)."""
        executor, self._executor = self._executor, None
        pids = sorted(getattr(executor, "_processes", None) or {})
        stopped = [pid for pid in pids if process_state(pid) in {"T", "t"}]
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
            ended.join(self.stall.seconds)
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
            except (BrokenProcessPool, Stalled):
                if self._pool._executor is self._executor:  # not a fresh one since
                    self._pool._discard()
        self.retried = True
        return self._pool._map(self._fn, self._items, what=self._what, attempts=1)

    def wait(self) -> None:
        """Wait until nothing of it runs any more, whatever its outcome (a stall kills the
        pool's workers, as in `result`)."""
        waiting = set(self._futures or ())
        if (self._pool.stall.watch(waiting, wait=_wait, busy=self._pool._cpu_ticks)
                and self._pool._executor is self._executor):
            self._pool._kill_stuck()
            futures.wait(waiting)  # the killed pool fails them at once


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


def _wait(waiting: set[Future[R]], timeout: float) -> tuple[set[Future[R]], set[Future[R]]]:
    """(ended, still waiting) after the first of `waiting` ends or `timeout` seconds."""
    done, pending = futures.wait(waiting, timeout=timeout, return_when=futures.FIRST_COMPLETED)
    return done, pending


def _wait_raising(waiting: set[Future[R]], timeout: float
                  ) -> tuple[set[Future[R]], set[Future[R]]]:
    """`_wait`, raising what an ended task raised: a dead worker's BrokenProcessPool now, not
    at the end."""
    done, pending = _wait(waiting, timeout)
    for task in done:
        task.result()
    return done, pending


def _run_chunk(fn: Callable[[T], R], chunk: list[T]) -> list[R]:
    """`fn` of each item of a chunk (one task: sending a task costs about a millisecond)."""
    return [fn(item) for item in chunk]


def _ready() -> None:
    """Nothing: a task that makes the pool start a worker."""
