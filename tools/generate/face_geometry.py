"""Where a procedural face's parts sit: the face-unit layout and its projection into pixels.

Geometry lives in face units: x to the image right, y down, the head's half-width is 1 and
the eye line is near y = 0. A point is lifted onto a sphere-like head surface (z), turned by
the yaw, rolled and scaled into pixels, so every feature moves consistently with the pose and
the ground truth (box, five landmarks) comes from the same projection as the pixels. Kept
apart from the drawing so the renderer's ground truth can be read without drawing anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from tools.generate.scene import FaceSpec

if TYPE_CHECKING:
    from tools.generate.drawing import CoarseGrid

#: A man's head: longer, with a squarer jaw, a broader chin and a wider nose (factors).
MALE_LENGTH = 1.05
MALE_JAW = 1.08
MALE_CHIN = 1.25
MALE_NOSE = 1.15
#: A woman's jaw and chin, as factors of the person's own (a child's too).
FEMALE_JAW = 0.92
FEMALE_CHIN = 1.0
#: Neck half-width (face units) of a woman or child, and a man's neck as a factor of it.
NECK = 0.46
MALE_NECK = 1.0


@dataclass
class Pose:
    """Where a face sits in the image and how it is turned."""

    cx: float
    cy: float
    s: float  # pixels per face unit
    yaw: float  # degrees
    roll: float  # degrees
    head_b: float

    def __post_init__(self) -> None:
        y, r = np.radians(self.yaw), np.radians(self.roll)
        self.sy, self.cyaw = float(np.sin(y)), float(np.cos(y))
        self.sr, self.cr = float(np.sin(r)), float(np.cos(r))

    def depth(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Height of the head surface above the face plane at (x, y)."""
        yb = y * (1.0 / self.head_b)
        return 0.9 * np.sqrt(np.maximum(1.0 - x * x - yb * yb, 0.0))

    def project(self, x, y, dz=0.0, surface: bool = True) -> np.ndarray:
        """Face-unit points -> pixel coordinates, N x 2 float."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if x.shape != y.shape:
            x, y = np.broadcast_arrays(x, y)
        z = self.depth(x, y) + dz if surface else dz
        xr = x * self.cyaw + z * self.sy
        out = np.empty((x.size, 2))
        out[:, 0] = (self.cx + self.s * (xr * self.cr - y * self.sr)).ravel()
        out[:, 1] = (self.cy + self.s * (xr * self.sr + y * self.cr)).ravel()
        return out

    def flat(self, x, y) -> np.ndarray:
        """Points that turn with the head's outline but are not lifted onto its surface."""
        return self.project(x, y, 0.0, surface=False)


@dataclass
class Layout:
    """Face-unit landmarks of one face, shaped by identity, age and expression."""

    eye_y: float
    eye_dx: float
    eye_w: float
    eye_h: float
    nose_y: float
    nose_w: float
    mouth_y: float
    mouth_w: float
    head_b: float
    jaw: float
    chin: float
    chin_h: float  # how far the chin rounds below the jaw line
    hairline: float
    open: float  # eye opening factor
    corner: float  # mouth corner lift (negative is up)
    mouth_open: float
    mouth_wf: float
    brow_raise: tuple[float, float]  # inner, outer (positive is up)
    box_top: float
    neck: float = NECK  # neck half-width


EXPRESSION = {
    # open, corner, mouth_open, width factor, brow inner raise, brow outer raise
    "neutral": (1.0, 0.0, 0.0, 1.0, 0.0, 0.0),
    "smile": (0.82, -0.075, 0.065, 1.12, 0.0, 0.01),
    "surprise": (1.35, 0.0, 0.17, 0.72, 0.1, 0.08),
    "sad": (0.88, 0.06, 0.0, 0.95, 0.07, -0.025),
    "angry": (0.78, 0.03, 0.025, 0.9, -0.07, 0.02),
    "fear": (1.3, 0.025, 0.07, 1.1, 0.08, 0.03),
}
AGE_SHAPE = {
    # eye line shift, feature scale, head roundness, eye size
    "child": (0.08, 0.88, 0.95, 1.1),
    "teenager": (0.04, 0.95, 0.98, 1.04),
    "young_adult": (0.0, 1.0, 1.0, 1.0),
    "middle_aged": (0.0, 1.0, 1.0, 0.98),
    "elderly": (0.0, 1.02, 1.0, 0.95),
    "old": (0.0, 1.03, 1.0, 0.92),
}


