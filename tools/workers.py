"""Drawing, critic verdicts, image embeddings and face descriptors on a pool of processes.

A build spends most of its CPU time here, one image at a time. Measured on one core of this
2-core machine, per 256 px procedural image: drawing and writing it about 27 ms, the critic
12-30 ms, the perceptual embedding 3 ms, and dlib's face descriptor about 105-120 ms (its
network, built without BLAS, is all of it: the 5-point landmarks take under 1 ms and batching
faces gains nothing). Each is a pure function of its input, so the standard library's
`ProcessPoolExecutor` runs them on every core:

- workers are started with `spawn` (no fork of a process holding sqlite and chromadb
  handles), and each loads the critic's models once, in its initializer (about 2 CPU-s);
- `map` hands back results in the order of its inputs, never in completion order, so what
  the caller commits does not depend on the number of workers or on their timing;
  `map_async` starts the work and returns at once (`Pending.result()` is what `map` gives),
  so a caller records one batch while the pool works on the next (`agent.build.render_ahead`
  draws and judges the procedural renderer's batches that way, `tools.render_jobs`);
- the caller commits a batch only after every result of it is in: a worker that dies
  (`BrokenProcessPool`) makes the whole batch run again in a fresh pool, once; a second
  death is a `FacetoryError`, and nothing of the batch was written.

Nothing here writes the manifest: the driver process keeps it, the one record of truth.
`make_pool` chooses the executor: this pool, or the same interface on Ray actors
(`tools.ray_executor.RayPool`, `--executor ray`).
"""

from __future__ import annotations

import math
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent import futures
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import numpy as np

from tools.contracts import Box, PlanItem, Verdict
from tools.errors import FacetoryError

if TYPE_CHECKING:
    from tools.ray_executor import RayPool
    from tools.render_jobs import Prepared, RenderJob

T = TypeVar("T")
R = TypeVar("R")

#: Tasks per worker a batch is cut into: small enough to balance uneven images, large
#: enough that sending a task (about a millisecond) stays small against judging it.
CHUNKS_PER_WORKER = 4

_critic: Any = None  # the critic of this worker process (see `_start_worker`)
_critic_error: FacetoryError | None = None  # why it could not be built


