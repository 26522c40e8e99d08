"""YOLO training on a tiny export: offline, measured on the test split, metrics.json written.

The dataset is 30 OpenCV-drawn images (tests.tools.synthetic_records); one or two epochs at
64 px keep each run to seconds on CPU. The test split deliberately holds two faces per image
and the validation split one, so the instance count proves which split was measured.
"""

from __future__ import annotations

import json
import os
import shutil
import socket

import numpy as np
import pytest

from tests.tools.synthetic_records import CLASSES, make_records
from tools.config import AugmentConfig
from tools.errors import FacetoryError
from tools.outputs.contracts import ExportInfo, class_slug
from tools.outputs.export import export_dataset
from tools.outputs.train import (
    augmentations,
    dataset_fingerprint,
    latest_metrics,
    read_curves,
    resolve_dataset,
    train_yolo,
)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("build")
    # per class: 8 train, 1 val (one face), 1 test (two faces: i = 9 with multi_face_every=5)
    records = make_records(root, per_class=10, size=64, rejected_per_class=0,
                           duplicates_per_class=0, multi_face_every=5)
    info = ExportInfo(name="tiny", class_names=CLASSES)
    export_dataset(records, info, root / "dataset", base_dir=root)
    return root


@pytest.fixture
def no_network(monkeypatch):
    """Fail any attempt to reach the network; record what was tried."""
    attempts: list[str] = []

    def refuse(*args, **kwargs):
        attempts.append(repr(args[:2]))
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


def test_detect_trains_offline_and_measures_the_test_split(dataset, no_network):
    result = train_yolo(dataset / "dataset", "detect", dataset / "runs", epochs=2, imgsz=64,
                        batch=8, device="cpu")

    assert no_network == []  # no weights, fonts or analytics fetched
    assert result.weights.is_file() and result.weights.parent.parent == dataset / "runs/detect"
    metrics = json.loads(result.metrics_path.read_text())
    assert metrics == json.loads(json.dumps(result.metrics))
    assert metrics["split"] == "test" and metrics["task"] == "detect"
    agnostic = metrics["face_detection"]  # class-agnostic: faces found, whatever the class
    assert set(agnostic) == {"precision", "recall", "mAP50", "mAP50-95"}
    assert all(0.0 <= v <= 1.0 for v in agnostic.values())
    assert metrics["images"] == {"train": 24, "val": 3, "test": 3}
    assert metrics["augment"] == AugmentConfig().model_dump()  # what training varied
    # the export it measured, as the report checks it (ultralytics' label caches aside)
    data = resolve_dataset(dataset / "dataset", "detect")
    assert metrics["dataset_sha256"] == dataset_fingerprint(data, "detect")
    # the test split has two faces per image, the validation split one: this is the test split
    assert metrics["overall"]["images"] == 3 and metrics["overall"]["instances"] == 6
    assert set(metrics["per_class"]) == set(CLASSES)
    for figures in [metrics["overall"], *metrics["per_class"].values()]:
        for key in ("precision", "recall", "mAP50", "mAP50-95"):
            assert 0.0 <= figures[key] <= 1.0
    assert all(m["instances"] == 2 for m in metrics["per_class"].values())
    curves = metrics["curves"]
    assert curves["epoch"] == [1.0, 2.0]
    assert len(curves["train/box_loss"]) == 2 and len(curves["metrics/mAP50(B)"]) == 2


def test_training_output_goes_to_the_log_and_each_epoch_is_reported_once(dataset, capfd):
    epochs: list[tuple[int, int]] = []
    log = dataset / "train.log"
    train_yolo(dataset / "dataset", "detect", dataset / "runs", name="quiet", epochs=2,
               imgsz=64, batch=8, device="cpu", on_epoch=lambda *e: epochs.append(e),
               log_path=log)

    assert epochs == [(1, 2), (2, 2)]  # not a third call for the final validation
    shown = capfd.readouterr()
    assert "Ultralytics" not in shown.out + shown.err and "Epoch" not in shown.out + shown.err
    written = log.read_text()
    assert "Ultralytics" in written and "mAP50" in written  # the argument dump and its bars


