"""One writer per build directory.

`fcntl.flock` is released by the kernel when the holding process dies, however it dies, so a
lock left by a killed build never blocks the next one; the pid written inside is only there to
name the holder in the error message.
"""

from __future__ import annotations

import fcntl
import os
import threading
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from types import TracebackType
from typing import Any

from tools.errors import FacetoryError


class BuildLocked(FacetoryError):
    """Another live process is writing to this build directory."""


#: (lock file, thread) -> how many `BuildLock`s that thread holds on it: a command that holds
#: the lock while it writes a new build's first files runs the graph, which takes it again.
_HELD: dict[tuple[str, int], int] = {}


class BuildLock:
    """Exclusive, non-blocking lock on `DIR/.lock`; use as a context manager. Re-entrant in
    one thread (only the outermost release unlocks); another thread or process is refused."""

    def __init__(self, build_dir: str | Path) -> None:
        self.path = Path(build_dir) / ".lock"
        self._fd: int | None = None
        self._nested = False
        self.created_dir = False
        """Whether acquiring created the build directory (a new build's first writer)."""

    def _key(self) -> tuple[str, int]:
        return os.path.abspath(self.path), threading.get_ident()

    def acquire(self) -> None:
        key = self._key()
        if _HELD.get(key):
            _HELD[key] += 1
            self._nested = True
            return
        self.created_dir = not self.path.parent.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            error = read_only_error(self.path.parent, self.path)
            if error is None:
                raise
            raise error from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise BuildLocked(
                f"{self.path.parent} is being built by pid {holder}; wait for it or stop it first"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        _HELD[key] = 1

    def release(self) -> None:
        if self._nested:
            _HELD[self._key()] -= 1
            self._nested = False
            return
        if self._fd is not None:
            _HELD.pop(self._key(), None)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> BuildLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def writer_lock(build_dir: str | Path) -> AbstractContextManager[Any]:
    """The build's lock for a command that may rewrite plan.yaml, spec.yaml or approval.json:
    while a run holds it they refuse with one line and change nothing. (A directory without
    a plan needs no lock: the command says so itself, and creates nothing.)"""
    if not (Path(build_dir) / "plan.yaml").exists():
        return nullcontext()
    return BuildLock(build_dir)


def is_locked(build_dir: str | Path) -> bool:
    """True while another process holds the build's lock. Probes with a shared lock taken and
    dropped at once, writing nothing (the web review stays read-only while a build runs)."""
    path = Path(build_dir) / ".lock"
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def read_only_error(root: Path, what: Path) -> FacetoryError | None:
    """The one line for a build folder facetory cannot write in (or None when it can): a
    read-only folder was once reported as a damaged manifest, with advice to move images."""
    if os.access(root, os.W_OK) and (not what.exists() or os.access(what, os.W_OK)):
        return None
    return FacetoryError(
        f"{root} is read-only (cannot write {what.name}): facetory writes its progress there; "
        "make the folder writable, or copy it somewhere writable, and run again"
    )
