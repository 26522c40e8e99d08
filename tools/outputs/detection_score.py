"""How well a face detector did on a labelled set: recall, precision and AP at IoU 0.5.

Pure numpy over boxes, so any detector (a trained YOLO, OpenCV's Haar cascade) is scored by
the same rule: predictions are matched to ground truth greedily by confidence, each true face
at most once, a match needing IoU >= 0.5. Class-agnostic: a face is a face, whatever class a
synthetic dataset gave it. AP is the area under the precision envelope (every point, as VOC
2010+ and COCO's definition before sampling), over all predictions kept at the low `AP_CONF`.
The figures are typed here (`DetectionScore`, `RealFaceEvaluation`) for the report and the
dataset card to read.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, Field

IOU = 0.5
#: Predictions at or above this confidence count for recall and precision.
DEFAULT_CONF = 0.25
#: Predictions kept for AP (a low bar, as ultralytics' validator uses).
AP_CONF = 0.001


class ImageResult(BaseModel):
    """One image: its true boxes and a detector's boxes with confidences (pixels, x1 y1 x2 y2)."""

    name: str
    truth: list[tuple[float, float, float, float]] = Field(default_factory=list)
    boxes: list[tuple[float, float, float, float]] = Field(default_factory=list)
    scores: list[float] = Field(default_factory=list)


class Interval(BaseModel):
    """A bootstrap percentile interval."""

    low: float
    high: float
    level: float = 0.95
    resamples: int
    seed: int


class DetectionScore(BaseModel):
    """A detector's figures on one labelled set at IoU 0.5."""

    detector: str
    """What was scored: `yolo:<weights>` or `haar:<cascade file>`."""
    images: int
    faces: int
    conf: float | None
    """Recall and precision count predictions at or above this confidence (None: every box
    the detector returned, as for the Haar cascade, which has no confidence to threshold)."""
    recall: float
    precision: float
    true_positives: int
    detections: int
    """Predictions at or above `conf`."""
    mAP50: float
    """Class-agnostic AP at IoU 0.5 over every prediction kept (conf >= 0.001)."""
    mAP50_ci95: Interval | None = None
    """Bootstrap interval of mAP50 over images (resampled with replacement), when asked."""


class RealFaceEvaluation(BaseModel):
    """A trained model and the Haar cascade on real faces, beside the model's synthetic score."""

    real_set: str
    """`embedded-v1` (the packaged photos and LFW crops 0-49) or the folder scored."""
    real_set_path: str
    sources: str | None = None
    """Where the real set's photos come from and under which licence (the embedded set)."""
    weights: str
    imgsz: int
    export_sha256: str | None = None
    """The export the model was trained on (metrics.json's dataset_sha256)."""
    model: DetectionScore
    haar: DetectionScore
    synthetic: DetectionScore | None = None
    """The same model on the synthetic test split, mAP50 with a bootstrap 95% interval."""


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in `a` (n x 4) with every box in `b` (m x 4), x1 y1 x2 y2."""
    a = np.asarray(a, dtype=float).reshape(-1, 4)
    b = np.asarray(b, dtype=float).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def match_image(result: ImageResult, iou: float = IOU) -> tuple[np.ndarray, np.ndarray]:
    """(scores, is_true_positive) of one image's predictions, matched greedily by confidence."""
    scores = np.asarray(result.scores, dtype=float)
    order = np.argsort(-scores, kind="stable")
    overlap = iou_matrix(np.asarray(result.boxes)[order] if len(order) else np.zeros((0, 4)),
                         np.asarray(result.truth) if result.truth else np.zeros((0, 4)))
    taken = np.zeros(overlap.shape[1], dtype=bool)
    hit = np.zeros(len(order), dtype=bool)
    for i in range(len(order)):
        candidates = np.where(~taken & (overlap[i] >= iou))[0]
        if len(candidates):
            best = candidates[np.argmax(overlap[i, candidates])]
            taken[best] = hit[i] = True
    return scores[order], hit


def average_precision(scores: np.ndarray, hits: np.ndarray, n_truth: int) -> float:
    """Area under the precision envelope of the ranked predictions (0 without true faces)."""
    if n_truth == 0 or len(scores) == 0:
        return 0.0
    order = np.argsort(-scores, kind="stable")
    tp = np.cumsum(hits[order])
    recall = np.concatenate([[0.0], tp / n_truth])
    precision = np.concatenate([[1.0], tp / np.arange(1, len(tp) + 1)])
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    return float(np.sum((recall[1:] - recall[:-1]) * envelope[1:]))


def score_results(
    results: Sequence[ImageResult],
    detector: str,
    *,
    conf: float | None = DEFAULT_CONF,
    bootstrap: int = 0,
    seed: int = 0,
) -> DetectionScore:
    """Recall, precision (at `conf`) and AP50 of a detector over images; with `bootstrap` > 0,
    a 95% interval of AP50 from that many resamples of the images (same seed, same interval)."""
    matched = [match_image(r) for r in results]
    faces = sum(len(r.truth) for r in results)
    ap = _ap_of(matched, [len(r.truth) for r in results])
    kept = [(s >= conf if conf is not None else np.ones_like(h), h) for s, h in matched]
    detections = int(sum(k.sum() for k, _ in kept))
    tp = int(sum((k & h).sum() for k, h in kept))
    interval = None
    if bootstrap > 0 and results:
        interval = _bootstrap(matched, [len(r.truth) for r in results], bootstrap, seed)
    return DetectionScore(
        detector=detector,
        images=len(results),
        faces=faces,
        conf=conf,
        recall=round(tp / faces, 4) if faces else 0.0,
        precision=round(tp / detections, 4) if detections else 0.0,
        true_positives=tp,
        detections=detections,
        mAP50=round(ap, 4),
        mAP50_ci95=interval,
    )


def _ap_of(matched: list[tuple[np.ndarray, np.ndarray]], truths: list[int]) -> float:
    if not matched:
        return 0.0
    scores = np.concatenate([s for s, _ in matched])
    hits = np.concatenate([h for _, h in matched])
    return average_precision(scores, hits, sum(truths))


def _bootstrap(matched: list[tuple[np.ndarray, np.ndarray]], truths: list[int],
               resamples: int, seed: int) -> Interval:
    """Percentile interval: the images are the sampled unit (faces in one image go together)."""
    rng = np.random.default_rng(seed)
    n = len(matched)
    values = []
    for _ in range(resamples):
        pick = rng.integers(0, n, size=n)
        values.append(_ap_of([matched[i] for i in pick], [truths[i] for i in pick]))
    low, high = np.percentile(values, [2.5, 97.5])
    return Interval(low=round(float(low), 4), high=round(float(high), 4), resamples=resamples,
                    seed=seed)
