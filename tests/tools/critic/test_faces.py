"""Face detection, landmarks and the geometry read from them (dlib with the shipped models)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.tools.face_photos import draw_mask, half_out, portrait, side_by_side
from tools.critic import faces as fx
from tools.errors import FacetoryError


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return portrait()


def test_one_frontal_face_with_ordered_landmarks(photo):
    faces = fx.analyse(photo)
    assert len(faces) == 1
    face = faces[0]
    assert face.has_68 and not face.partial
    left_eye, right_eye, nose, mouth_l, mouth_r = face.five
    assert left_eye[0] < right_eye[0] and mouth_l[0] < mouth_r[0]
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_l[1], mouth_r[1])
    x0, y0, x1, y1 = face.box
    assert x0 < left_eye[0] and right_eye[0] < x1 and y0 < left_eye[1] and mouth_l[1] < y1
    g = face.geometry
    assert abs(g["yaw"]) < 0.06 and abs(g["roll"]) < 6
    assert g["ear"] > 0.25  # eyes open


def test_the_box_covers_forehead_to_chin(photo):
    face = fx.analyse(photo)[0]
    marks = face.landmarks
    brow_top, chin = marks[17:27, 1].min(), marks[8, 1]
    x0, y0, x1, y1 = face.box
    # the corrected box reaches above the brows (forehead) and is about as wide as tall
    assert y0 < brow_top - 0.1 * (chin - brow_top)
    assert y1 >= chin - 2
    assert 0.75 < (x1 - x0) / (y1 - y0) < 1.25


def render(**attributes: str) -> np.ndarray:
    from tools.contracts import PlanItem
    from tools.generate.procedural import ProceduralGenerator

    attributes = {"eyewear": "none", "hat": "none", "mask": "none", **attributes}
    item = PlanItem(id="t", **{"class": "face"}, seed=7, identity="p7", attributes=attributes)
    return ProceduralGenerator(image_size=256).render_clean(item)[0]


def test_yaw_tells_a_head_turned_left_from_one_turned_right():
    left = fx.analyse(render(head_pose="left"))[0].geometry["yaw"]
    right = fx.analyse(render(head_pose="right"))[0].geometry["yaw"]
    front = fx.analyse(render(head_pose="frontal"))[0].geometry["yaw"]
    assert left < -0.1 < front < 0.1 < right
    mirrored = np.ascontiguousarray(render(head_pose="left")[:, ::-1])
    assert fx.analyse(mirrored)[0].geometry["yaw"] > 0.1


def test_rotation_shows_as_roll(photo):
    h, w = photo.shape[:2]
    rot = cv2.warpAffine(photo, cv2.getRotationMatrix2D((w / 2, h / 2), -15, 1.0), (w, h),
                         borderMode=cv2.BORDER_REPLICATE)
    roll = fx.analyse(rot)[0].geometry["roll"]
    base = fx.analyse(photo)[0].geometry["roll"]
    assert roll - base == pytest.approx(15, abs=4)


def test_two_faces_side_by_side(photo):
    faces = fx.analyse(side_by_side(photo), expected=2)
    assert len(faces) == 2
    centres = sorted((f.box[0] + f.box[2]) / 2 for f in faces)
    assert centres[0] < photo.shape[1] < centres[1]


def test_a_face_cut_by_the_frame_is_found_as_partial(photo):
    cut = half_out(photo)
    assert fx.detect(cut) == []  # HOG alone misses half a face
    faces = fx.analyse(cut, expected=1)
    assert len(faces) == 1 and faces[0].partial
    assert faces[0].box[0] < 0  # the face extends past the left edge


def test_a_masked_face_missed_by_hog_is_found_by_the_second_look(photo):
    masked = draw_mask(photo)
    assert fx.detect(masked) == []  # half the face's gradients are gone
    faces = fx.analyse(masked, partial=False)
    assert len(faces) == 1
    assert fx.box_iou(faces[0].box, fx.analyse(photo)[0].box) > 0.6


def test_the_last_look_finds_a_face_behind_a_dark_mask(photo):
    masked = draw_mask(photo, colour=(40, 40, 50))
    assert fx.detect(masked) == []
    faces = fx.analyse(masked, partial=False)
    assert len(faces) == 1
    assert fx.box_iou(faces[0].box, fx.analyse(photo)[0].box) > 0.6


def test_the_cnn_detector_finds_a_face_behind_a_dark_mask(photo, monkeypatch):
    masked = draw_mask(photo, colour=(40, 40, 50))
    monkeypatch.setattr(fx, "HARD_SLACK", fx.CLOSER_SLACK)  # without the low last look...
    assert fx.analyse(masked, partial=False) == []  # ...no HOG look finds it
    faces = fx.analyse(masked, partial=False, cnn=True)
    assert len(faces) == 1
    assert fx.box_iou(faces[0].box, fx.analyse(photo)[0].box) > 0.5


def test_the_second_look_adds_no_face_to_a_landscape():
    sky = np.zeros((256, 256, 3), np.uint8)
    sky[:] = (90, 140, 220)
    cv2.circle(sky, (128, 110), 60, (60, 70, 90), -1)
    assert fx.analyse(sky, expected=3, cnn=True) == []


def test_no_face_in_a_landscape():
    sky = np.zeros((200, 300, 3), np.uint8)
    sky[:] = (90, 140, 220)
    cv2.rectangle(sky, (0, 140), (300, 200), (40, 120, 40), -1)
    assert fx.analyse(sky) == []


def test_box_helpers():
    assert fx.box_iou((0, 0, 10, 10), (0, 0, 10, 10)) == pytest.approx(1.0)
    assert fx.box_iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(1 / 3)
    assert fx.box_iou((0, 0, 1, 1), (2, 2, 3, 3)) == 0.0
    assert fx.overlap_fraction((0, 0, 10, 10), (2, 2, 4, 4)) == pytest.approx(1.0)
    assert fx.correct_box((10, 10, 20, 30), (0.0, -0.5, 0.1, 0.0)) == (10, 0, 21, 30)


def test_eye_aspect_ratio_of_open_and_closed_eyes():
    open_eye = np.array([[0, 0], [3, -2], [7, -2], [10, 0], [7, 2], [3, 2]], float)
    closed = open_eye * [1, 0.1]
    assert fx.eye_aspect_ratio(open_eye) == pytest.approx(0.4)
    assert fx.eye_aspect_ratio(closed) < 0.05


def test_only_5_and_68_point_models():
    with pytest.raises(FacetoryError):
        fx.shape_predictor(12)


def _render(seed: int, **attributes: str) -> np.ndarray:
    from tools.contracts import PlanItem
    from tools.generate.procedural import ProceduralGenerator

    item = PlanItem(id="t", **{"class": "face"}, seed=seed, attributes=attributes)
    return ProceduralGenerator(image_size=256).render_clean(item)[0]


def test_masked_faces_with_sunglasses_on_the_darkest_skin_are_found():
    # a white mask on the darkest skin leaves HOG a face that scores just below zero: the
    # last, lower-threshold look finds them (before it, 24 of these 30 were found)
    found = sum(
        len(fx.analyse(_render(seed, skin_tone="monk_10", mask="mask", eyewear="sunglasses",
                               hat="none", head_pose="frontal"))) == 1
        for seed in range(30)
    )
    assert found >= 28


def test_a_masked_face_with_a_faint_outline_is_found_as_on_the_lightest_skin():
    # behind a mask and sunglasses, against dark hair, the darkest skin's outline is faint:
    # HOG scores many of these just under the weak floor in the raw pixels, but over it on the
    # equalised copy at three scales. The same renders on the darkest and the lightest skin
    # are found as often (before that last look, monk_10 lost 6 of 30 seeds 0-29)
    def found(tone: str) -> int:
        return sum(len(fx.analyse(_render(seed, skin_tone=tone, mask="mask", hat="none",
                                          eyewear="sunglasses", head_pose="frontal"))) == 1
                   for seed in range(100, 120))

    darkest, lightest = found("monk_10"), found("monk_1")
    assert darkest >= lightest - 1, (darkest, lightest)
