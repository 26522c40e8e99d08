"""The one-thread executor: work overlaps the caller and comes back in item order."""

from __future__ import annotations

import threading

import pytest

from tools.execution.thread import OnThread


def test_a_started_batch_runs_on_the_named_thread_while_the_caller_goes_on() -> None:
    release = threading.Event()
    executor = OnThread("painter")

    def paint(n: int) -> tuple[int, str]:
        release.wait(10)
        return n, threading.current_thread().name

    pending = executor.map_async(paint, [2, 1], what="painting")
    assert not pending.done()  # waiting for the caller, who is not blocked
    release.set()
    assert [n for n, _ in pending.result()] == [2, 1]
    assert all(name.startswith("painter") for _, name in pending.result())
    executor.close()


def test_an_error_on_the_thread_is_the_result_s_and_wait_does_not_raise_it() -> None:
    executor = OnThread()
    pending = executor.map_async(lambda n: 1 // n, [0], what="dividing")
    pending.wait()
    with pytest.raises(ZeroDivisionError):
        pending.result()
    assert executor.map(lambda n: n + 1, [1, 2], what="adding") == [2, 3]
    executor.close()
