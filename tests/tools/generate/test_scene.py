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
