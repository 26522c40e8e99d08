"""One writer per build directory; a dead writer's lock does not block."""

import subprocess
import sys
from pathlib import Path

import pytest

from agent.runtime.lock import BuildLock, BuildLocked

HOLD = "import sys, time; from agent.runtime.lock import BuildLock; " \
       "BuildLock(sys.argv[1]).acquire(); " \
       "print('held', flush=True); time.sleep(60)"


def test_second_writer_gets_a_clear_error_while_the_first_lives(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(BuildLocked, match=f"pid {holder.pid}"):
            BuildLock(tmp_path).acquire()
    finally:
        holder.kill()
        holder.wait()
    with BuildLock(tmp_path):  # the killed holder's lock is gone with it
        pass


def test_lock_is_reentrant_after_release(tmp_path: Path) -> None:
    lock = BuildLock(tmp_path)
    lock.acquire()
    lock.release()
    with BuildLock(tmp_path):
        pass


def test_is_locked_sees_a_holder_without_writing_anything(tmp_path: Path) -> None:
    from agent.runtime.lock import is_locked

    assert not is_locked(tmp_path)
    assert not (tmp_path / ".lock").exists()  # probing created nothing
    with BuildLock(tmp_path):
        before = (tmp_path / ".lock").read_bytes()
        assert is_locked(tmp_path)
        assert (tmp_path / ".lock").read_bytes() == before
    assert not is_locked(tmp_path)


def test_the_thread_holding_the_lock_may_take_it_again_and_another_thread_may_not(
        tmp_path: Path) -> None:
    """`plan` holds it from its first write to the review pause; the graph takes it again."""
    import threading

    refused: list[BaseException] = []

    def another_thread() -> None:
        try:
            BuildLock(tmp_path).acquire()
        except BuildLocked as exc:
            refused.append(exc)

    with BuildLock(tmp_path) as outer:
        assert outer.created_dir is False
        with BuildLock(tmp_path):
            pass
        thread = threading.Thread(target=another_thread)
        thread.start()
        thread.join()
        assert len(refused) == 1  # still held after the inner release
    with BuildLock(tmp_path / "new") as first:
        assert first.created_dir is True
