"""Augmentations: labelled text-guided variants and classical ones that keep labels true."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from tools.config import DiffusersConfig
from tools.contracts import FaceTruth, GroundTruth, PlanItem
from tools.errors import FacetoryError
from tools.generate.augment import (
    Img2ImgAugmenter,
    augment_file,
    classical_augment,
    transformation_prompt,
    variant_items,
)
from tools.generate.procedural import ProceduralGenerator
from tools.generate.provenance import read_provenance

KID = PlanItem(id="kid7", **{"class": "asian"}, seed=77, prompt="photo of a child",
               attributes={"age_group": "child", "expression": "neutral", "eyewear": "none"})
COLORS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (255, 0, 255)]


def test_transformation_prompt_names_each_change() -> None:
    text = transformation_prompt("photo of a child,", {"expression": "smile", "eyes": "closed",
                                                       "hair_color": "red", "scarf": "wool"})
    assert text.startswith("photo of a child, smiling")
    assert "eyes closed" in text and "with red hair" in text and "scarf: wool" in text


def test_variant_items_are_labelled_and_keep_the_person() -> None:
    items = variant_items(KID, {"expression": "smile"}, 3, name="happy")
    assert [v.id for v in items] == ["kid7-happy0", "kid7-happy1", "kid7-happy2"]
    assert items[0].seed == KID.seed and len({v.seed for v in items}) == 3
    assert all(v.attributes == {**KID.attributes, "expression": "smile"} for v in items)
    assert {v.identity for v in items} == {"anon:77:0"}
    assert "smiling" in items[0].prompt
    assert variant_items(KID, {"age_group": "old"})[0].id == "kid7-aug0"
    with pytest.raises(FacetoryError, match="no level 'grin'"):
        variant_items(KID, {"expression": "grin"})


def test_procedural_variant_changes_only_what_was_asked() -> None:
    gen = ProceduralGenerator(image_size=128)
    src, src_truth = gen.render(KID)
    (variant,) = variant_items(KID, {"eyewear": "sunglasses"})
    out, truth = gen.render(variant)
    before, after = src_truth.faces[0], truth.faces[0]
    assert after.attributes["eyewear"] == "sunglasses"
    assert {k: v for k, v in after.attributes.items() if k != "eyewear"} == {
        k: v for k, v in before.attributes.items() if k != "eyewear"}
    assert after.box == before.box and after.landmarks == before.landmarks
    changed = np.abs(out.astype(int) - src).max(axis=2) > 30
    assert 0 < changed.mean() < 0.1  # the glasses, nothing else


def dots_image(size: int = 128) -> tuple[np.ndarray, GroundTruth]:
    """A black image with five coloured dots where the landmarks of one face are."""
    img = np.zeros((size, size, 3), np.uint8)
    points = [(48.0, 50.0), (80.0, 50.0), (64.0, 66.0), (52.0, 84.0), (76.0, 84.0)]
    for (x, y), color in zip(points, COLORS, strict=True):
        cv2.circle(img, (int(x), int(y)), 3, color, -1)
    face = FaceTruth(box=(36.0, 34.0, 92.0, 96.0), landmarks=points,
                     attributes={"head_pose": "left", "lighting": "right", "gender": "male"})
    return img, GroundTruth(faces=[face], faults=["blurry"])


def centroid(img: np.ndarray, color: tuple[int, int, int]) -> tuple[float, float]:
    dist = np.abs(img.astype(int) - np.array(color)).sum(axis=2)
    ys, xs = np.nonzero(dist < 200)
    assert len(xs), f"dot {color} vanished"
    return float(xs.mean()), float(ys.mean())


@pytest.mark.parametrize("seed", range(8))
def test_geometry_moves_landmarks_and_boxes_with_the_pixels(seed: int) -> None:
    img, truth = dots_image()
    out, new, applied = classical_augment(img, truth, seed=seed, ops=("flip", "crop", "rotate"))
    face = new.faces[0]
    flipped = "flip" in applied
    order = [1, 0, 2, 4, 3] if flipped else [0, 1, 2, 3, 4]
    for new_index, old_index in enumerate(order):
        x, y = centroid(out, COLORS[old_index])
        px, py = face.landmarks[new_index]
        assert abs(x - px) < 2.0 and abs(y - py) < 2.0, (applied, new_index)
    left_eye, right_eye = face.landmarks[0], face.landmarks[1]
    assert left_eye[0] < right_eye[0]  # still the image-left eye after a flip
    x0, y0, x1, y1 = face.box
    assert all(x0 <= x <= x1 and y0 <= y <= y1 for x, y in face.landmarks)
    assert face.attributes["head_pose"] == ("right" if flipped else "left")
    assert face.attributes["lighting"] == ("left" if flipped else "right")
    assert face.attributes["gender"] == "male" and new.faults == ["blurry"]


def test_all_ops_are_used_and_deterministic() -> None:
    img, truth = ProceduralGenerator(image_size=96).render(KID)
    seen: set[str] = set()
    for seed in range(12):
        out, new, applied = classical_augment(img, truth, seed=seed)
        again, _, _ = classical_augment(img, truth, seed=seed)
        assert np.array_equal(out, again)
        assert out.shape == img.shape and len(new.faces) == 1
        seen |= set(applied)
    assert seen == {"flip", "color", "blur", "jpeg", "crop", "rotate"}
    with pytest.raises(FacetoryError, match="unknown augmentation"):
        classical_augment(img, truth, seed=0, ops=("swirl",))


def test_augment_file_writes_a_labelled_variant(tmp_path: Path) -> None:
    (src,) = ProceduralGenerator(image_size=96).generate([KID], tmp_path)
    variant = augment_file(src, tmp_path, variant=2)
    assert variant.item_id == "kid7-c2" and Path(variant.path).is_file()
    assert read_provenance(variant.path)["augmentation"].startswith("classical:")
    assert variant.truth is not None and len(variant.truth.faces) == 1
    again = augment_file(src, tmp_path / "again", variant=2)
    assert np.array_equal(np.asarray(Image.open(variant.path)), np.asarray(Image.open(again.path)))


def test_img2img_variants_through_the_user_loader(tiny_sd: Path, tmp_path: Path) -> None:
    source = ProceduralGenerator(image_size=64).render(KID)[0]
    items = variant_items(KID, {"expression": "smile"}, 2, name="smile")
    aug = Img2ImgAugmenter(DiffusersConfig(model=str(tiny_sd), steps=2, device="cpu"))
    out = aug.augment(source, items, tmp_path, strength=0.5)
    assert [o.item_id for o in out] == ["kid7-smile0", "kid7-smile1"]
    a, b = (np.asarray(Image.open(o.path), dtype=np.int16) for o in out)
    assert a.shape == (64, 64, 3) and np.abs(a - b).mean() > 0.5  # seeds differ
    meta = read_provenance(out[0].path)
    assert meta["augmentation"] == "img2img" and meta["strength"] == "0.5"
    with pytest.raises(FacetoryError, match="strength"):
        aug.augment(source, items, tmp_path, strength=0.0)


def test_an_unsafe_augmentation_prompt_is_refused_before_anything_is_drawn(
        tiny_sd: Path, tmp_path: Path) -> None:
    from tools.safety import UnsafePrompt

    source = ProceduralGenerator(image_size=64).render(KID)[0]
    items = variant_items(KID, {"expression": "smile"}, 2, name="smile",
                          prompt="a child with a split lip and bruises")
    aug = Img2ImgAugmenter(DiffusersConfig(model=str(tiny_sd), steps=2, device="cpu"))
    with pytest.raises(UnsafePrompt, match="refused: item kid7-smile0: .*split lip"):
        aug.augment(source, items, tmp_path / "out", strength=0.5)
    assert not (tmp_path / "out").exists()
