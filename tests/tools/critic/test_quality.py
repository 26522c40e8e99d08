"""Image quality measurements: each must move the right way, and only for the right cause."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.tools.face_photos import main_face, portrait
from tools.critic import quality


@pytest.fixture(scope="module")
def photo() -> tuple[np.ndarray, tuple]:
    rgb = portrait()
    return rgb, main_face(rgb).box


def test_sharpness_falls_with_blur_and_separates_at_the_threshold(photo):
    rgb, box = photo
    limit = quality.QualityThresholds().min_sharpness
    sharp = quality.sharpness(quality.to_gray(rgb), box)
    blurred = [quality.sharpness(quality.to_gray(cv2.GaussianBlur(rgb, (0, 0), s)), box)
               for s in (1.0, 2.0, 3.0)]
    assert sharp > limit > blurred[-1]
    assert sharp > blurred[0] > blurred[1] > blurred[2]


def test_sharpness_ignores_contrast_and_face_size(photo):
    rgb, box = photo
    gray = quality.to_gray(rgb).astype(np.float32)
    washed = (128 + 0.4 * (gray - 128)).astype(np.uint8)
    assert quality.sharpness(washed, box) == pytest.approx(quality.sharpness(gray, box), rel=0.1)
    big = cv2.resize(rgb, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    big_box = tuple(2 * v for v in box)
    # upsampling softens a little; it must not look like a blurred face
    limit = quality.QualityThresholds().min_sharpness
    assert quality.sharpness(quality.to_gray(big), big_box) > limit


def test_a_small_face_is_judged_sharp_on_its_own_pixels_and_a_blurred_one_is_not(photo):
    rgb, box = photo
    small = cv2.resize(rgb, (64, 75), interpolation=cv2.INTER_AREA)
    small_box = tuple(v / 4 for v in box)  # about 27 px: under FINE_FACE_SIDE
    assert quality.face_side(small_box) < quality.FINE_FACE_SIDE
    checks, figures = quality.assess(small, small_box)
    sharp = next(c for c in checks if c.name == "sharpness")
    assert sharp.passed and "fine_sharpness" in figures
    for sigma in (1.0, 1.5):  # 4 and 6 px at 256: what the renderer's blur fault does
        checks, _ = quality.assess(cv2.GaussianBlur(small, (0, 0), sigma), small_box)
        assert next(c for c in checks if c.name == "sharpness").reason == "blurry"
    # enlarged, the same sharp face reads blurry on the measure made for big faces
    big = cv2.resize(small, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
    limit = quality.QualityThresholds().min_sharpness
    assert quality.sharpness(quality.to_gray(big), tuple(4 * v for v in small_box)) < limit


def test_fine_sharpness_ignores_contrast(photo):
    rgb, box = photo
    gray = quality.to_gray(cv2.resize(rgb, (64, 75), interpolation=cv2.INTER_AREA))
    small_box = tuple(v / 4 for v in box)
    washed = (128 + 0.4 * (gray.astype(np.float32) - 128)).astype(np.uint8)
    assert quality.fine_sharpness(washed, small_box) == pytest.approx(
        quality.fine_sharpness(gray, small_box), rel=0.1)


def test_noise_estimate_tracks_added_noise(photo):
    rgb, _ = photo
    gray = quality.to_gray(rgb)
    base = quality.noise_sigma(gray)
    rng = np.random.default_rng(0)
    for sigma in (5.0, 12.0):
        noisy = np.clip(gray + rng.normal(0, sigma, gray.shape), 0, 255).astype(np.uint8)
        measured = quality.noise_sigma(noisy)
        assert measured == pytest.approx(np.hypot(base, sigma), rel=0.25)


def test_exposure_and_contrast_flag_dark_bright_and_flat(photo):
    rgb, box = photo
    checks, _ = quality.assess(rgb, box)
    assert all(c.passed for c in checks), [c.detail for c in checks if not c.passed]
    dark = (rgb * 0.08).astype(np.uint8)
    blown = np.clip(rgb.astype(np.int32) * 3, 0, 255).astype(np.uint8)
    flat = np.full_like(rgb, 120)
    for image, reason in ((dark, "exposure"), (blown, "exposure"), (flat, "low_contrast")):
        reasons = {c.reason for c in quality.assess(image, box)[0] if not c.passed}
        assert reason in reasons


def test_dark_skin_is_not_underexposure():
    # a well exposed dark face (grey level about 60) is not an exposure fault
    face = np.full((120, 100, 3), 60, dtype=np.uint8)
    cv2.circle(face, (35, 50), 8, (230, 230, 230), -1)
    cv2.circle(face, (65, 50), 8, (230, 230, 230), -1)
    checks, figures = quality.assess(face, (0, 0, 100, 120))
    exposure = next(c for c in checks if c.name == "exposure")
    assert exposure.passed, exposure.detail
    assert figures["brightness"] < 80


def test_scores_follow_one_rule():
    limits = quality.QualityThresholds()
    rgb = np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    for check in quality.assess(rgb, None, limits)[0]:
        assert 0.0 <= check.score <= 1.0
        assert check.passed == (check.score >= 0.5)
        assert (check.reason is None) == check.passed
