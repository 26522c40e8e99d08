"""Downscaling only the training images whose faces wear nothing.

Shrunk to 25-50% and enlarged back, a face keeps the detail of one 15-40 px wide, in which
thin glasses frames vanish; shown so with its label `glasses`, it teaches the model to split
a small face's score between `glasses` and `none`. The downscale is therefore applied per
image as ultralytics loads it (before mosaic mixes images), and only to an image whose every
face is of a class the collages paste (`tools.outputs.collage.pasted_classes`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tools.config import AugmentConfig
from tools.outputs.collage import pasted_classes


def export_names(data_yaml: Path) -> dict[int, str]:
    """The export's class names by id, as its data.yaml lists them."""
    names = yaml.safe_load(Path(data_yaml).read_text(encoding="utf-8")).get("names") or {}
    names = dict(enumerate(names)) if isinstance(names, list) else names
    return {int(k): str(v) for k, v in names.items()}


class PlainOnly:
    """A dataset's `get_image_and_label`, with `transform` applied to the images whose faces
    are all of `classes` (an image without faces too: it has no frames to lose). A class, not
    a closure, so a dataset with it still pickles to ultralytics' loader workers."""

    def __init__(self, load: Callable[[int], dict[str, Any]], transform: Any,
                 classes: set[int]) -> None:
        self.load, self.transform, self.classes = load, transform, classes

    def __call__(self, index: int) -> dict[str, Any]:
        label = self.load(index)
        if all(int(c) in self.classes for c in label["cls"].reshape(-1)):
            label["img"] = self.transform(image=label["img"])["image"]
        return label


def downscale(augment: AugmentConfig) -> Any:
    """The whole image shrunk to 25-50% and enlarged back, for `augment.downscale` of them."""
    import albumentations as A
    import cv2

    return A.Downscale(scale_range=(0.25, 0.5), p=augment.downscale,
                       interpolation_pair={"downscale": cv2.INTER_AREA,
                                           "upscale": cv2.INTER_LINEAR})


def plain_only_trainer(augment: AugmentConfig, task: str, data_yaml: Path) -> type | None:
    """An ultralytics detection trainer whose training set applies the downscale only to the
    images of the classes `pasted_classes` picks, when `augment` asks for that; None: when it
    does not (ultralytics' own trainer, the downscale among the other transforms)."""
    if task != "detect" or augment.downscale == 0 or not augment.downscale_plain_only:
        return None
    from ultralytics.models.yolo.detect import DetectionTrainer

    transform = downscale(augment)
    classes = pasted_classes(export_names(data_yaml), augment.collage_classes)

    class Trainer(DetectionTrainer):
        def build_dataset(self, img_path: str, mode: str = "train", batch: int | None = None):
            dataset = super().build_dataset(img_path, mode, batch)
            if mode == "train":
                dataset.get_image_and_label = PlainOnly(dataset.get_image_and_label,
                                                        transform, classes)
            return dataset

    return Trainer
