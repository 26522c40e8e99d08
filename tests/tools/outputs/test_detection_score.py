"""Scoring a detector's boxes against true faces: recall, precision and AP at IoU 0.5."""

from __future__ import annotations

import numpy as np
import pytest

from tools.outputs.detection_score import (
    ImageResult,
    average_precision,
    iou_matrix,
    score_results,
)

FACE_A = (10.0, 10.0, 50.0, 50.0)
FACE_B = (100.0, 100.0, 140.0, 140.0)


def hand_made() -> list[ImageResult]:
    """Three true faces: one found well (0.9), one missed, one found but too loosely (IoU
    below 0.5), plus a box on nothing (0.8) and a low-confidence second box on face A (0.1)."""
    return [
        ImageResult(name="a", truth=[FACE_A, FACE_B],
                    boxes=[(12, 12, 52, 52), (200, 200, 240, 240), (10, 10, 50, 50)],
                    scores=[0.9, 0.8, 0.1]),
        ImageResult(name="b", truth=[FACE_A], boxes=[(30, 30, 70, 70)], scores=[0.7]),
    ]


def test_iou_of_a_box_with_itself_is_one_and_with_a_disjoint_box_zero() -> None:
    assert iou_matrix(np.array([FACE_A]), np.array([FACE_A, FACE_B])).tolist() == [[1.0, 0.0]]
    assert iou_matrix(np.array([FACE_A]), np.array([(30, 10, 70, 50)]))[0, 0] == \
        pytest.approx(800 / 2400)


def test_recall_and_precision_count_matches_misses_and_extras_at_the_confidence() -> None:
    score = score_results(hand_made(), "hand", conf=0.5)
    # counted at conf 0.5: 0.9 hits A, 0.8 hits nothing, 0.7 overlaps face A of image b
    # by 400/2800 (< 0.5); the 0.1 box is below the bar
    assert (score.faces, score.images) == (3, 2)
    assert (score.true_positives, score.detections) == (1, 3)
    assert score.recall == pytest.approx(1 / 3, abs=1e-4)
    assert score.precision == pytest.approx(1 / 3, abs=1e-4)


def test_a_second_box_on_a_face_already_found_is_a_false_positive() -> None:
    score = score_results(hand_made(), "hand", conf=0.0)
    assert (score.true_positives, score.detections) == (1, 4)


def test_ap_is_the_area_under_the_precision_envelope() -> None:
    # ranked: 0.9 hit, 0.8 miss, 0.7 miss, 0.1 duplicate miss; one of three faces found
    assert score_results(hand_made(), "hand").mAP50 == pytest.approx(1 / 3, abs=1e-4)
    # hit, miss, hit over two faces: recall 0.5 at precision 1, recall 1 at precision 2/3
    assert average_precision(np.array([0.9, 0.8, 0.7]), np.array([True, False, True]), 2) == \
        pytest.approx(0.5 * 1 + 0.5 * 2 / 3)


def test_a_perfect_detector_scores_one_and_an_empty_one_zero() -> None:
    perfect = [ImageResult(name="p", truth=[FACE_A, FACE_B], boxes=[FACE_A, FACE_B],
                           scores=[0.9, 0.6])]
    blind = [ImageResult(name="p", truth=[FACE_A, FACE_B])]
    assert score_results(perfect, "p").model_dump(include={"recall", "precision", "mAP50"}) == \
        {"recall": 1.0, "precision": 1.0, "mAP50": 1.0}
    assert score_results(blind, "b").model_dump(include={"recall", "precision", "mAP50"}) == \
        {"recall": 0.0, "precision": 0.0, "mAP50": 0.0}


def test_the_bootstrap_interval_holds_the_estimate_and_repeats_with_its_seed() -> None:
    rng = np.random.default_rng(1)
    results = []
    for i in range(40):  # every other face found, the rest missed, some extra boxes
        found = [FACE_A] if i % 2 else []
        extra = [(200.0, 200.0, 230.0, 230.0)] if i % 5 == 0 else []
        results.append(ImageResult(name=str(i), truth=[FACE_A], boxes=found + extra,
                                   scores=list(rng.uniform(0.3, 1.0, len(found + extra)))))
    first = score_results(results, "half", bootstrap=300, seed=3)
    again = score_results(results, "half", bootstrap=300, seed=3)
    interval = first.mAP50_ci95
    assert interval is not None and interval == again.mAP50_ci95
    assert interval.low < first.mAP50 < interval.high
    assert interval.high - interval.low < 0.5
