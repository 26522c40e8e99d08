"""Gender and age cues on the skin: a woman's lower face evened, a child's blush."""

from __future__ import annotations

import numpy as np
import pytest

from tools.contracts import PlanItem
from tools.generate import aging, face
from tools.generate.procedural import ProceduralGenerator

CLEAN = {"mask": "none", "eyewear": "none", "hat": "none", "head_pose": "frontal",
         "lighting": "front", "expression": "neutral", "eyes": "open", "skin_tone": "monk_3",
         "age_group": "old", "gender": "female", "hair_style": "short",
         "hair_color": "black", "facial_hair": "none"}


def drawn(**attrs: str) -> tuple[np.ndarray, list[tuple[float, float]]]:
    item = PlanItem(id="a", **{"class": "faces"}, seed=3, identity="person-4",
                    attributes={**CLEAN, **attrs})
    img, truth = ProceduralGenerator(image_size=256).render(item)
    return img.astype(float), truth.faces[0].landmarks


def patch(img: np.ndarray, x: float, y: float, r: int = 4) -> np.ndarray:
    return img[int(y) - r:int(y) + r + 1, int(x) - r:int(x) + r + 1]


@pytest.mark.parametrize("gender", ["female", "male"])
def test_a_womans_skin_is_evened_below_the_nose_and_a_mans_is_left_as_it_was(monkeypatch, gender):
    evened, points = drawn(gender=gender)
    monkeypatch.setattr(aging, "FEMALE_LOWER_MOTTLE", 1.0)
    uneven, _ = drawn(gender=gender)
    monkeypatch.setattr(face, "SKIN_MOTTLE", 0.0)
    smooth, _ = drawn(gender=gender)
    (lx, ly), (rx, _), (nx, ny), (_, my), _ = points
    chin = (nx, 2 * my - ny)
    forehead = (nx, ly - 0.9 * (rx - lx))
    changed = np.abs(patch(evened, *chin) - patch(uneven, *chin)).mean()
    assert np.array_equal(patch(evened, *forehead), patch(uneven, *forehead))
    if gender == "male":
        assert changed == 0.0
    else:
        assert changed > 0.5
        # nearer the skin drawn with no unevenness at all
        off = [np.abs(patch(img, *chin) - patch(smooth, *chin)).mean() for img in (evened, uneven)]
        assert off[0] < 0.5 * off[1]


def test_a_childs_blush_follows_its_gender_and_no_adult_wears_one(monkeypatch):
    blushed, points = drawn(age_group="child", gender="male")
    monkeypatch.setitem(aging.CHILD_BLUSH, "male", 0.0)
    bare, _ = drawn(age_group="child", gender="male")
    adult, _ = drawn(age_group="young_adult", gender="male")
    monkeypatch.setitem(aging.CHILD_BLUSH, "male", 1.0)
    adult_blush, _ = drawn(age_group="young_adult", gender="male")
    (lx, _), _, (_, ny), _, _ = points
    cheek = patch(blushed, lx, ny) - patch(bare, lx, ny)
    assert cheek[..., 0].mean() > 5.0 > cheek[..., 2].mean()  # redder, not lighter
    assert np.array_equal(adult, adult_blush)


def test_a_mans_upper_lip_is_shadowed_under_white_stubble_as_on_a_shaved_man(monkeypatch):
    stubbled, points = drawn(gender="male", hair_color="white", facial_hair="stubble")
    monkeypatch.setattr(aging, "LIP_SHADOW_UNDER", ("none",))
    light, _ = drawn(gender="male", hair_color="white", facial_hair="stubble")
    _, _, (nx, ny), (_, my), _ = points
    lip = (nx, ny + 0.55 * (my - ny))
    assert patch(stubbled, *lip, r=2).mean() < patch(light, *lip, r=2).mean() - 5.0
