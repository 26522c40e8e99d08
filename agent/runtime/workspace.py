"""Where a build may be written: the `--out` directory is the user's data until proven ours.

`plan` and `build` write into `--out`. A directory that does not exist, or is empty, becomes a
build; one that already holds a facetory build is that build. Anything else (a folder of the
user's own files, a file, a place without write permission) is refused with one line before
anything is written: otherwise `facetory build --out ~/Pictures` would replace the user's
`~/Pictures/dataset/` and `report.html` with its own.

When writing a new build's first files fails (a full disk, a Ctrl-C while planning), what the
command wrote is removed again, so no half-made build is left behind. A build's manifest is
opened here too (`open_manifest`): a lost or unreadable one beside images is refused.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from agent.runtime.lock import BuildLock, read_only_error
from tools.build_dir import BuildPaths
from tools.errors import FacetoryError
from tools.stores.manifest import Manifest

#: The first bytes of the files facetory writes at the top of a build (plan_file's headers).
_SIGNATURES = {"plan.yaml": b"# facetory plan", "spec.yaml": b"# facetory dataset spec"}


def is_build(root: Path) -> bool:
    """True when `root` holds a facetory build (its plan.yaml or spec.yaml, by their header)."""
    for name, head in _SIGNATURES.items():
        try:
            with (root / name).open("rb") as handle:
                if handle.read(len(head)) == head:
                    return True
        except OSError:
            continue
    return False


def check_out_dir(out: Path) -> None:
    """Refuse an `--out` that is a file, lies under a file, cannot be written, or is a folder
    of someone else's files (non-empty and not a facetory build). Writes nothing."""
    if out.exists() and not out.is_dir():
        raise FacetoryError(f"--out {out} is a file, not a directory; choose a directory")
    ancestor = out
    while not ancestor.exists():
        if ancestor.parent == ancestor:
            break
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise FacetoryError(f"cannot create --out {out}: {ancestor} is a file, not a directory")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise FacetoryError(f"cannot write in {ancestor} (permission denied); choose another --out")
    if ancestor == out and not is_build(out):
        theirs = sorted(p.name for p in out.iterdir() if p.name != ".lock")  # a first writer's
        if theirs:
            more = f" and {len(theirs) - 3} more" if len(theirs) > 3 else ""
            shown = ", ".join(theirs[:3]) + more
            raise FacetoryError(
                f"--out {out} is not empty and is not a facetory build (it holds {shown}); "
                "facetory never writes into a folder of other files: choose a new or empty one"
            )


def _has_images(paths: BuildPaths) -> bool:
    try:
        with os.scandir(paths.images) as entries:
            return any(entry.is_file() and not entry.name.startswith(".") for entry in entries)
    except OSError:
        return False


def open_manifest(paths: BuildPaths) -> Manifest:
    """The build's manifest; a lost, empty or unreadable one beside images is a FacetoryError."""
    restore = (
        f"restore {paths.manifest_db.name} from a backup, or move {paths.images} away to start "
        "the build again (facetory never deletes images it has no record of)"
    )
    if not paths.manifest_db.exists():
        if _has_images(paths):
            raise FacetoryError(
                f"{paths.manifest_db} is missing but {paths.images} holds images: {restore}"
            )
        return Manifest(paths.manifest_db)
    try:
        manifest = Manifest(paths.manifest_db)
        blank = manifest.attempts() == 0 and manifest.work_size(0) == 0
    except sqlite3.DatabaseError as exc:
        read_only = read_only_error(paths.root, paths.manifest_db)
        if read_only is not None:
            raise read_only from None
        raise FacetoryError(
            f"{paths.manifest_db} is not a readable database ({exc}): {restore}"
        ) from None
    if blank and _has_images(paths):
        manifest.close()
        raise FacetoryError(
            f"{paths.manifest_db} holds no records but {paths.images} holds images: {restore}"
        )
    return manifest


@contextmanager
def first_files(out: Path, replaced: Iterable[str] = ()) -> Iterator[None]:
    """Write a new build's first files holding its lock, undone on failure: two commands
    planning into one new folder at once would leave it broken (no spec.txt for good). The
    second is refused with one line (`BuildLocked`) before it writes or removes anything."""
    with BuildLock(out) as lock, undone_on_failure(out, replaced, created=lock.created_dir):
        yield


@contextmanager
def undone_on_failure(out: Path, replaced: Iterable[str] = (), *, created: bool = False
                      ) -> Iterator[None]:
    """Writing a new build's first files: when that fails (a full disk, Ctrl-C), remove what
    this command wrote, so no half-made build is left. `out` was new, empty or an unstarted
    build of ours (`check_out_dir`): a folder this command created (or `created` for it, by
    taking its lock) goes whole; otherwise the entries that were not there before, and the
    `replaced` files (rewritten by this command)."""
    before = set(os.listdir(out)) if out.is_dir() and not created else None
    try:
        yield
    except BaseException:
        if before is None:
            shutil.rmtree(out, ignore_errors=True)
        else:
            for name in os.listdir(out):
                if name in before and name not in replaced:
                    continue
                path = out / name
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
        raise