def test_the_augment_block_becomes_ultralytics_scale_and_albumentations_transforms():
    import albumentations as A

    greys = AugmentConfig(downscale=0.0, grey=1.0, blur=0.0, noise=0.0, jpeg=0.0, contrast=0.0,
                          scale=0.6)
    args = augmentations(greys, "detect")
    assert args["scale"] == 0.6
    [grey] = args["augmentations"]  # transforms asked for with share 0 are left out
    assert isinstance(grey, A.ToGray) and grey.p == 1.0
    colour = np.zeros((32, 32, 3), np.uint8)
    colour[..., 0], colour[..., 1] = 200, np.arange(32, dtype=np.uint8)[None, :] * 4
    shown = grey(image=colour)["image"]
    assert shown.shape == (32, 32, 3)  # still three channels, all equal: a grey picture
    assert np.array_equal(shown[..., 0], shown[..., 1]) and np.array_equal(shown[..., 1],
                                                                           shown[..., 2])
    everything = augmentations(AugmentConfig(), "detect")["augmentations"]
    assert [type(t).__name__ for t in everything] == [
        "Downscale", "ToGray", "Blur", "GaussNoise", "ImageCompression",
        "RandomBrightnessContrast"]
    assert augmentations(AugmentConfig(), "classify") == {}  # its own pipeline


def test_a_downscaled_training_image_keeps_its_size_and_loses_the_detail_of_a_small_face():
    only = AugmentConfig(downscale=1.0, grey=0.0, blur=0.0, noise=0.0, jpeg=0.0, contrast=0.0)
    [shrink] = augmentations(only, "detect")["augmentations"]
    stripes = np.zeros((160, 160, 3), np.uint8)
    stripes[::2] = 255  # one-pixel detail: gone once the picture is 40-80 px across
    shown = shrink(image=stripes)["image"]
    assert shown.shape == stripes.shape
    assert np.abs(shown.astype(int) - stripes).mean() > 60


def test_the_collages_paste_the_faces_of_the_classes_the_spec_names(dataset):
    asked = AugmentConfig(collage=1.0, collage_classes=["Asian"])
    started = []
    result = train_yolo(dataset / "dataset", "detect", dataset / "runs", name="asian", epochs=1,
                        imgsz=64, batch=8, device="cpu", augment=asked,
                        on_start=lambda images, collages: started.append((images, collages)))
    labels = sorted((dataset / "runs" / "asian-collage" / "labels" / "train").glob("*.txt"))
    pasted = {row.split()[0] for label in labels for row in label.read_text().splitlines()}
    assert labels and pasted == {str(CLASSES.index("Asian"))}
    # what training learned from is told before it starts and kept in its metrics
    train_images = result.metrics["images"]["train"]
    assert started == [(train_images, len(labels))] and len(labels) == train_images
    assert result.metrics["collage_images"] == len(labels)
    # no class shows nothing worn here, so by default every class is pasted
    everyone = AugmentConfig(collage=1.0)
    train_yolo(dataset / "dataset", "detect", dataset / "runs", name="all", epochs=1,
               imgsz=64, batch=8, device="cpu", augment=everyone)
    labels = sorted((dataset / "runs" / "all-collage" / "labels" / "train").glob("*.txt"))
    pasted = {row.split()[0] for label in labels for row in label.read_text().splitlines()}
    assert pasted == {"0", "1", "2"}


def test_collages_of_a_class_the_export_lacks_are_refused_by_name(dataset):
    wrong = AugmentConfig(collage=1.0, collage_classes=["glasses"])
    with pytest.raises(FacetoryError, match="collage_classes names glasses"):
        train_yolo(dataset / "dataset", "detect", dataset / "runs", name="wrong", epochs=1,
                   imgsz=64, batch=8, device="cpu", augment=wrong)


