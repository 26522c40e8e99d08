"""A person's verdicts: recorded, applied under the lock, refilled by the next run, exported
and counted in the report."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from agent.runtime.context import BuildContext
from agent.runtime.lock import BuildLock
from agent.runtime.verdicts import record_verdict
from tests.agent.web.builds import built, facetory, planned
from tools.build_dir import BuildPaths
from tools.errors import FacetoryError


def context(root: Path) -> BuildContext:
    return BuildContext(paths=BuildPaths(root))


@pytest.mark.slow
@contextmanager
def held_elsewhere(root: Path) -> Iterator[None]:
    """The build's lock held by another thread, as a running build holds it (the thread that
    holds a BuildLock may take it again, so holding it here would not stand for a build)."""
    taken, done = threading.Event(), threading.Event()

    def hold() -> None:
        with BuildLock(root):
            taken.set()
            done.wait()

    holder = threading.Thread(target=hold)
    holder.start()
    taken.wait()
    try:
        yield
    finally:
        done.set()
        holder.join()


def test_a_rejection_queued_during_a_build_is_refilled_by_the_next_run_exported_and_reported(
        tmp_path: Path) -> None:
    root = built(tmp_path / "b")
    ctx = context(root)
    victim = ctx.manifest.page(status="accepted", class_name="none", limit=1)[1][0]
    with held_elsewhere(root):  # as if a build were running: the verdict waits in the queue
        assert not record_verdict(ctx, victim.image_id, "rejected", "two noses").applied
    assert ctx.manifest.get([victim.image_id])[victim.image_id].status.value == "accepted"

    rerun = facetory("run", str(root), "--no-train", "--offline")
    assert rerun.returncode == 0, rerun.stderr
    after = context(root).manifest
    assert after.get([victim.image_id])[victim.image_id].status.value == "rejected"
    assert victim.item_id in after.accepted_item_ids()  # refilled by a new attempt
    status = json.loads(facetory("status", str(root), "--json").stdout)
    assert status["complete"] is True and status["classes"]["none"]["accepted"] == 6
    exported = json.loads((root / "dataset" / "human_verdicts.json").read_text())
    assert [(v["image_id"], v["verdict"], v["state"]) for v in exported] == [
        (victim.image_id, "rejected", "exported")]
    assert "1 accepted image(s) rejected by a person" in " ".join(
        (root / "report.html").read_text().split())
    assert facetory("run", str(root), "--no-train", "--offline").returncode == 0
    assert context(root).manifest.attempts() == status["total"]["attempts"]  # nothing redone


def test_a_verdict_that_cannot_stand_is_one_clear_error(tmp_path: Path) -> None:
    from tools.contracts import ManifestRecord, Status

    root = planned(tmp_path / "b")
    ctx = context(root)
    ctx.manifest.upsert([
        ManifestRecord(image_id="i-a0", item_id="i", class_name="none", status=Status.rejected),
        ManifestRecord(image_id="i-a1", item_id="i", class_name="none", status=Status.accepted),
    ], round_=0)
    with pytest.raises(FacetoryError, match="already has an accepted image"):
        record_verdict(ctx, "i-a0", "accepted", "fine by me")
    with pytest.raises(FacetoryError, match="needs a reason"):
        record_verdict(ctx, "i-a1", "rejected", "  ")
    with pytest.raises(FacetoryError, match="no image"):
        record_verdict(ctx, "nope-a0", "rejected", "x")
    assert ctx.manifest.human_verdicts() == []
