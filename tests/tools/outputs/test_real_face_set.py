"""The embedded real-face set, and real sets a user brings in YOLO or COCO layout."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from PIL import Image

from tools.errors import FacetoryError
from tools.outputs import real_face_set
from tools.outputs.real_face_set import (
    HELD_OUT,
    embedded_real_set,
    lfw_crops,
    read_real_set,
    sources,
)
from tools.outputs.real_faces import score_haar


@pytest.fixture(scope="module")
def asked_lfw() -> list[range]:
    return []


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory, asked_lfw: list[range]) -> Path:
    """The set unpacked into an empty cache, recording which LFW-subset rows it asked for."""
    original = real_face_set.lfw_crops

    def spy(indices: range):
        asked_lfw.append(indices)
        return original(indices)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(real_face_set, "lfw_crops", spy)
        return embedded_real_set(tmp_path_factory.mktemp("cache"))


def test_the_embedded_set_holds_the_composites_and_the_packaged_photos(embedded: Path) -> None:
    card = json.loads((embedded / "set.json").read_text())
    photos = {p["name"]: len(p["faces"]) for p in sources()["photos"]}
    assert card["photos"] == list(photos)  # insightface is a dependency: both photos are there
    images = read_real_set(embedded)
    assert len(images) == 30 + len(photos) == card["images"]
    assert sum(len(i.boxes) for i in images) == 50 + sum(photos.values()) == card["faces"]
    assert yaml.safe_load((embedded / "data.yaml").read_text())["names"] == {0: "face"}
    assert (embedded / "sources.yaml").read_text() == real_face_set.SOURCES.read_text()


def test_every_box_lies_inside_its_image(embedded: Path) -> None:
    for image in read_real_set(embedded):
        with Image.open(image.path) as picture:
            w, h = picture.size
        for x1, y1, x2, y2 in image.boxes:
            assert 0 <= x1 < x2 <= w + 1e-3 and 0 <= y1 < y2 <= h + 1e-3, image.path.name


def test_the_held_out_lfw_faces_are_never_asked_for(embedded: Path,
                                                    asked_lfw: list[range]) -> None:
    assert asked_lfw == [range(0, 50), range(100, 200)]
    for asked in asked_lfw:
        assert not set(asked) & set(HELD_OUT)


def test_asking_for_a_held_out_lfw_face_is_refused() -> None:
    with pytest.raises(FacetoryError, match="held out"):
        lfw_crops(range(45, 55))
    assert lfw_crops(range(0, 2)).shape == (2, 25, 25)


def test_a_second_use_reads_the_cache_instead_of_unpacking_again(embedded: Path) -> None:
    before = (embedded / "set.json").stat().st_mtime_ns
    assert embedded_real_set(embedded.parent.parent) == embedded
    assert (embedded / "set.json").stat().st_mtime_ns == before


def test_the_haar_cascade_finds_the_astronauts_face(embedded: Path, tmp_path: Path) -> None:
    for sub, suffix in (("images", ".png"), ("labels", ".txt")):
        (tmp_path / sub).mkdir()
        shutil.copy(embedded / sub / f"astronaut{suffix}", tmp_path / sub)
    score = score_haar(tmp_path)
    assert (score.faces, score.true_positives, score.recall) == (1, 1, 1.0)


def test_a_coco_layout_set_is_read_with_its_boxes(embedded: Path, tmp_path: Path) -> None:
    shutil.copy(embedded / "images" / "astronaut.png", tmp_path / "astro.png")
    (tmp_path / "annotations.json").write_text(json.dumps({
        "images": [{"id": 7, "file_name": "astro.png", "width": 512, "height": 512}],
        "annotations": [{"id": 1, "image_id": 7, "category_id": 1, "bbox": [174, 68, 98, 110]}],
        "categories": [{"id": 1, "name": "face"}],
    }))
    [image] = read_real_set(tmp_path)
    assert image.path == tmp_path / "astro.png" and image.boxes == [(174, 68, 272, 178)]
    assert score_haar(tmp_path).recall == 1.0


@pytest.mark.parametrize("make, says", [
    (lambda p: None, "neither YOLO layout"),
    (lambda p: (p / "images").mkdir(), "no labels/"),
    (lambda p: (p / "annotations.json").write_text("{"), "not COCO detection JSON"),
    (lambda p: [(p / "images").mkdir(), (p / "labels").mkdir()], "holds no images"),
])
def test_a_folder_in_neither_layout_is_one_clear_error(tmp_path: Path, make, says: str) -> None:
    make(tmp_path)
    with pytest.raises(FacetoryError, match=says):
        read_real_set(tmp_path)
