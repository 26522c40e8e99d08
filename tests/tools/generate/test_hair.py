"""A procedural face's hair: a man's short cut shows his ears, a woman's short hair covers them."""

from __future__ import annotations

from tools.contracts import PlanItem
from tools.generate.procedural import ProceduralGenerator

CLEAN = {"mask": "none", "eyewear": "none", "hat": "none", "head_pose": "frontal",
         "lighting": "front", "expression": "neutral", "eyes": "open", "skin_tone": "monk_2",
         "age_group": "young_adult", "hair_style": "short", "hair_color": "black"}


def beside_the_eyes(gender: str, seed: int) -> list[float]:
    """Mean brightness just inside the face box's outer edges, level with the eyes."""
    item = PlanItem(id="h", **{"class": "faces"}, seed=seed, identity="person-3",
                    attributes={**CLEAN, "gender": gender})
    img, truth = ProceduralGenerator(image_size=256).render(item)
    face = truth.faces[0]
    x0, _, x1, _ = face.box
    y = int(face.landmarks[0][1])
    return [float(img[y - 2:y + 3, int(x) - 2:int(x) + 3].mean()) for x in (x0 + 3, x1 - 3)]


def test_a_mans_short_hair_is_cut_above_his_ears_and_a_womans_covers_them():
    for seed in (1, 2, 3):
        man, woman = beside_the_eyes("male", seed), beside_the_eyes("female", seed)
        assert min(man) > 180  # pale skin: the ears and temples show
        assert min(woman) < 120  # black hair over them
