"""Test pictures for the critic: a real photo shipped with matplotlib, and edits of it.

dlib's HOG detector needs a face-like picture; a face drawn with a few OpenCV ellipses is
not one. matplotlib (installed with ultralytics) ships a portrait of Grace Hopper, which
is enough to exercise detection, landmarks and every edit the critic must notice.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from tools.critic import faces as fx


@lru_cache(maxsize=1)
def _portrait() -> np.ndarray:
    try:
        from matplotlib import cbook

        path = Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    except Exception:  # noqa: BLE001 - any failure means the sample is not there
        pytest.skip("matplotlib sample portrait not available")
    rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    # 256 px wide like a generated image; the face is then about 110 px
    return cv2.resize(rgb, (256, 300), interpolation=cv2.INTER_AREA)


def portrait() -> np.ndarray:
    """RGB uint8 portrait (300 x 256) with one frontal face; a fresh copy each call."""
    return _portrait().copy()


def save(path: Path, rgb: np.ndarray) -> Path:
    Image.fromarray(rgb).save(path)
    return path


def main_face(rgb: np.ndarray) -> fx.FaceObservation:
    faces = fx.analyse(rgb)
    assert faces, "the test portrait should have a detectable face"
    return faces[0]


def draw_sunglasses(rgb: np.ndarray) -> np.ndarray:
    """Dark lenses over both eyes and a bridge between them."""
    out = rgb.copy()
    face = main_face(rgb)
    iod = face.geometry["iod"]
    for eye in (face.landmarks[36:42], face.landmarks[42:48]):
        cx, cy = eye.mean(axis=0)
        cv2.ellipse(out, (int(cx), int(cy)), (int(0.38 * iod), int(0.26 * iod)), 0, 0, 360,
                    (20, 20, 25), -1)
    a, b = face.landmarks[39], face.landmarks[42]
    cv2.line(out, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), (20, 20, 25),
             max(2, int(0.05 * iod)))
    return out


def draw_glasses(rgb: np.ndarray) -> np.ndarray:
    """Thin dark frames around both eyes and over the nose bridge; clear lenses."""
    out = rgb.copy()
    face = main_face(rgb)
    iod = face.geometry["iod"]
    width = max(2, int(0.05 * iod))
    for eye in (face.landmarks[36:42], face.landmarks[42:48]):
        cx, cy = eye.mean(axis=0)
        cv2.ellipse(out, (int(cx), int(cy)), (int(0.4 * iod), int(0.28 * iod)), 0, 0, 360,
                    (30, 30, 30), width)
    a, b = face.landmarks[39], face.landmarks[42]
    y = int(min(a[1], b[1]) - 0.05 * iod)
    cv2.line(out, (int(a[0]), y), (int(b[0]), y), (30, 30, 30), width)
    return out


def draw_mask(rgb: np.ndarray, colour: tuple[int, int, int] = (110, 150, 200)) -> np.ndarray:
    """A face mask from the nose bridge down over the jaw line (hides half the face)."""
    out = rgb.copy()
    m = main_face(rgb).landmarks
    top = m[29, 1]
    outline = np.vstack([m[2:15], [[m[14, 0], top], [m[2, 0], top]]])
    cv2.fillPoly(out, [np.round(outline).astype(np.int32)], colour)
    return out


def side_by_side(rgb: np.ndarray) -> np.ndarray:
    """Two copies of the picture in one frame: two faces."""
    return np.ascontiguousarray(np.hstack([rgb, rgb]))


def half_out(rgb: np.ndarray) -> np.ndarray:
    """The picture shifted left so the face is cut in half by the frame's left edge."""
    face = main_face(rgb)
    x0, _, x1, _ = face.box
    shift = int((x0 + x1) / 2)
    out = np.zeros_like(rgb)
    out[:, : rgb.shape[1] - shift] = rgb[:, shift:]
    out[:, rgb.shape[1] - shift :] = rgb[:, -1:]
    return out
