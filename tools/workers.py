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
  so a caller records one batch while the pool works on the next (`agent.runtime.render_ahead`
  draws and judges the procedural renderer's batches that way, `tools.render_jobs`);
- the caller commits a batch only after every result of it is in: a worker that dies
  (`BrokenProcessPool`) makes the whole batch run again in a fresh pool, once; a second
  death is a `FacetoryError`, and nothing of the batch was written. A batch none of whose
  tasks finishes for `stall_seconds` (a stopped or hung worker) is treated the same way:
  its workers are killed and it runs again in a fresh pool, once; a second stall is a
  `FacetoryError` naming the worker;
- a pool never has more workers than the machine holds (`worker_cap`: the cores, and the
  memory available at start-up at `tools.config.WORKER_MEMORY_MB` a worker).

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
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import numpy as np

from tools.config import STALL_SECONDS, WORKER_MEMORY_MB
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
        size = max(1, math.ceil(len(items) / (self.workers * CHUNKS_PER_WORKER)))
        chunks = [list(items[i:i + size]) for i in range(0, len(items), size)]
        for attempt in range(attempts):
            try:
                with _sigint_blocked():  # submitting may start workers
                    pool = self._pool()
                    tasks = [pool.submit(_run_chunk, fn, chunk) for chunk in chunks]
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


def make_pool(
    workers: int,
    *,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
    executor: str = "local",
    address: str | None = None,
    stall_seconds: float = STALL_SECONDS,
    notice: Callable[[str], None] | None = None,
) -> WorkerPool | RayPool:
    """A `WorkerPool` (`executor` local) or a `RayPool` of `workers` actors (ray): both have
    `map`, `map_async`, `start` and `close` with the same guarantees (the stall timeout and
    the machine's cap are the local pool's)."""
    if executor == "ray":
        from tools.ray_executor import RayPool

        return RayPool(workers, initializer=initializer, initargs=initargs, address=address)
    return WorkerPool(workers, initializer=initializer, initargs=initargs,
                      stall_seconds=stall_seconds, notice=notice)


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


class ImageWorkers:
    """The critic, the image embedding and the face descriptor on a `WorkerPool`.

    `critic_config` (a `tools.critic.CriticConfig`) is what every worker's critic is built
    from; None when this pool is not asked to judge. `executor` and `address`: `make_pool`.
    """

    def __init__(
        self, workers: int, critic_config: Any = None, *, executor: str = "local",
        address: str | None = None, stall_seconds: float = STALL_SECONDS,
        notice: Callable[[str], None] | None = None,
    ) -> None:
        self.pool = make_pool(workers, initializer=_start_worker, initargs=(critic_config,),
                              executor=executor, address=address,
                              stall_seconds=stall_seconds, notice=notice)
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
