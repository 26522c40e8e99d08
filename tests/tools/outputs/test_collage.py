"""Training collages: the export's training faces cut out and pasted on real textures beside
as many non-face crops, written beside a training run (the export itself unchanged)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from tools.errors import FacetoryError
from tools.outputs.collage import FACES, collage, training_faces, write_collages


def _export(root: Path, n_train: int = 4, cls: int = 1) -> Path:
    """A YOLO export whose training faces are white squares on black, class `cls` (1: none)."""
    for split, count in (("train", n_train), ("val", 1), ("test", 1)):
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
        for i in range(count):
            img = np.zeros((128, 128, 3), np.uint8)
            img[40:80, 50:90] = 255
            cv2.imwrite(str(root / "images" / split / f"{i}.png"), img)
            (root / "labels" / split / f"{i}.txt").write_text(
                f"{cls} 0.546875 0.46875 0.3125 0.3125\n")
    data = root / "data.yaml"
    data.write_text(yaml.safe_dump({"path": str(root), "train": "images/train",
                                    "val": "images/val", "test": "images/test",
                                    "names": {0: "glasses", 1: "none"}}))
    return data


def test_the_training_faces_are_cut_out_square_with_their_class(tmp_path):
    _export(tmp_path)
    faces = training_faces(tmp_path / "images" / "train")
    assert len(faces) == 4
    assert all(cls == 1 and crop.shape == (40, 40, 3) and crop.min() == 255
               for cls, crop in faces)


def test_a_collage_labels_each_pasted_face_and_pastes_as_many_crops_that_are_not_faces():
    face = np.full((40, 40, 3), 255, np.uint8)
    for seed in range(5):
        img, boxes = collage([(1, face)], 256, np.random.default_rng(seed))
        assert img.shape == (256, 256, 3) and 1 <= len(boxes) <= FACES[1]
        mask = np.zeros((256, 256), bool)
        for cls, (x0, y0, x1, y1) in boxes:
            assert cls == 1 and x1 - x0 == y1 - y0 >= 28
            assert img[y0:y1, x0:x1].min() >= 250  # the white face, pasted with hard edges
            mask[y0:y1, x0:x1] = True
        # the rest is texture and pasted texture crops, never the face again
        assert (img[~mask] >= 250).all(axis=-1).mean() < 0.2


def test_collages_are_added_to_the_training_split_only(tmp_path):
    data = _export(tmp_path / "export")
    out = write_collages(data, tmp_path / "run-collage", share=0.5, seed=7)
    spec = yaml.safe_load(out.read_text())
    images = sorted((tmp_path / "run-collage" / "images" / "train").iterdir())
    assert len(images) == 2  # half the training split's four images
    assert spec["train"] == [str((tmp_path / "export" / "images" / "train").resolve()),
                             str(tmp_path / "run-collage" / "images" / "train")]
    assert spec["val"] == str((tmp_path / "export" / "images" / "val").resolve())
    assert spec["names"] == {0: "glasses", 1: "none"}
    for image in images:
        label = tmp_path / "run-collage" / "labels" / "train" / f"{image.stem}.txt"
        rows = [r.split() for r in label.read_text().splitlines() if r]
        assert rows and all(r[0] == "1" and all(0 < float(v) <= 1 for v in r[1:]) for r in rows)
    again = write_collages(data, tmp_path / "run-collage", share=0.5, seed=7)
    assert again == out and (tmp_path / "run-collage" / "images" / "train" / images[0].name
                             ).read_bytes() == images[0].read_bytes()  # same seed, same bytes


@pytest.mark.parametrize("share", [0.0, 0.1])
def test_no_collage_is_written_when_the_share_rounds_to_none(tmp_path, share):
    data = _export(tmp_path / "export")
    assert write_collages(data, tmp_path / "run-collage", share=share, seed=7) is None
    assert not (tmp_path / "run-collage").exists()


def test_faces_that_wear_something_are_left_out_of_the_collages_unless_asked(tmp_path):
    glasses = _export(tmp_path / "glasses", cls=0)  # every training face wears glasses
    assert write_collages(glasses, tmp_path / "run-collage", share=0.5, seed=7) is None
    asked = write_collages(glasses, tmp_path / "run-collage", share=0.5, seed=7,
                           classes=["glasses"])
    labels = (tmp_path / "run-collage" / "labels" / "train").glob("*.txt")
    assert asked and {r.split()[0] for f in labels for r in f.read_text().splitlines()} == {"0"}
    with pytest.raises(FacetoryError, match="hats, not a class"):
        write_collages(glasses, tmp_path / "run-collage", share=0.5, seed=7, classes=["hats"])
