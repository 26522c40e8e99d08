"""What the face drawer puts on the skin: facial hair over the jaw, not up the cheeks."""

from __future__ import annotations

import numpy as np

from tools.contracts import PlanItem
from tools.generate.procedural import ProceduralGenerator

CLEAN = {"mask": "none", "eyewear": "none", "hat": "none", "head_pose": "frontal",
         "lighting": "front", "expression": "neutral", "eyes": "open", "skin_tone": "monk_3",
         "age_group": "middle_aged", "gender": "male", "hair_style": "short",
         "hair_color": "black"}


def drawn(facial_hair: str) -> tuple[np.ndarray, list[tuple[float, float]]]:
    item = PlanItem(id="f", **{"class": "faces"}, seed=5, identity="person-8",
                    attributes={**CLEAN, "facial_hair": facial_hair})
    img, truth = ProceduralGenerator(image_size=256).render(item)
    return img.astype(float), truth.faces[0].landmarks


def test_stubble_covers_the_chin_and_leaves_the_cheeks_bare():
    stubble, points = drawn("stubble")
    bare, _ = drawn("none")
    (lx, _), (rx, _), (nx, ny), (_, my), _ = points
    change = np.abs(stubble - bare).mean(axis=2)
    cy, out = int(ny + 0.4 * (my - ny)), 0.3 * (rx - lx)
    cheeks = [change[cy - 3:cy + 4, int(x) - 3:int(x) + 4].mean() for x in (lx - out, rx + out)]
    chin = change[int(2 * my - ny) - 3:int(2 * my - ny) + 4, int(nx) - 3:int(nx) + 4].mean()
    assert max(cheeks) < 1.0  # beside the nose wings, outside the eyes: skin as it was
    assert chin > 5.0  # below the mouth: the stubble
