"""Age cues of the procedural renderer: the aged skin's texture."""

from __future__ import annotations

import numpy as np
import pytest

from tools.contracts import PlanItem
from tools.generate import aging
from tools.generate.procedural import ProceduralGenerator

CLEAN = {"mask": "none", "eyewear": "none", "hat": "none", "head_pose": "frontal",
         "lighting": "front", "expression": "neutral", "eyes": "open", "hair_style": "short",
         "gender": "female", "skin_tone": "monk_5"}


def render(age_group: str, seed: int = 41) -> np.ndarray:
    item = PlanItem(id="a", **{"class": "faces"}, seed=seed,
                    attributes={**CLEAN, "age_group": age_group})
    return ProceduralGenerator(image_size=256).render_clean(item)[0]


def texture(age_group: str, monkeypatch: pytest.MonkeyPatch) -> np.ndarray:
    """Per-pixel, per-channel log ratio of the face with its aged skin to the face without,
    where the two differ."""
    with monkeypatch.context() as m:
        m.setattr(aging, "SKIN_AGE", {})
        bare = render(age_group).astype(np.float64)
    aged = render(age_group).astype(np.float64)
    changed = np.abs(aged - bare).max(axis=-1) > 0
    lit = changed & (bare.min(axis=-1) > 20) & (aged.max(axis=-1) < 250)
    return np.log((aged[lit] + 0.5) / (bare[lit] + 0.5))


def test_an_old_face_skin_is_textured_in_its_own_colour(monkeypatch) -> None:
    ratio = texture("old", monkeypatch)
    assert ratio.shape[0] > 2000  # the whole face, not a few pixels
    assert ratio.std() > 0.02
    # each pixel lighter or darker by one factor in every channel: the hue stays
    across_channels = ratio.std(axis=-1)
    assert np.median(across_channels) < 0.2 * np.median(np.abs(ratio).mean(axis=-1))


def test_the_skin_texture_rises_with_age_and_spares_the_young(monkeypatch) -> None:
    middle, old = texture("middle_aged", monkeypatch), texture("old", monkeypatch)
    assert 0.3 < middle.std() / old.std() < 0.7
    assert texture("young_adult", monkeypatch).size == 0


def test_aged_skin_is_the_same_every_time() -> None:
    assert np.array_equal(render("elderly"), render("elderly"))
