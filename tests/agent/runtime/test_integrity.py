"""The build's records against its files: lost stores are named, deleted images drawn again,
lost checkpoints rebuilt from the manifest, and no image deleted because a record is missing."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from agent.runtime.runner import run_graph
from tests.agent.runtime.test_graph import accepted_bytes, context, make_build
from tools.build_dir import BuildPaths
from tools.contracts import Status
from tools.errors import FacetoryError


def built(root: Path, *, stop_after: int | None = None) -> BuildPaths:
    """A build of the tiny spec, run to the end or stopped after `stop_after` batches."""
    paths = make_build(root)
    run_graph(context(paths))
    calls = {"n": 0}

    def stop() -> bool:
        calls["n"] += 1
        return stop_after is not None and calls["n"] >= stop_after

    run_graph(context(paths), resume={"action": "approve"}, stop_requested=stop)
    return paths


def images(paths: BuildPaths) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(paths.images.iterdir())}


def remove_manifest(paths: BuildPaths) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{paths.manifest_db}{suffix}").unlink(missing_ok=True)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("missing", "manifest.sqlite is missing but"),
        ("empty", "manifest.sqlite holds no records but"),
        ("text", r"is not a readable database \(file is not a database\)"),
        ("truncated", "manifest.sqlite"),
    ],
)
def test_a_lost_or_damaged_manifest_is_one_error_and_no_image_is_deleted(
        tmp_path: Path, damage: str, message: str) -> None:
    paths = built(tmp_path / "b")
    before = images(paths)
    whole = paths.manifest_db.read_bytes()
    remove_manifest(paths)
    if damage == "empty":
        paths.manifest_db.write_bytes(b"")
    elif damage == "text":
        paths.manifest_db.write_text("my notes\n")
    elif damage == "truncated":
        paths.manifest_db.write_bytes(whole[: len(whole) // 2])

    with pytest.raises(FacetoryError, match=message) as caught:
        run_graph(context(paths))
    assert "\n" not in str(caught.value) and "backup" in str(caught.value)
    with pytest.raises(FacetoryError):
        context(paths).manifest  # noqa: B018 -- what `status` reads: no silent "0 accepted"
    assert images(paths) == before


def test_lost_checkpoints_are_rebuilt_from_the_manifest(tmp_path: Path) -> None:
    paths = built(tmp_path / "b", stop_after=2)
    partial = {r.image_id: r.status for r in context(paths).manifest.records()}
    paths.state_db.unlink()

    assert run_graph(context(paths)).outcome == "done"
    ctx = context(paths)
    after = {r.image_id: r.status for r in ctx.manifest.records()}
    assert all(after[i] == status for i, status in partial.items())  # nothing drawn twice
    assert not ctx.manifest.records(Status.duplicate)
    rebuilt = [e for e in ctx.events.read() if e["event"] == "state_rebuilt"]
    assert rebuilt and rebuilt[0]["cursor"] == 8  # two batches of four were committed

    reference = built(tmp_path / "reference")
    assert accepted_bytes(paths) == accepted_bytes(reference)
    assert after == {r.image_id: r.status for r in context(reference).manifest.records()}


def test_lost_checkpoints_of_a_finished_build_draw_nothing_again(tmp_path: Path) -> None:
    paths = built(tmp_path / "b")
    attempts = context(paths).manifest.attempts()
    paths.state_db.unlink()
    assert run_graph(context(paths)).outcome == "done"
    ctx = context(paths)
    assert ctx.manifest.attempts() == attempts and not ctx.manifest.records(Status.duplicate)


def test_a_damaged_checkpoint_store_is_one_error_that_says_to_delete_it(tmp_path: Path) -> None:
    paths = built(tmp_path / "b", stop_after=1)
    paths.state_db.write_text("not a database at all, but long enough to be read as a header\n")
    with pytest.raises(FacetoryError, match="state.sqlite is not a readable checkpoint store"):
        run_graph(context(paths))
    paths.state_db.unlink()
    assert run_graph(context(paths)).outcome == "done"


def test_deleted_images_are_drawn_again_with_the_same_bytes(tmp_path: Path) -> None:
    paths = built(tmp_path / "b")
    before = images(paths)
    accepted = context(paths).manifest.records(Status.accepted)
    for record in accepted[:3]:
        (paths.root / record.path).unlink()
    rejected = context(paths).manifest.records(Status.rejected)
    (paths.root / rejected[0].path).unlink()

    assert run_graph(context(paths)).outcome == "done"
    assert images(paths) == before
    redrawn = [e for e in context(paths).events.read() if e["event"] == "redrawn"]
    assert redrawn[0]["images"] == 4


def test_files_no_work_list_planned_are_kept(tmp_path: Path) -> None:
    paths = built(tmp_path / "b", stop_after=1)
    theirs = paths.images / "holiday.jpg"
    theirs.write_bytes(b"someone's photo")
    cut_short = paths.images / "glasses-000010-a0.png"  # planned, never recorded: a leftover
    cut_short.write_bytes(b"half a batch")
    assert run_graph(context(paths)).outcome == "done"
    assert theirs.read_bytes() == b"someone's photo"
    assert cut_short.read_bytes() != b"half a batch"  # drawn again by its batch


def test_a_deleted_image_whose_prompt_is_unsafe_is_not_drawn_again(tmp_path: Path) -> None:
    """Recovery draws through the same door as generate: every prompt is checked first (here
    the recorded work unit of a deleted image carries a prompt the door refuses)."""
    from agent.runtime.integrity import redraw_missing
    from tools.safety import UnsafePrompt

    paths = built(tmp_path / "b")
    record = context(paths).manifest.records(Status.accepted)[0]
    (paths.root / record.path).unlink()
    ctx = context(paths)
    recorded = ctx.manifest.work_units

    def unsafe(image_ids):
        return {i: u.model_copy(update={"prompt": f"{u.prompt}, lolicon style"})
                for i, u in recorded(image_ids).items()}

    ctx.manifest.work_units = unsafe
    with pytest.raises(UnsafePrompt, match=rf"^refused: item {record.item_id}: .*lolicon"):
        redraw_missing(ctx)
    assert not (paths.root / record.path).exists()


def test_a_duplicate_store_ahead_of_the_manifest_is_brought_level_with_it(tmp_path: Path) -> None:
    """chroma/ kept from a later state of the build (checkpoints lost, or the manifest
    restored from an earlier backup): images it holds that the manifest has not accepted are
    no duplicates of themselves when drawn again."""
    reference = built(tmp_path / "reference")
    later = context(reference).manifest.accepted_embeddings()
    paths = built(tmp_path / "b", stop_after=2)
    context(paths).store().add_many(list(later), list(later.values()))
    paths.state_db.unlink()

    assert run_graph(context(paths)).outcome == "done"
    assert not context(paths).manifest.records(Status.duplicate)
    assert accepted_bytes(paths) == accepted_bytes(reference)


@pytest.mark.parametrize("stop_after", [2, None], ids=["mid-build", "finished"])
def test_the_advice_for_a_lost_manifest_builds_the_same_dataset_again(
        tmp_path: Path, stop_after: int | None) -> None:
    """What the lost-manifest error advises (move images/ away and run): the checkpoints of
    the lost build are dropped and it is drawn again from the plan's seeds, byte for byte."""
    reference = built(tmp_path / "reference")
    paths = built(tmp_path / "b", stop_after=stop_after)
    remove_manifest(paths)
    paths.images.rename(tmp_path / "moved-away")

    assert run_graph(context(paths)).outcome == "done"
    ctx = context(paths)
    assert not ctx.manifest.records(Status.duplicate)
    assert accepted_bytes(paths) == accepted_bytes(reference)
    assert any(e["event"] == "state_dropped" for e in ctx.events.read())


