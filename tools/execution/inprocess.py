"""The executor that runs everything in this process, at once (one worker, or a test's own
tools, which cannot be sent to another process)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class InProcess:
    """`BatchExecutor` in this process: `map_async` computes before it returns."""

    workers = 1

    def map(self, fn: Callable[[T], R], items: Sequence[T], *, what: str) -> list[R]:
        """`fn` of every item, in order (`what` is for the interface: errors are fn's own)."""
        return [fn(item) for item in items]

    def map_async(self, fn: Callable[[T], R], items: Sequence[T], *, what: str) -> Done[R]:
        """`map`, its outcome kept for `Done.result()` (an error is raised there, as a
        pool's would be)."""
        try:
            return Done(self.map(fn, items, what=what))
        except Exception as exc:  # noqa: BLE001 -- raised by result(), like a pool's
            return Done(error=exc)

    def start(self) -> None:
        """Nothing to start."""

    def close(self) -> None:
        """Nothing to stop."""


class Done(Generic[R]):
    """A `Pending` whose work has already ended."""

    retried = False

    def __init__(self, results: list[R] | None = None, error: Exception | None = None) -> None:
        self._results, self._error = results or [], error

    def done(self) -> bool:
        return True

    def result(self) -> list[R]:
        if self._error is not None:
            raise self._error
        return self._results

    def wait(self) -> None:
        """Nothing runs."""
