"""Atomic writes: the target is either the old content or the new, never a half-written file."""

from pathlib import Path

import pytest

from tools import atomic
from tools.atomic import atomic_open, remove_orphan_temps, remove_temps_of, write_text


def test_write_text_replaces_content(tmp_path: Path) -> None:
    target = tmp_path / "a" / "plan.yaml"
    write_text(target, "one")
    write_text(target, "two")
    assert target.read_text() == "two"
    assert list(target.parent.iterdir()) == [target]


def test_failed_write_keeps_old_content_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "manifest.txt"
    write_text(target, "kept")
    with pytest.raises(RuntimeError), atomic_open(target, "w") as handle:
        handle.write("half")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "kept"
    assert list(tmp_path.iterdir()) == [target]


def test_remove_orphan_temps_removes_only_what_the_atomic_writer_left(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / ".x.png.ab1_cdef.tmp").write_bytes(b"partial")
    (tmp_path / "images" / "x.png").write_bytes(b"whole")
    (tmp_path / ".notes.tmp").write_text("the user's own scratch file")
    assert remove_orphan_temps(tmp_path) == 1
    assert [p.name for p in (tmp_path / "images").iterdir()] == ["x.png"]
    assert (tmp_path / ".notes.tmp").exists()


def test_written_files_and_folders_get_ordinary_permissions(tmp_path: Path) -> None:
    # temp files and folders start owner-only; what they become must be readable like
    # anything else the user writes (a dataset is shared, a report served)
    write_text(tmp_path / "report.html", "<html></html>")
    assert (tmp_path / "report.html").stat().st_mode & 0o777 == atomic.FILE_MODE
    folder = atomic.temp_dir_beside(tmp_path / "dataset")
    assert folder.parent == tmp_path and folder.name.startswith(".dataset")
    assert folder.stat().st_mode & 0o777 == atomic.DIR_MODE
    atomic.replace_dir(folder, tmp_path / "dataset")
    assert (tmp_path / "dataset").stat().st_mode & 0o777 == atomic.DIR_MODE
    assert atomic.FILE_MODE & 0o600 == 0o600 and atomic.DIR_MODE & 0o700 == 0o700


def test_the_temp_files_of_one_path_are_removed_and_those_of_others_kept(
    tmp_path: Path,
) -> None:
    mine = tmp_path / ".a.png.k3j9x_2q.tmp"  # what a killed writer of a.png leaves
    other = tmp_path / ".b.png.p0o9i8u7.tmp"  # another writer's, maybe still writing
    for path in (mine, other, tmp_path / "a.png.notours.tmp"):
        path.write_text("x")

    assert remove_temps_of(tmp_path / "a.png") == 1

    assert not mine.exists() and other.exists() and (tmp_path / "a.png.notours.tmp").exists()
