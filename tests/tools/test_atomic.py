"""Atomic writes: the target is either the old content or the new, never a half-written file."""

from pathlib import Path

import pytest

from tools.atomic import atomic_open, remove_orphan_temps, write_text


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


def test_remove_orphan_temps(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / ".x.png.abc.tmp").write_bytes(b"partial")
    (tmp_path / "images" / "x.png").write_bytes(b"whole")
    assert remove_orphan_temps(tmp_path) == 1
    assert [p.name for p in (tmp_path / "images").iterdir()] == ["x.png"]
