"""Does a detector trained on synthetic faces find real ones? Scored beside OpenCV's Haar cascade.

    from tools.outputs.real_faces import embedded_real_set, score_detector, score_haar
    real = embedded_real_set()                      # unpacked once into the cache
    score_detector("runs/detect/weights/best.pt", real, imgsz=160).recall
    score_haar(real).recall

`yolo_results` and `haar_results` give the boxes per image, for scoring a subset
(`detection_score.score_results`). `evaluate_run` does the whole check for a build's trained
model (and re-scores the synthetic test split per image, for a bootstrap interval of its
mAP50) and saves `real_faces.json` beside the run's `metrics.json`, naming the real set and
the export the model was trained on. Both detectors are scored class-agnostically by
`detection_score` at IoU 0.5.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2

from tools.atomic import write_text
from tools.errors import FacetoryError
from tools.outputs.detection_score import (
    AP_CONF,
    DEFAULT_CONF,
    DetectionScore,
    ImageResult,
    RealFaceEvaluation,
    score_results,
)
from tools.outputs.real_face_set import (
    EMBEDDED,
    SOURCES,
    LabelledImage,
    embedded_real_set,
    read_real_set,
)

__all__ = ["embedded_real_set", "score_detector", "score_haar", "evaluate_run",
           "yolo_results", "haar_results", "read_real_set", "RealFaceEvaluation",
           "resolve_real_set", "read_evaluation", "RESULT_FILE"]

RESULT_FILE = "real_faces.json"
HAAR_CASCADE = "haarcascade_frontalface_default.xml"
#: Haar's usual settings (OpenCV's face-detection tutorial): what it returns is what it found.
HAAR_SETTINGS = {"scaleFactor": 1.1, "minNeighbors": 5, "minSize": (20, 20)}
BOOTSTRAP = 1000


def resolve_real_set(setting: str | Path | None, cache_dir: Path | None = None) -> Path | None:
    """`embedded` (or None) -> the embedded set's folder; `none` -> None; else that folder."""
    if setting is None or str(setting) == "embedded":
        return embedded_real_set(cache_dir)
    if str(setting) == "none":
        return None
    return Path(setting)


def score_detector(
    weights: str | Path,
    real_dir: str | Path,
    *,
    imgsz: int,
    conf: float = DEFAULT_CONF,
    split: str | None = None,
    bootstrap: int = 0,
    seed: int = 0,
    device: str | None = None,
) -> DetectionScore:
    """A YOLO checkpoint on a labelled set at `imgsz`, classes merged (NMS across classes too,
    so one face gets one box whatever class it was given)."""
    results = yolo_results(weights, read_real_set(real_dir, split), imgsz=imgsz, device=device)
    return score_results(results, f"yolo:{weights}", conf=conf, bootstrap=bootstrap, seed=seed)


def score_haar(real_dir: str | Path, *, split: str | None = None) -> DetectionScore:
    """OpenCV's frontal-face Haar cascade on the same images: every face it returns counts for
    recall and precision; its level weights rank them for AP."""
    return score_results(haar_results(read_real_set(real_dir, split)), f"haar:{HAAR_CASCADE}",
                         conf=None)


def haar_results(images: list[LabelledImage]) -> list[ImageResult]:
    """The Haar cascade's boxes and level weights on each image, beside its true boxes."""
    from tools.critic.faces import haar_cascade

    cascade = haar_cascade(HAAR_CASCADE)
    results = []
    for image in images:
        grey = cv2.imread(str(image.path), cv2.IMREAD_GRAYSCALE)
        if grey is None:
            raise FacetoryError(f"{image.path} is not a readable image")
        rects, _, weights = cascade.detectMultiScale3(grey, outputRejectLevels=True,
                                                      **HAAR_SETTINGS)
        boxes = [(float(x), float(y), float(x + w), float(y + h)) for x, y, w, h in rects]
        results.append(ImageResult(name=image.path.name, truth=image.boxes, boxes=boxes,
                                   scores=[float(v) for v in weights]))
    return results


def evaluate_run(
    metrics_path: str | Path,
    real: str | Path | None = None,
    *,
    conf: float = DEFAULT_CONF,
    cache_dir: Path | None = None,
    seed: int = 0,
) -> RealFaceEvaluation:
    """Score a training run's best weights on a real set (default: the embedded one) and on its
    synthetic test split; write `real_faces.json` beside `metrics.json` and return it."""
    metrics_path = Path(metrics_path)
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    if metrics.get("task") != "detect":
        raise FacetoryError("real-face scores need a detect model; this run is a classifier")
    weights, imgsz = Path(metrics["weights"]), int(metrics["imgsz"])
    if not weights.is_file():
        raise FacetoryError(f"the run's weights are gone: {weights}; run `facetory train` again")
    real_dir = resolve_real_set(real, cache_dir)
    if real_dir is None:
        raise FacetoryError("no real-face set to score on (real_faces: none)")
    embedded = real is None or str(real) == "embedded"
    result = RealFaceEvaluation(
        real_set=EMBEDDED if embedded else str(real_dir),
        real_set_path=str(real_dir),
        sources=str(SOURCES) if embedded else None,
        weights=str(weights),
        imgsz=imgsz,
        export_sha256=metrics.get("dataset_sha256"),
        model=score_detector(weights, real_dir, imgsz=imgsz, conf=conf),
        haar=score_haar(real_dir),
        synthetic=_synthetic_score(metrics, weights, imgsz, conf, seed),
    )
    write_text(metrics_path.parent / RESULT_FILE, result.model_dump_json(indent=2) + "\n")
    return result


def read_evaluation(metrics: dict[str, Any] | None) -> RealFaceEvaluation | None:
    """The real-face evaluation saved beside a run's metrics, when it measured these weights."""
    if not metrics or "weights" not in metrics:
        return None
    path = Path(metrics["weights"]).parent.parent / RESULT_FILE
    if not path.is_file():
        return None
    try:
        found = RealFaceEvaluation.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError:
        return None
    return found if found.export_sha256 == metrics.get("dataset_sha256") else None


def _synthetic_score(metrics: dict[str, Any], weights: Path, imgsz: int, conf: float,
                     seed: int) -> DetectionScore | None:
    """The model on its own test split, per image, so its mAP50 gets a bootstrap interval."""
    root = Path(metrics.get("data", "")).parent
    if not (root / "images" / "test").is_dir():
        return None
    return score_detector(weights, root, imgsz=imgsz, conf=conf, split="test",
                          bootstrap=BOOTSTRAP, seed=seed)


def yolo_results(weights: str | Path, images: list[LabelledImage], *, imgsz: int,
                 device: str | None = None) -> list[ImageResult]:
    """Every box a YOLO checkpoint gives each image at conf >= AP_CONF (pixels of the original
    image), classes merged, beside the image's true boxes."""
    from tools.outputs.train import _offline_ultralytics, pick_device

    weights = Path(weights)
    if not weights.is_file():
        raise FacetoryError(f"weights file not found: {weights}")
    with _offline_ultralytics():
        from ultralytics import YOLO

        yolo = YOLO(str(weights), task="detect")
        results = []
        for image in images:
            found = yolo.predict(str(image.path), imgsz=imgsz, conf=AP_CONF, agnostic_nms=True,
                                 device=pick_device(device), verbose=False, max_det=100)[0]
            boxes = found.boxes
            results.append(ImageResult(
                name=image.path.name, truth=image.boxes,
                boxes=[tuple(map(float, b)) for b in boxes.xyxy.tolist()],
                scores=[float(s) for s in boxes.conf.tolist()]))
    return results
