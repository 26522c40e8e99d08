"""Real photographs behind procedural faces: on by default, deterministic, never a person,
and the faces and their boxes exactly as on a flat background."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from tools.config import ProceduralConfig
from tools.contracts import PlanItem
from tools.generate import get_generator
from tools.generate.photos import PHOTOS, crop, library
from tools.generate.procedural import ProceduralGenerator


def item(seed: int, faces: int = 1, **attributes: str) -> PlanItem:
    return PlanItem(id=f"it{seed}", **{"class": "faces"}, seed=seed, faces=faces,
                    attributes=attributes)


def corners(img: np.ndarray) -> list[np.ndarray]:
    """The two top corners, where a single centred person leaves the background bare."""
    return [img[:16, :16], img[:16, -16:]]


def detail(img: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


def draw(it: PlanItem, photo_backgrounds: float):
    """The picture and labels of `it` at 128 px with that share of photo backgrounds."""
    config = ProceduralConfig(photo_backgrounds=photo_backgrounds)
    return ProceduralGenerator(config, image_size=128).render(it)


@pytest.mark.parametrize("background", ["plain", "gradient", "indoor", "outdoor"])
def test_a_photo_background_has_real_texture_where_the_flat_one_has_none(background: str):
    it = item(11, background=background)
    flat, flat_truth = draw(it, photo_backgrounds=0.0)
    photo, photo_truth = draw(it, photo_backgrounds=1.0)
    assert photo_truth == flat_truth  # the same faces, boxes and labels, exactly
    for bare, textured in zip(corners(flat), corners(photo), strict=True):
        assert np.abs(textured.astype(int) - bare).mean() > 3
        assert detail(textured) > detail(bare) + 5


def test_the_same_seed_draws_the_same_photograph_and_another_seed_another() -> None:
    gen = ProceduralGenerator(ProceduralConfig(photo_backgrounds=1.0), image_size=96)
    a, b, c = (gen.render(item(s, faces=2))[0] for s in (3, 3, 4))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_the_share_of_photo_backgrounds_is_what_is_asked() -> None:
    half = ProceduralGenerator(ProceduralConfig(photo_backgrounds=0.5), image_size=64)
    flat = ProceduralGenerator(ProceduralConfig(photo_backgrounds=0.0), image_size=64)
    textured = sum(not np.array_equal(half.render(item(s))[0], flat.render(item(s))[0])
                   for s in range(60))
    assert 18 <= textured <= 42


def test_photo_backgrounds_are_the_default_and_a_setting() -> None:
    assert ProceduralConfig().photo_backgrounds == 1.0
    assert get_generator(ProceduralConfig(), image_size=64).photo_backgrounds == 1.0
    assert get_generator(ProceduralConfig(photo_backgrounds=0.25),
                         image_size=64).photo_backgrounds == 0.25
    with pytest.raises(ValidationError, match="photo_backgrounds"):
        ProceduralConfig(photo_backgrounds=1.5)


def test_no_photograph_shows_a_person() -> None:
    assert not {"astronaut", "camera", "lfw_subset"} & set(PHOTOS)
    assert not {"brick", "grass", "gravel"} & set(PHOTOS)  # the real-face evaluation's
    photos = library()
    assert len(photos) == len(PHOTOS)
    assert all(p.dtype == np.uint8 and p.ndim == 3 and p.shape[2] == 3 for p in photos)


def test_a_crop_has_the_asked_size_and_depends_only_on_its_draws() -> None:
    u = (0.3, 0.5, 0.2, 0.9, 0.1)
    piece = crop(u, 40, 30)
    assert piece.shape == (30, 40, 3)
    assert np.array_equal(piece, crop(u, 40, 30))
    assert not np.array_equal(piece, crop((0.7, 0.5, 0.2, 0.9, 0.1), 40, 30))
