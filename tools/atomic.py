"""Atomic file writes: a temp file in the same directory, fsync, then rename.

A build may be killed at any instant; readers must see either the old file or the new one,
never half of it.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: The process's umask, read once: temp files and folders are created private (0600/0700)
#: and get the permissions an ordinary `open` or `mkdir` would have given them.
_UMASK = _current_umask()
FILE_MODE = 0o666 & ~_UMASK
DIR_MODE = 0o777 & ~_UMASK


@contextmanager
def atomic_open(path: str | Path, mode: str = "wb") -> Iterator[IO]:
    """Open a temp file beside `path`; on clean exit it replaces `path` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, FILE_MODE)  # readable like any file the user writes, not owner-only
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def write_text(path: str | Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


#: The names `atomic_open` gives its temp files: `.<name>.<8 random characters>.tmp`.
_TEMP_NAME = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")


def remove_orphan_temps(directory: str | Path) -> int:
    """Delete temp files left by a writer that was killed mid-write; returns how many.

    Only files named the way `atomic_open` names them: anything else is not ours to delete.
    """
    count = 0
    for tmp in Path(directory).rglob(".*.tmp"):
        if tmp.is_file() and _TEMP_NAME.match(tmp.name):
            tmp.unlink(missing_ok=True)
            count += 1
    return count


def remove_temps_of(path: str | Path) -> int:
    """Delete the temp files a killed writer of `path` left; returns how many."""
    path = Path(path)
    count = 0
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        if tmp.is_file() and _TEMP_NAME.match(tmp.name):
            tmp.unlink(missing_ok=True)
            count += 1
    return count


def link_or_copy(source: str | Path, dest: str | Path) -> None:
    """Hard-link `source` to `dest` (a copy where linking is impossible, e.g. across disks)."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, dest)
    except OSError:
        shutil.copy2(source, dest)


def temp_dir_beside(out_dir: str | Path, tag: str = ".tmp-") -> Path:
    """A fresh folder next to `out_dir` to build its replacement in (see `replace_dir`), with
    ordinary folder permissions (mkdtemp's are owner-only)."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}{tag}", dir=out_dir.parent))
    tmp.chmod(DIR_MODE)
    return tmp


def replace_dir(finished: str | Path, out_dir: str | Path) -> None:
    """Replace folder `out_dir` with the finished folder beside it: two renames, so readers see
    the old folder or the new one, never half of either."""
    finished, out_dir = Path(finished), Path(out_dir)
    old = None
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
        old.rmdir()
        os.replace(out_dir, old)
    os.replace(finished, out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, in hex (the manifest's checksum of an accepted image)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