def make_layout(face: FaceSpec) -> Layout:
    """Feature positions for this identity at this age with this expression."""
    ident, a = face.identity, face.attributes
    shift, k, round_, eye_k = AGE_SHAPE[a["age_group"]]
    op, corner, mopen, wf, b_in, b_out = EXPRESSION[a["expression"]]
    female = a["gender"] == "female"
    man = not female and a["age_group"] != "child"
    head_b = ident.head_b * round_ * (MALE_LENGTH if man else 1.0)
    eye_y = ident.eye_y + shift
    return Layout(
        eye_y=eye_y,
        eye_dx=ident.eye_dx * (0.96 if a["age_group"] == "child" else 1.0),
        eye_w=ident.eye_w * eye_k,
        eye_h=ident.eye_h * eye_k,
        nose_y=eye_y + ident.nose_y * k,
        nose_w=ident.nose_w * (0.8 + 0.2 * k) * (MALE_NOSE if man else 1.0),
        mouth_y=eye_y + ident.mouth_y * k,
        mouth_w=ident.mouth_w * (0.85 + 0.15 * k),
        head_b=head_b,
        jaw=ident.jaw * (MALE_JAW if man else FEMALE_JAW),
        chin=ident.chin * (MALE_CHIN if man else FEMALE_CHIN),
        chin_h=ident.chin_h,
        hairline=eye_y - ident.hairline - (0.08 if a["age_group"] == "child" else 0.0),
        open=0.0 if a["eyes"] == "closed" else op,
        corner=corner,
        mouth_open=mopen,
        mouth_wf=wf,
        brow_raise=(b_in, b_out),
        box_top=eye_y - 0.55,
        neck=NECK * (MALE_NECK if man else 1.0),
    )


def outline(lay: Layout, n: int = 18) -> tuple[np.ndarray, np.ndarray]:
    """Head contour in face units, clockwise from the crown: an egg with a jaw and chin."""
    b = lay.head_b
    y_cheek = lay.eye_y + 0.3
    # upper part: ellipse from the crown to the cheek line
    ys_up = np.linspace(-b, y_cheek, n)
    w_up = np.sqrt(np.clip(1 - (ys_up / b) ** 2, 0, None))
    w_c = float(w_up[-1])
    # lower part: cheek to chin, the jaw exponent makes it squarer or rounder
    t = np.linspace(0, 1, n)[1:]
    p = 1.25 + 3.0 * (lay.jaw - 0.7)
    w_lo = lay.chin + (w_c - lay.chin) * np.sqrt(np.clip(1 - t**p, 0, None))
    ys_lo = y_cheek + t * (b - y_cheek)
    xs_r = np.concatenate([w_up, w_lo])
    ys_r = np.concatenate([ys_up, ys_lo])
    # chin arc
    ca = np.linspace(0, np.pi, 9)[1:-1]
    xc = lay.chin * np.cos(ca)
    yc = b + lay.chin_h * np.sin(ca)
    xs = np.concatenate([xs_r, xc, -xs_r[::-1]])
    ys = np.concatenate([ys_r, yc, ys_r[::-1]])
    return xs, ys


def outline_pixels(pose: Pose, lay: Layout) -> np.ndarray:
    """The head contour in pixels; the chin swings with the yaw, the skull does not."""
    xs, ys = outline(lay)
    lower = np.clip((ys - lay.eye_y) / (lay.head_b - lay.eye_y), 0, None)
    dz = 0.55 * lower**1.5
    return pose.project(xs * (1 - 0.08 * abs(pose.sy)), ys, dz, surface=False)


def face_box(pose: Pose, lay: Layout) -> tuple[float, float, float, float]:
    """Face box: contour from the brow band (`box_top`) down to the chin, in pixels."""
    xs, ys = outline(lay)
    keep = ys >= lay.box_top
    w_top = float(np.sqrt(max(0.0, 1 - (lay.box_top / lay.head_b) ** 2)))
    lower = np.clip((ys - lay.eye_y) / (lay.head_b - lay.eye_y), 0, None)
    dz = 0.55 * lower**1.5
    px = pose.project(xs[keep] * (1 - 0.08 * abs(pose.sy)), ys[keep], dz[keep], surface=False)
    cut = pose.flat(np.array([-w_top, w_top]) * (1 - 0.08 * abs(pose.sy)), [lay.box_top] * 2)
    allp = np.vstack([px, cut])
    x0, y0 = allp.min(axis=0)
    x1, y1 = allp.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


def landmarks(pose: Pose, lay: Layout) -> list[tuple[float, float]]:
    """Five points: left eye, right eye, nose tip, left and right mouth corner.

    Left and right are the image's (the subject's right eye is the "left eye"), as in the
    usual 5-point face landmark convention of detectors such as RetinaFace.
    """
    ex = np.array([-lay.eye_dx, lay.eye_dx])
    eyes = pose.project(ex, [lay.eye_y] * 2)
    nose = pose.project([0.0], [lay.nose_y], 0.32)
    mw = lay.mouth_w * lay.mouth_wf
    mouth = pose.project([-mw, mw], [lay.mouth_y + lay.corner] * 2, 0.02)
    pts = np.vstack([eyes, nose, mouth])
    return [(float(x), float(y)) for x, y in pts]


class FaceCanvas(Protocol):
    """The face being drawn, as the part drawers (`hair`, `aging`, `accessories`) see it:
    `face.FaceDrawer` is one. Declared here so those modules need not import the drawer
    that calls them."""

    img: np.ndarray
    face: FaceSpec
    pose: Pose
    lay: Layout
    a: dict[str, str]
    hair: tuple[float, float, float]
    lw: float
    shadow_side: float
    head_mask: np.ndarray | None
    skin_shade: tuple[CoarseGrid, np.ndarray] | None
