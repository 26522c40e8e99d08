"""What the procedural renderer draws for a plan item: asked levels, neutral levels for what
is worn when nothing is asked, and seed-drawn levels for the rest."""

from __future__ import annotations

from collections import Counter

import numpy as np

from tools.generate.people import make_identity
from tools.generate.scene import resolve_face
from tools.vocabulary import NEUTRAL


def faces(attributes: dict[str, str], n: int = 300) -> list[dict[str, str]]:
    rngs = [np.random.default_rng([i, 1]) for i in range(n)]
    return [resolve_face(attributes, make_identity(f"anon:{i}"), rng).attributes
            for i, rng in enumerate(rngs)]


def test_a_face_that_asks_for_nothing_worn_wears_nothing():
    drawn = faces({"age_group": "child"})
    worn = Counter((f, a[f]) for a in drawn for f in ("eyewear", "hat", "mask", "eyes"))
    assert worn == Counter({("eyewear", "none"): 300, ("hat", "none"): 300,
                            ("mask", "none"): 300, ("eyes", "open"): 300})
    assert NEUTRAL == {"eyes": "open", "eyewear": "none", "hat": "none", "mask": "none"}


def test_what_is_asked_is_worn_and_the_unasked_nuisance_still_varies():
    drawn = faces({"hat": "hat", "mask": "mask"}, 100)
    assert {a["hat"] for a in drawn} == {"hat"} and {a["mask"] for a in drawn} == {"mask"}
    assert len({a["head_pose"] for a in drawn}) > 1 and len({a["expression"] for a in drawn}) > 1


def test_declaring_the_hair_colour_a_person_has_anyway_draws_the_same_hair():
    ident = make_identity("anon:elderly")
    own = resolve_face({"age_group": "elderly"}, ident, np.random.default_rng(3))
    declared = resolve_face({"age_group": "elderly", "hair_color": own.attributes["hair_color"]},
                            ident, np.random.default_rng(3))
    assert declared.hair_grey == own.hair_grey > 0
    other = resolve_face({"age_group": "elderly", "hair_color": "red"}, ident,
                         np.random.default_rng(3))
    assert other.hair_grey == 0.0


def test_facial_hair_left_open_grows_on_adult_men_only_as_the_gender_prior_says():
    drawn = faces({}, 400)
    minors = {"child", "teenager"}
    women = Counter(a["facial_hair"] for a in drawn if a["gender"] == "female")
    young = Counter(a["facial_hair"] for a in drawn if a["age_group"] in minors)
    men = Counter(a["facial_hair"] for a in drawn
                  if a["gender"] == "male" and a["age_group"] not in minors)
    assert set(women) == {"none"} and set(young) == {"none"}
    assert set(men) == {"none", "stubble", "moustache", "beard"}
    assert 0.4 < men["none"] / sum(men.values()) < 0.7


def test_an_asked_beard_is_drawn_and_the_open_person_is_an_adult_man_to_carry_it():
    drawn = faces({"facial_hair": "beard"}, 200)
    assert {a["facial_hair"] for a in drawn} == {"beard"}
    assert {a["gender"] for a in drawn} == {"male"}
    assert not {a["age_group"] for a in drawn} & {"child", "teenager"}
    assert len({a["age_group"] for a in drawn}) == 4


def test_asked_women_with_beards_get_them_but_a_minor_never_does():
    assert {a["facial_hair"] for a in faces({"gender": "female", "facial_hair": "beard"}, 20)} \
        == {"beard"}
    for age in ("child", "teenager"):
        asked = faces({"age_group": age, "gender": "male", "facial_hair": "moustache"}, 20)
        assert {a["facial_hair"] for a in asked} == {"none"}


def test_the_drawn_facial_hair_is_what_the_face_spec_draws():
    face = resolve_face({"facial_hair": "stubble"}, make_identity("anon:x"),
                        np.random.default_rng(1))
    assert face.beard == face.attributes["facial_hair"] == "stubble"
