"""The executor that runs a batch on one background thread of this process: for work that
must stay here (a diffusion pipeline loaded once, on this process's GPU) but may overlap
what the driver does next (`tools.execution.draw_ahead`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class OnThread:
    """`BatchExecutor` on one thread: items run one after the other, in order."""

    workers = 1

    def __init__(self, name: str = "facetory") -> None:
        self._name = name
        self._thread: ThreadPoolExecutor | None = None

    def map(self, fn: Callable[[T], R], items: Sequence[T], *, what: str) -> list[R]:
        return self.map_async(fn, items, what=what).result()

    def map_async(self, fn: Callable[[T], R], items: Sequence[T], *, what: str
                  ) -> ThreadPending[R]:
        """Start the items on the thread (after whatever it runs now) and return at once."""
        return ThreadPending(self._pool().submit(lambda: [fn(item) for item in items]))

    def start(self) -> None:
        self._pool()

    def close(self) -> None:
        """Wait for the thread's work, then end it."""
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None

    def _pool(self) -> ThreadPoolExecutor:
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self._name)
        return self._thread


class ThreadPending(Generic[R]):
    """The results of `OnThread.map_async`."""

    retried = False

    def __init__(self, future: Future[list[R]]) -> None:
        self._future = future

    def done(self) -> bool:
        return self._future.done()

    def result(self) -> list[R]:
        return self._future.result()

    def wait(self) -> None:
        self._future.exception()  # waits; its error is the caller's to ask for
