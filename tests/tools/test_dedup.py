"""The duplicate store: chromadb on disk, cosine HNSW, upserts, restarts, identities."""

from __future__ import annotations

import numpy as np
import pytest

from tools.dedup import IMAGE_THRESHOLD, DuplicateStore, identity_check
from tools.errors import FacetoryError


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


def test_identity_collection_and_checks(tmp_path):
    faces = DuplicateStore(tmp_path / "chroma", threshold=0.9, collection="identities")
    assert faces.kind == "identity"
    faces.add("ann-1", A, {"identity": "ann"})
    faces.add("bob-1", B, {"identity": "bob"})
    assert identity_check(faces, A_COPY, "ann") == (None, faces.check(A_COPY))
    reason, match = identity_check(faces, C, "ann")  # does not look like ann any more
    assert reason == "identity_mismatch" and match.match_id == "ann-1"
    reason, match = identity_check(faces, unit(0.02, 1, 0, 0), "carl")  # looks like bob
    assert reason == "identity_collision" and match.match_id == "bob-1"
    assert identity_check(faces, C, None)[0] is None
    # both kinds live side by side in one chroma directory
    images = DuplicateStore(tmp_path / "chroma", threshold=IMAGE_THRESHOLD)
    assert images.count() == 0 and faces.count() == 2


def test_bad_arguments_are_one_line_errors(tmp_path, store):
    with pytest.raises(FacetoryError):
        DuplicateStore(tmp_path / "c", threshold=1.5)
    with pytest.raises(FacetoryError):
        DuplicateStore(tmp_path / "c", threshold=0.9, collection="x")
    with pytest.raises(FacetoryError):
        store.add("nan", np.array([np.nan, 1.0, 0.0, 0.0]))
    with pytest.raises(FacetoryError):
        store.add_many(["a", "b"], [A])
