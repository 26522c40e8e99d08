"""The manifest is the build's record of truth: batches commit whole, work lists replay exactly."""

from pathlib import Path

import numpy as np
import pytest

from tools.contracts import ManifestRecord, Status
from tools.stores.manifest import Manifest
from tools.stores.manifest_schema import WorkUnit


def _record(image_id: str, status: Status = Status.pending, cls: str = "a") -> ManifestRecord:
    return ManifestRecord(image_id=image_id, item_id=image_id.rsplit("-a", 1)[0],
                          class_name=cls, status=status, path=f"images/{image_id}.png")


def test_upsert_replaces_and_survives_reopen(tmp_path: Path) -> None:
    manifest = Manifest(tmp_path / "manifest.sqlite")
    manifest.upsert([_record("x-000001-a0"), _record("x-000002-a0")], round_=0)
    manifest.upsert([_record("x-000001-a0", Status.accepted)], round_=0,
                    embeddings={"x-000001-a0": np.ones(4, dtype=np.float32)})
    manifest.close()

    reopened = Manifest(tmp_path / "manifest.sqlite")
    assert reopened.attempts() == 2
    assert reopened.accepted_item_ids() == {"x-000001"}
    assert list(reopened.accepted_embeddings()) == ["x-000001-a0"]
    assert reopened.status_counts() == {"accepted": 1, "pending": 1}
    assert reopened.class_counts() == {"a": {"accepted": 1, "pending": 1}}


def test_failed_transaction_writes_nothing(tmp_path: Path) -> None:
    manifest = Manifest(tmp_path / "manifest.sqlite")
    with pytest.raises(RuntimeError), manifest.transaction() as db:
        db.execute("INSERT INTO work VALUES (0, 0, '{}')")
        raise RuntimeError("killed")
    assert manifest.work_size(0) == 0


def test_work_list_is_replaced_not_appended(tmp_path: Path) -> None:
    manifest = Manifest(tmp_path / "manifest.sqlite")
    units = [WorkUnit(item_id=f"x-{i}", attempt=1, seed=i, prompt="p", negative_prompt="")
             for i in range(5)]
    manifest.set_work(1, units)
    manifest.set_work(1, units)  # a replan node re-run after a crash
    assert manifest.work_size(1) == 5
    assert [u.item_id for u in manifest.work(1, 1, 3)] == ["x-1", "x-2"]
    assert units[0].image_id == "x-0-a1"


def test_an_anchor_is_the_first_accepted_image_and_stays(tmp_path: Path) -> None:
    manifest = Manifest(tmp_path / "manifest.sqlite")

    def accept(image_id: str, who: str, round_: int) -> None:
        record = _record(image_id, Status.accepted).model_copy(update={"identity": who})
        manifest.upsert([record], round_=round_,
                        descriptors={image_id: np.full(4, round_ + 1, dtype=np.float32)})

    accept("x-000002-a0", "ann", 0)
    accept("x-000004-a0", "bob", 0)
    accept("x-000003-a0", "bob", 0)  # same round: the smaller image id
    accept("x-000001-a1", "ann", 1)  # retried, accepted a round later: ann keeps hers
    manifest.upsert([_record("x-000009-a0", Status.accepted)], round_=0)  # nobody's
    anchors = manifest.anchors()
    assert {who: r.image_id for who, r in anchors.items()} == {
        "ann": "x-000002-a0", "bob": "x-000003-a0"}
    vectors = manifest.descriptors(["x-000001-a1", "x-000009-a0", "missing"])
    assert list(vectors) == ["x-000001-a1"] and vectors["x-000001-a1"].tolist() == [2.0] * 4


def test_a_manifest_from_before_human_verdicts_gains_the_table_and_keeps_its_rows(
        tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "manifest.sqlite"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE images (image_id TEXT PRIMARY KEY, item_id TEXT NOT NULL, class_name TEXT "
        "NOT NULL, round INTEGER NOT NULL, status TEXT NOT NULL, record TEXT NOT NULL, "
        "embedding BLOB, descriptor BLOB);")
    record = ManifestRecord(image_id="a-a0", item_id="a", class_name="c", status=Status.accepted)
    old.execute("INSERT INTO images VALUES (?, ?, ?, 0, 'accepted', ?, NULL, NULL)",
                ("a-a0", "a", "c", record.model_dump_json()))
    old.commit()
    old.close()
    manifest = Manifest(path)
    assert manifest.human_verdicts() == []
    manifest.queue_verdict("a-a0", "rejected", "blurred", at=1.0)
    assert manifest.status_counts()["accepted"] == 1  # queued, not yet applied
    assert [v.image_id for v in manifest.apply_verdicts()] == ["a-a0"]
    rec = manifest.get(["a-a0"])["a-a0"]
    assert rec.status is Status.rejected and rec.reasons == ["human_rejected"]
    assert manifest.accepted_item_ids() == set()
    assert manifest.human_rejections() == 1


def test_an_acceptance_that_waited_while_its_item_was_refilled_is_refused(tmp_path: Path) -> None:
    manifest = Manifest(tmp_path / "manifest.sqlite")
    manifest.upsert([
        ManifestRecord(image_id="i-a0", item_id="i", class_name="c", status=Status.rejected,
                       reasons=["blurry"]),
    ], round_=0)
    manifest.queue_verdict("i-a0", "accepted", "looks fine to me", at=1.0)
    manifest.upsert([ManifestRecord(image_id="i-a1", item_id="i", class_name="c",
                                    status=Status.accepted)], round_=1)  # the retry won
    [verdict] = manifest.apply_verdicts()
    assert verdict.state == "refused"
    assert manifest.get(["i-a0"])["i-a0"].status is Status.rejected
    assert manifest.apply_verdicts() == []