def test_classify_trains_on_face_crops(dataset):
    result = train_yolo(dataset / "dataset", "classify", dataset / "runs", epochs=1, imgsz=64,
                        batch=8, device="cpu")
    metrics = result.metrics
    assert metrics["split"] == "test"
    assert metrics["images"]["test"] == 6  # two face crops per test image
    assert 0.0 <= metrics["overall"]["top1"] <= metrics["overall"]["top5"] <= 1.0
    assert set(metrics["per_class"]) == {class_slug(c) for c in CLASSES}
    assert sum(m["images"] for m in metrics["per_class"].values()) == 6
    assert len(metrics["curves"]["epoch"]) == 1


def test_missing_weights_are_never_downloaded(dataset):
    with pytest.raises(FacetoryError, match="nothing is downloaded"):
        train_yolo(dataset / "dataset", "detect", dataset / "runs", epochs=1,
                   model="yolo11n.pt")
    with pytest.raises(FacetoryError, match="weights file not found"):
        train_yolo(dataset / "dataset", "detect", dataset / "runs", epochs=1,
                   weights=dataset / "nope.pt")


def test_an_export_without_a_test_split_is_refused(tmp_path):
    records = make_records(tmp_path, per_class=3, size=64, rejected_per_class=0,
                           duplicates_per_class=0)
    records = [r.model_copy(update={"split": "train"}) if r.split == "test" else r
               for r in records]
    export_dataset(records, ExportInfo(class_names=CLASSES), tmp_path / "dataset",
                   base_dir=tmp_path)
    with pytest.raises(FacetoryError, match="no test images"):
        train_yolo(tmp_path / "dataset", "detect", tmp_path / "runs", epochs=1)
    with pytest.raises(FacetoryError, match="no YOLO detect export"):
        resolve_dataset(tmp_path / "elsewhere", "detect")


def test_read_curves_keeps_gaps_as_none(tmp_path):
    csv = tmp_path / "results.csv"
    csv.write_text("epoch, train/loss, metrics/accuracy_top1\n1, 2.5, 0.3\n2, nan, \n")
    assert read_curves(csv) == {
        "epoch": [1.0, 2.0], "train/loss": [2.5, None], "metrics/accuracy_top1": [0.3, None]
    }


def test_latest_metrics_picks_the_newest_run(tmp_path):
    assert latest_metrics(tmp_path) is None
    for i, name in enumerate(["old", "new"]):
        path = tmp_path / name / "metrics.json"
        path.parent.mkdir()
        path.write_text(json.dumps({"name": name}))
        os.utime(path, (1000 + i, 1000 + i))
    assert latest_metrics(tmp_path) == {"name": "new"}


def test_metrics_of_a_model_trained_on_another_version_of_the_export_are_not_shown(
        dataset, tmp_path):
    export = tmp_path / "dataset"
    shutil.copytree(dataset / "dataset", export)
    data = resolve_dataset(export, "detect")
    run = tmp_path / "runs" / "detect" / "metrics.json"
    run.parent.mkdir(parents=True)
    run.write_text(json.dumps({"task": "detect",
                               "dataset_sha256": dataset_fingerprint(data, "detect")}))
    assert latest_metrics(tmp_path / "runs", export)["task"] == "detect"
    # the plan was edited and the build re-exported: one image's boxes changed
    label = next((data.parent / "labels" / "train").glob("*.txt"))
    label.write_text(label.read_text() + "0 0.5 0.5 0.1 0.1\n")
    assert latest_metrics(tmp_path / "runs", export) is None
    assert latest_metrics(tmp_path / "runs")["task"] == "detect"  # asked without an export


def test_ultralytics_logger_goes_to_the_log_file_or_stays_on_the_terminal(tmp_path, capsys):
    from ultralytics.utils import LOGGER

    from tools.outputs.train import ultralytics_output

    terminal = [h.stream for h in LOGGER.handlers]
    log = tmp_path / "train.log"
    with ultralytics_output(log):
        LOGGER.info("layer table")
        print("a progress bar")
    assert [h.stream for h in LOGGER.handlers] == terminal  # given back afterwards
    with ultralytics_output(None):  # --verbose: left where it was
        assert [h.stream for h in LOGGER.handlers] == terminal

    assert log.read_text().splitlines() == ["layer table", "a progress bar"]
    shown = capsys.readouterr().out
    assert "layer table" not in shown and "a progress bar" not in shown
