"""The duplicate store: chromadb on disk, cosine HNSW, upserts, restarts, identities."""

from __future__ import annotations

import numpy as np
import pytest

from tools.errors import FacetoryError
from tools.stores.dedup import (
    IMAGE_RUNNER_UP_WEIGHT,
    IMAGE_THRESHOLD,
    DuplicateRule,
    DuplicateStore,
    IdentityGate,
)


def unit(*values: float) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32)
    return v / np.linalg.norm(v)


A, B, C = unit(1, 0, 0, 0), unit(0, 1, 0, 0), unit(0, 0, 1, 0)
A_COPY = unit(1, 0.1, 0, 0)  # cosine 0.995 with A


@pytest.fixture
def store(tmp_path) -> DuplicateStore:
    return DuplicateStore(tmp_path / "chroma", threshold=0.95)


def test_empty_store_has_no_duplicates(store):
    match = store.check(A)
    assert not match.is_duplicate and match.match_id is None
    assert store.count() == 0


def test_check_finds_the_nearest_accepted_image(store):
    store.add("a", A, {"class": "x"})
    store.add("b", B, {"class": "x"})
    match = store.check(A_COPY)
    assert match.is_duplicate and match.match_id == "a" and match.kind == "image"
    assert match.similarity == pytest.approx(float(A @ A_COPY), abs=1e-4)
    far = store.check(C)
    assert not far.is_duplicate and far.similarity < 0.5


def test_exclude_id_skips_the_image_itself(store):
    store.add("a", A)
    store.add("b", B)
    assert store.check(A, exclude_id="a").match_id == "b"
    assert not store.check(A, exclude_id="a").is_duplicate


def test_add_is_an_upsert_and_remove_forgets(store):
    store.add("a", A)
    store.add("a", A)  # a resumed build re-adding the same image
    assert store.count() == 1
    store.add("a", B)  # replaced, not duplicated
    assert store.count() == 1 and store.check(B).match_id == "a"
    store.remove("a")
    store.remove("never-added")
    assert store.count() == 0 and not store.check(B).is_duplicate


def test_the_store_survives_a_restart(tmp_path):
    first = DuplicateStore(tmp_path / "chroma", threshold=0.95)
    first.add_many(["a", "b"], [A, B], [{"class": "x"}, {"class": "y"}])
    del first
    again = DuplicateStore(tmp_path / "chroma", threshold=0.95)
    assert again.count() == 2
    assert again.check(A_COPY).match_id == "a"
    with pytest.raises(FacetoryError, match="dimensions"):
        again.add("c", np.ones(8, np.float32))  # the store remembers its width


def test_only_what_is_added_can_match(store):
    # the caller adds accepted images only; a rejected one never enters the store
    store.add("accepted", A)
    rejected_embedding = C
    assert not store.check(rejected_embedding + 0.01 * B).is_duplicate


def test_batches_and_duplicates_inside_a_batch(store):
    store.add("a", A)
    answers = store.check_many(np.stack([A_COPY, B, unit(0.05, 1, 0, 0)]), within=True,
                               ids=["q1", "q2", "q3"])
    assert [m.is_duplicate for m in answers] == [True, False, True]
    assert answers[0].match_id == "a" and answers[2].match_id == "q2"


def test_metadata_filter(store):
    store.add_many(["a", "b"], [A, A_COPY], [{"class": "x"}, {"class": "y"}])
    assert store.check(A, where={"class": "y"}).match_id == "b"
    assert store.nearest(A, k=2)[0][2] == {"class": "x"}


def turned(degrees: float) -> np.ndarray:
    """A unit vector `degrees` away from A, towards B (cosine with A = cos(degrees))."""
    r = np.radians(degrees)
    return unit(np.cos(r), np.sin(r), 0, 0)


def test_the_runner_up_raises_the_bar():
    rule = DuplicateRule(threshold=0.86, runner_up_weight=0.5)  # floor 0.7
    assert rule.required(0.3) == pytest.approx(0.86)  # nothing else close: the threshold
    assert rule.required(0.9) == pytest.approx(0.96)  # a crowded neighbourhood: higher
    assert rule.is_duplicate(0.9, 0.3) and not rule.is_duplicate(0.9, 0.85)
    assert DuplicateRule(threshold=0.86).is_duplicate(0.9, 0.85)  # a plain threshold
    match = rule.match([("a", 0.9), ("b", 0.85), ("c", 0.1)], "image")
    assert (match.match_id, match.runner_up, match.is_duplicate) == ("a", 0.85, False)
    assert not rule.match([], "image").is_duplicate