class WorkerPool:
    """`map` over a pool of `workers` processes, retried once in a fresh pool if one dies."""

    def __init__(
        self,
        workers: int,
        *,
        initializer: Callable[..., None] | None = None,
        initargs: tuple[Any, ...] = (),
    ) -> None:
        if workers < 1:
            raise FacetoryError(f"workers must be 1 or more, not {workers}")
        self.workers = workers
        self._initializer = initializer
        self._initargs = initargs
        self._executor: ProcessPoolExecutor | None = None

    def map(self, fn: Callable[[T], R], items: Sequence[T], *, what: str) -> list[R]:
        """`fn` of every item, in the items' order; `what` names the work in an error.

        `fn` must be a module-level function (it is pickled by name).
        """
        return self._map(fn, items, what=what, attempts=2)

    def map_async(self, fn: Callable[[T], R], items: Sequence[T], *, what: str) -> Pending[R]:
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
        return Pending(self, fn, list(items), what, futures)

    def _map(self, fn: Callable[[T], R], items: Sequence[T], *, what: str, attempts: int
             ) -> list[R]:
        if not items:
            return []
        chunk = max(1, math.ceil(len(items) / (self.workers * CHUNKS_PER_WORKER)))
        for _attempt in range(attempts):
            try:
                with _sigint_blocked():  # map submits (and may start workers) here
                    results = self._pool().map(fn, items, chunksize=chunk)
                return list(results)
            except BrokenProcessPool:
                self._discard()
        raise FacetoryError(
            f"a worker process died twice while {what}; nothing of the batch was recorded. "
            "Free some memory or pass a smaller --workers, then run again to resume"
        )

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
        """Stop the workers (they are started again on the next `map`)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
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


def make_pool(
    workers: int,
    *,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
    executor: str = "local",
    address: str | None = None,
) -> WorkerPool | RayPool:
    """A `WorkerPool` (`executor` local) or a `RayPool` of `workers` actors (ray): both have
    `map`, `map_async`, `start` and `close` with the same guarantees."""
    if executor == "ray":
        from tools.ray_executor import RayPool

        return RayPool(workers, initializer=initializer, initargs=initargs, address=address)
    return WorkerPool(workers, initializer=initializer, initargs=initargs)


class Pending(Generic[R]):
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
                return [future.result() for future in self._futures]
            except BrokenProcessPool:
                if self._pool._executor is self._executor:  # not a fresh one since
                    self._pool._discard()
        self.retried = True
        return self._pool._map(self._fn, self._items, what=self._what, attempts=1)

    def wait(self) -> None:
        """Wait until nothing of it runs any more, whatever its outcome."""
        if self._futures is not None:
            futures.wait(self._futures)


class ImageWorkers:
    """The critic, the image embedding and the face descriptor on a `WorkerPool`.

    `critic_config` (a `tools.critic.CriticConfig`) is what every worker's critic is built
    from; None when this pool is not asked to judge. `executor` and `address`: `make_pool`.
    """

    def __init__(
        self, workers: int, critic_config: Any = None, *, executor: str = "local",
        address: str | None = None,
    ) -> None:
        self.pool = make_pool(workers, initializer=_start_worker, initargs=(critic_config,),
                              executor=executor, address=address)
        self._judges = critic_config is not None
        self._ships = executor == "ray"
        """Ray's actors may run on nodes without the build's folder: what they draw comes
        back as bytes (`tools.render_jobs.prepare_shipped`); local workers write it."""

    def judge_many(self, pairs: Iterable[tuple[Path, PlanItem]]) -> list[Verdict]:
        """The critic's verdicts on (image path, plan item) pairs, in order."""
        if not self._judges:
            raise FacetoryError("this worker pool was started without a critic")
        return self.pool.map(_judge, list(pairs), what="judging a batch")

    def embed_many(self, paths: Iterable[Path]) -> list[np.ndarray]:
        """`tools.stores.embed.embed_file` of each path, in order."""
        return self.pool.map(_embed, list(paths), what="embedding a batch")

    def describe_many(self, pairs: Iterable[tuple[Path, Box]]) -> list[np.ndarray]:
        """`tools.stores.embed.describe_file` of each (path, face box), in order."""
        return self.pool.map(_describe, list(pairs), what="describing the faces of a batch")

    def prepare_async(self, jobs: Sequence[RenderJob]) -> Pending[Prepared]:
        """`tools.render_jobs.prepare` of each job (draw, judge, embed, describe), started
        now; `Pending.result()` gives them in order, and `tools.render_jobs.land` writes
        those drawn elsewhere (Ray) into the build."""
        from tools.render_jobs import prepare, prepare_shipped

        if not self._judges and any(job.judge is not None for job in jobs):
            raise FacetoryError("this worker pool was started without a critic")
        run = prepare_shipped if self._ships else prepare
        return self.pool.map_async(run, list(jobs), what="drawing and judging a batch")

    def start(self) -> None:
        self.pool.start()

    def close(self) -> None:
        self.pool.close()


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


def _start_worker(critic_config: Any) -> None:
    """Per worker: one OpenCV thread (the pool is the parallelism), the critic's models, and
    a watch on the driver: a driver killed with SIGKILL leaves no worker behind. Ctrl-C in a
    terminal reaches the whole process group: the driver alone decides what it means (finish
    the batch, then stop), so workers ignore it."""
    global _critic, _critic_error
    import cv2

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    cv2.setNumThreads(1)
    if critic_config is not None:
        from tools.critic import Critic

        try:
            _critic = Critic(critic_config)
        except FacetoryError as exc:  # raised by the first judging, as one clear line:
            _critic_error = exc  # a failing initializer would read as a dead worker


def _exit_with_parent() -> None:
    """Wait for the driver to end, then end this worker (its queues would wait forever)."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)


def _ready() -> None:
    """Nothing: a task that makes the pool start a worker."""


def worker_critic() -> Any:
    """The critic of this worker process (built once, by its initializer)."""
    if _critic_error is not None:
        raise _critic_error
    if _critic is None:
        raise FacetoryError("this worker pool was started without a critic")
    return _critic


def _judge(pair: tuple[Path, PlanItem]) -> Verdict:
    return worker_critic().judge(*pair)


def _embed(path: Path) -> np.ndarray:
    from tools.stores.embed import embed_file

    return embed_file(path)


def _describe(pair: tuple[Path, Box]) -> np.ndarray:
    from tools.stores.embed import describe_file

    return describe_file(*pair)