def test_a_deleted_export_of_a_finished_build_is_written_again_by_run(tmp_path: Path) -> None:
    import shutil

    paths = built(tmp_path / "b")
    card = (paths.dataset / "README.md").read_text()
    attempts = context(paths).manifest.attempts()
    shutil.rmtree(paths.dataset)

    assert run_graph(context(paths)).outcome == "done"
    assert (paths.dataset / "README.md").read_text() == card
    assert context(paths).manifest.attempts() == attempts  # nothing drawn again


@pytest.fixture
def read_only():
    """Makes a folder read-only for real: chmod for a user, the immutable flag for root (who
    writes through permissions); skips where neither holds. Undone after the test."""
    import subprocess

    made: list[Path] = []

    def make(root: Path) -> None:
        made.append(root)
        subprocess.run(["chmod", "-R", "a-w", str(root)], check=True)
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-R", "+i", str(root)], capture_output=True)
        try:
            (root / "probe").write_text("x")
        except OSError:
            return
        pytest.skip("cannot make a folder read-only on this machine")

    yield make
    for root in made:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-R", "-i", str(root)], capture_output=True)
        subprocess.run(["chmod", "-R", "u+w", str(root)], check=True)


def test_a_read_only_build_folder_is_said_to_be_read_only(tmp_path: Path, read_only) -> None:
    from typer.testing import CliRunner

    from agent.cli.app import app

    paths = built(tmp_path / "b")
    for suffix in ("-wal", "-shm"):  # a closed manifest keeps none
        Path(f"{paths.manifest_db}{suffix}").unlink(missing_ok=True)
    read_only(paths.root)
    for command in ("run", "status"):
        result = CliRunner().invoke(app, [command, str(paths.root), "--offline"]
                                    if command == "run" else [command, str(paths.root)])
        assert result.exit_code == 2, (command, result.output)
        line = result.stderr.strip()  # `run` opens with what it understood, on stdout
        assert "\n" not in line and "read-only" in line, (command, line)
        assert "move" not in line and "backup" not in line, (command, line)


