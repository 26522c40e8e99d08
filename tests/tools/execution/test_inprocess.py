"""The in-process executor: the `BatchExecutor` interface with nothing sent anywhere."""

from __future__ import annotations

import pytest

from tools.execution.inprocess import InProcess


def test_work_runs_here_in_item_order_and_a_started_batch_is_already_done() -> None:
    executor = InProcess()
    assert executor.map(lambda n: n * n, [3, 1, 2], what="squaring") == [9, 1, 4]
    pending = executor.map_async(lambda n: -n, [1, 2], what="negating")
    assert pending.done() and pending.result() == [-1, -2] and not pending.retried


def test_an_error_in_a_started_batch_is_raised_when_its_result_is_asked_for() -> None:
    pending = InProcess().map_async(lambda n: 1 // n, [1, 0], what="dividing")
    pending.wait()  # nothing runs: returns
    with pytest.raises(ZeroDivisionError):
        pending.result()
