"""Small images: faces found on an enlarged copy, boxed at their size, eyewear where readable."""

from __future__ import annotations

import cv2
import pytest

from tests.tools.face_photos import portrait
from tools.critic import faces as fx
from tools.critic import quality, small


def test_a_small_image_is_magnified_to_the_working_side_and_a_big_one_left_alone():
    photo = portrait()
    tiny = cv2.resize(photo, (64, 75), interpolation=cv2.INTER_AREA)
    big, factor = small.magnify(tiny)
    assert factor == 4.0 and big.shape[:2] == (300, 256)
    assert fx.analyse(tiny) == []  # the face (about 27 px) is below HOG's window
    face = fx.analyse(big)[0]
    x0, y0, x1, y1 = (v / factor for v in face.box)  # back in the small image's pixels
    assert 15 < x1 - x0 < 40 and x0 >= 0 and x1 <= 64
    same, one = small.magnify(photo)
    assert same is photo and one == 1.0


def test_faces_found_on_an_enlarged_copy_get_the_box_correction_fitted_at_their_size():
    assert small.landmark_correction(1.0) is None  # 256 px and up: the built-in choice
    assert small.landmark_correction(4.0, points=5) is None  # no landmark extent to correct
    assert small.landmark_correction(small.SMALL_MAGNIFICATION) == pytest.approx(
        small.SMALL_LANDMARK_BOX_CORRECTION)
    halfway = small.landmark_correction(2.0)
    assert halfway == pytest.approx(tuple(
        (a + b) / 2 for a, b in zip(fx.LANDMARK_BOX_CORRECTION,
                                    small.SMALL_LANDMARK_BOX_CORRECTION, strict=True)))


def test_eyewear_is_promised_only_where_a_typical_face_has_the_pixels_to_read_it():
    assert small.eyewear_unread(64) == (
        "the critic reads eyewear on faces at least 20 px between the eyes, about 11 at 64 px")
    assert small.eyewear_unread(128) == ""
    assert small.eyewear_unread(128, faces=3) != ""  # several faces are smaller
    assert small.eyewear_unread(256, faces=3) == ""


def test_quality_is_judged_on_the_images_own_pixels_not_on_the_enlarged_copy():
    tiny = cv2.resize(portrait(), (64, 75), interpolation=cv2.INTER_AREA)
    big, _ = small.magnify(tiny)
    face = fx.analyse(big)[0]
    limits = quality.QualityThresholds()
    checks, figures = small.quality(big, tiny, face, limits)
    assert next(c for c in checks if c.name == "sharpness").passed
    assert quality.face_side(fx.face_box(face.hog_box, face.landmarks)) / 4 < (
        quality.FINE_FACE_SIDE) and "fine_sharpness" in figures
    blurred = cv2.GaussianBlur(tiny, (0, 0), 1.2)
    checks, _ = small.quality(small.magnify(blurred)[0], blurred, face, limits)
    assert next(c for c in checks if c.name == "sharpness").reason == "blurry"
    # the enlarged copy alone would call the sharp face blurry
    checks, _ = small.quality(big, None, face, limits)
    assert next(c for c in checks if c.name == "sharpness").reason == "blurry"