@pytest.mark.parametrize("damage", ["truncated", "jpeg"])
def test_a_damaged_accepted_image_is_drawn_again_and_exported_again(
        tmp_path: Path, damage: str) -> None:
    """Accepted images carry their SHA-256 in the manifest; `run` checks them on start, draws
    again what does not match (the same bytes) and exports again: the export's hard links
    pointed at the damaged file."""
    from PIL import Image

    paths = built(tmp_path / "b")
    before = images(paths)
    record = context(paths).manifest.records(Status.accepted)[0]
    file = paths.root / record.path
    exported = next(paths.dataset.rglob(file.name))
    if damage == "truncated":
        file.write_bytes(file.read_bytes()[:200])
    else:
        with Image.open(file) as im:
            im.convert("RGB").save(tmp_path / "photo.jpg", "JPEG")
        file.unlink()
        (tmp_path / "photo.jpg").rename(file)

    assert run_graph(context(paths)).outcome == "done"
    assert images(paths) == before
    assert exported.read_bytes() == file.read_bytes()
    redrawn = [e for e in context(paths).events.read() if e["event"] == "redrawn"]
    assert redrawn[-1]["damaged"] == [record.image_id]


def test_a_manifest_from_before_checksums_gains_them_and_still_catches_a_broken_file(
        tmp_path: Path) -> None:
    import sqlite3

    paths = built(tmp_path / "b")
    before = images(paths)
    db = sqlite3.connect(paths.manifest_db)
    db.execute("ALTER TABLE images DROP COLUMN sha256")  # as manifests were written before
    db.commit()
    db.close()
    record = context(paths).manifest.records(Status.accepted)[1]
    (paths.root / record.path).write_bytes((paths.root / record.path).read_bytes()[:300])

    assert run_graph(context(paths)).outcome == "done"
    assert images(paths) == before
    files = context(paths).manifest.accepted_files()
    assert all(digest is not None for _, digest in files.values())
