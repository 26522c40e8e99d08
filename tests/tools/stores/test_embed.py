"""The perceptual image embedding and the dlib face descriptor."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.tools.face_photos import main_face, portrait
from tools.errors import FacetoryError
from tools.stores.dedup import IMAGE_THRESHOLD
from tools.stores.embed import face_descriptor, image_embedding


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    return float(image_embedding(a) @ image_embedding(b))


def jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1]


EDITS = {
    "resize_half": lambda x: cv2.resize(x, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA),
    "resize_double": lambda x: cv2.resize(x, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC),
    "jpeg_q30": lambda x: jpeg(x, 30),
    # 10% of each side's length removed, split between the two ends
    "crop_10pct": lambda x: x[int(0.04 * x.shape[0]) : int(0.94 * x.shape[0]),
                              int(0.05 * x.shape[1]) : int(0.95 * x.shape[1])],
    "crop_6pct_one_side": lambda x: x[:, int(0.06 * x.shape[1]) :],
    "brighter_20pct": lambda x: np.clip(x * 1.2, 0, 255).astype(np.uint8),
    "darker_20pct": lambda x: (x * 0.8).astype(np.uint8),
    "mirror": lambda x: np.ascontiguousarray(x[:, ::-1]),
    "all_at_once": lambda x: jpeg(np.clip(cv2.resize(x[10:-10, 12:], None, fx=0.7, fy=0.7)
                                          [:, ::-1] * 1.15, 0, 255).astype(np.uint8), 40),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_edited_copies_stay_above_the_duplicate_threshold(edit):
    rgb = portrait()
    assert similarity(rgb, EDITS[edit](rgb)) >= IMAGE_THRESHOLD


def render(seed: int, identity: str, **attributes: str) -> np.ndarray:
    from tools.contracts import PlanItem
    from tools.generate.procedural import ProceduralGenerator

    attributes = {"eyewear": "none", "hat": "none", "mask": "none", "head_pose": "frontal",
                  **attributes}
    item = PlanItem(id="e", **{"class": "face"}, seed=seed, identity=identity,
                    attributes=attributes)
    return ProceduralGenerator(image_size=256).render_clean(item)[0]


def test_distinct_pictures_fall_below_it():
    base = render(5, "ada")
    assert similarity(base, render(6, "ada")) < IMAGE_THRESHOLD  # same person, other scene
    assert similarity(base, render(5, "ada", head_pose="left", hat="hat")) < IMAGE_THRESHOLD
    assert similarity(base, portrait()) < 0.5


def test_vector_shape_and_inputs():
    rgb = portrait()
    vec = image_embedding(rgb)
    assert vec.dtype == np.float32 and vec.ndim == 1 and len(vec) <= 512
    assert np.linalg.norm(vec) == pytest.approx(1.0, abs=1e-5)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    assert np.isfinite(image_embedding(grey)).all()
    rgba = np.dstack([rgb, np.full(grey.shape, 255, np.uint8)])
    assert image_embedding(rgba) == pytest.approx(vec)
    assert image_embedding(rgb.astype(np.float32) / 255.0) == pytest.approx(vec, abs=1e-4)
    assert np.isfinite(image_embedding(np.zeros((8, 8, 3), np.uint8))).all()  # flat image
    with pytest.raises(FacetoryError):
        image_embedding(np.zeros((5,), np.uint8))


def test_face_descriptor_same_person_and_bad_box():
    rgb = portrait()
    face = main_face(rgb)
    desc = face_descriptor(rgb, face.hog_box)
    assert desc.shape == (128,)
    mirrored = np.ascontiguousarray(rgb[:, ::-1])
    mface = main_face(mirrored)
    assert np.linalg.norm(desc - face_descriptor(mirrored, mface.hog_box)) < 0.6
    # the full-face box works too
    assert np.linalg.norm(desc - face_descriptor(rgb, face.box)) < 0.6
    with pytest.raises(FacetoryError):
        face_descriptor(rgb, (10, 10, 5, 20))


def test_whitening_spreads_common_structure_and_is_checked(tmp_path, monkeypatch):
    from tools.stores import embed

    rng = np.random.default_rng(0)
    shared = rng.normal(size=320)
    rows = shared * rng.normal(3, 1, (200, 1)) + rng.normal(size=(200, 320))
    fitted = embed.fit_whitening(rows, components=20, regulariser=5)
    matrix = np.asarray(fitted["matrix"])
    assert matrix.shape == (320, 20) and len(fitted["mean"]) == 320
    # the shared direction dominates the raw rows, not the whitened ones
    white = (rows - np.asarray(fitted["mean"])) @ matrix
    assert white.var(axis=0).max() / white.var(axis=0).min() < 10
    with pytest.raises(FacetoryError):
        embed.fit_whitening(rows[:10], components=20)
    # statistics fitted for other feature settings are refused, not silently used
    stale = tmp_path / "w.json"
    stale.write_text('{"features": {"side": 99}, "mean": [], "matrix": []}')
    monkeypatch.setattr(embed, "WHITENING_FILE", stale)
    embed._whitening.cache_clear()
    try:
        with pytest.raises(FacetoryError, match="regenerate"):
            embed.image_embedding(portrait())
    finally:
        monkeypatch.undo()
        embed._whitening.cache_clear()
    assert embed.perceptual_features(portrait()).shape == (320,)