def test_a_picture_in_a_crowd_is_not_a_copy_but_one_that_stands_out_is(tmp_path):
    # two distinct stored pictures close to each other, as pictures of people with the
    # darkest skin are in the image embedding
    store = DuplicateStore(tmp_path / "chroma", threshold=IMAGE_THRESHOLD,
                           runner_up_weight=IMAGE_RUNNER_UP_WEIGHT)
    store.add_many(["a", "a-neighbour"], [A, turned(40)])
    between = store.check(turned(20))  # cos 0.94 to both
    assert between.similarity == pytest.approx(0.94, abs=0.01)
    assert between.runner_up == pytest.approx(0.94, abs=0.01)
    assert not between.is_duplicate  # needs 0.86 + 0.5 * (0.94 - 0.7) = 0.98
    alone = DuplicateStore(tmp_path / "other", threshold=IMAGE_THRESHOLD,
                           runner_up_weight=IMAGE_RUNNER_UP_WEIGHT)
    alone.add("a", A)
    assert alone.check(turned(20)).is_duplicate  # the same 0.94 with nothing else near
    copy = store.check(turned(2))  # cos 0.999 to a, 0.79 to a-neighbour: stands out
    assert copy.is_duplicate and copy.match_id == "a"


def test_identity_collection_and_checks(tmp_path):
    faces = DuplicateStore(tmp_path / "chroma", threshold=0.9, collection="identities")
    assert faces.kind == "identity"
    gate = IdentityGate(faces, threshold=0.9)
    for image_id, who, vector in [("ann-1", "ann", A), ("bob-1", "bob", B)]:
        assert gate.check(vector, who)[0] is None  # new people, far apart
        gate.accept(image_id, who, vector)
    gate.commit()
    assert faces.count() == 2 and not gate.pending
    reason, match = gate.check(A_COPY, "ann")
    assert reason is None and match.match_id == "ann-1" and match.kind == "identity"
    reason, match = gate.check(C, "ann")  # does not look like ann any more
    assert reason == "identity_mismatch" and match.match_id == "ann-1"
    reason, match = gate.check(unit(0.02, 1, 0, 0), "carl")  # a new person who looks like bob
    assert reason == "identity_collision" and match.match_id == "bob-1"
    assert gate.check(C, None)[0] is None
    assert gate.check(A_COPY, None)[0] == "identity_collision"
    # both kinds live side by side in one chroma directory
    images = DuplicateStore(tmp_path / "chroma", threshold=IMAGE_THRESHOLD)
    assert images.count() == 0 and faces.count() == 2


def test_an_image_must_match_the_anchor_not_the_nearest_face(tmp_path):
    faces = DuplicateStore(tmp_path / "chroma", threshold=0.9, collection="identities")
    gate = IdentityGate(faces, threshold=0.9)
    gate.accept("ann-1", "ann", turned(0))  # ann's anchor
    assert gate.check(turned(24), "ann")[0] is None  # cos 0.91 with the anchor
    gate.accept("ann-2", "ann", turned(24))
    gate.commit()
    # 24 degrees on again: as close to ann-2 as ann-2 was to the anchor, but 48 from the anchor
    reason, match = gate.check(turned(48), "ann")
    assert float(turned(48) @ turned(24)) > 0.9
    assert reason == "identity_mismatch" and match.match_id == "ann-1"
    assert match.similarity == pytest.approx(np.cos(np.radians(48)), abs=1e-5)
    # a fresh gate over the same store knows the anchor only when told (the manifest's)
    again = IdentityGate(faces, threshold=0.9, anchors={"ann": ("ann-1", turned(0))})
    assert again.check(turned(48), "ann")[0] == "identity_mismatch"
    assert again.check(turned(10), "ann")[0] is None


def test_collisions_new_people_against_every_face_later_images_against_anchors(tmp_path):
    def at(degrees: float, lift: float = 0.0) -> np.ndarray:
        d, u = np.radians(degrees), np.radians(lift)
        return unit(np.cos(d) * np.cos(u), np.sin(d) * np.cos(u), np.sin(u), 0)

    faces = DuplicateStore(tmp_path / "chroma", threshold=0.9, collection="identities")
    gate = IdentityGate(faces, threshold=0.9)
    gate.accept("ann-1", "ann", at(0))
    gate.accept("dan-1", "dan", at(50))
    gate.accept("dan-2", "dan", at(30))  # dan (cos 0.94 with his anchor), not ann (0.87)
    # a new person near dan-2 but near neither anchor; this batch's faces count before commit
    eve = at(30, lift=20)
    assert float(eve @ at(50)) < 0.9 and float(eve @ at(0)) < 0.9
    reason, match = gate.check(eve, "eve")
    assert reason == "identity_collision" and match.match_id == "dan-2"
    gate.commit()
    reason, match = gate.check(eve, "eve")
    assert reason == "identity_collision" and match.match_id == "dan-2"
    # ann's next image: near dan-2 (0.94) but a later image answers to anchors only
    reason, match = gate.check(at(10), "ann")
    assert reason is None and match.match_id == "ann-1"
    # ...and one that matches both ann's and dan's anchors would pass as either
    reason, match = gate.check(at(25), "ann")
    assert reason == "identity_collision" and match.match_id == "dan-1"


def test_bad_arguments_are_one_line_errors(tmp_path, store):
    with pytest.raises(FacetoryError):
        DuplicateStore(tmp_path / "c", threshold=1.5)
    with pytest.raises(FacetoryError):
        DuplicateStore(tmp_path / "c", threshold=0.9, collection="x")
    with pytest.raises(FacetoryError):
        store.add("nan", np.array([np.nan, 1.0, 0.0, 0.0]))
    with pytest.raises(FacetoryError):
        store.add_many(["a", "b"], [A])
