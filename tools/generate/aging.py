"""Age and gender cues of a procedural face, drawn so an independent model can read them.

Proportions alone do not make a face read its age or gender to an independent model
(bench/bench_critic.py prints how they read; bench/RESULTS.md keeps the figures). The cues
drawn here are shading under the skin's features: folds, bags and jowls that deepen with age;
a shaved man's shadow on the upper lip, lower and darker brows and a longer, squarer head (the
head's shape is in `face_geometry`); a woman's eye shadow and lip colour.

A cue stays only while the critic's readings on the darkest skin stay as they are
(tests/tools/critic/test_attributes.py: dark lenses on monk_10 read as sunglasses, closed eyes as
closed): the critic reads the eye regions against the bare cheeks, so nothing here shades the
cheeks between the eyes and the mouth corners.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from tools.generate.drawing import ellipse, fill
from tools.generate.face_geometry import outline

if TYPE_CHECKING:
    from tools.generate.face_geometry import FaceCanvas

#: A man's brows: lowered this much (face units), less arched and darker. Thicker ones
#: reached into the lens windows the critic reads eyewear in (2 of 60 monk_10 faces in dark
#: glasses went unjudged).
MALE_BROW_DROP = 0.03
MALE_BROW_ARCH = 0.5
MALE_BROW_TONE = 0.6
#: A woman's or a child's brows: thinner than a man's; a woman's (from the teens on, as her
#: make-up) arched this much more (face units).
FEMALE_BROW_THICK = 0.75
FEMALE_BROW_ARCH = 0.08
#: A man's lash line, as a fraction of the line width (a bare woman's eye is 1): a heavy
#: line reads as eyeliner, and boys and men read female (bench/sweep_age_cues.py).
MALE_LASH = 0.25

#: A child's blush on the cheeks, per gender (1 is the full blush).
CHILD_BLUSH: dict[str, float] = {"female": 1.0, "male": 1.0}
#: The skin's unevenness (`face.SKIN_MOTTLE`) kept on a woman's face below the nose: at the
#: size the model reads, uneven skin on the lower face is what a man's shaved beard looks like.
FEMALE_LOWER_MOTTLE = 0.3

#: The facial hair a man's upper-lip shadow is drawn under: all of it (under white stubble
#: and beards alone, the light lower face read female: old men right 67% -> 77%).
LIP_SHADOW_UNDER: tuple[str, ...] = ("none", "stubble", "beard", "moustache")

#: A woman's lip colour (from the teens on) and how much of it covers the lips' own.
LIPSTICK = (176, 40, 62)
LIPSTICK_MIX = 0.55

#: Darkening at the centre of each soft shading (the age's wear scales the age marks).
SHADE: dict[str, float] = {
    "folds": 0.12, "bags": 0.25, "jowls": 0.1, "eyeshadow": 0.3, "lip": 0.42,
}

#: Colour of the drawn wrinkle lines, as a fraction of the skin's (lower is deeper).
WRINKLE_DEPTH: dict[str, float] = {"middle_aged": 0.8, "elderly": 0.66, "old": 0.55}

#: How strongly age marks the skin (0 none), per age group.
AGE_WEAR: dict[str, float] = {
    "child": 0.0, "teenager": 0.0, "young_adult": 0.3,
    "middle_aged": 0.55, "elderly": 0.85, "old": 1.6,
}


def _soft(drawer: FaceCanvas, polys: list[np.ndarray], strength: float, blur: float) -> None:
    """Darken (strength > 0) or lighten (< 0) the image under blurred polygons, inside the
    head: shading, not lines."""
    if strength == 0.0:
        return
    img = drawer.img
    h, w = img.shape[:2]
    pts = np.vstack(polys)
    pad = int(blur * 3) + 2
    x0, y0 = np.maximum(np.floor(pts.min(axis=0)).astype(int) - pad, 0)
    x1, y1 = np.minimum(np.ceil(pts.max(axis=0)).astype(int) + pad, (w, h))
    if x1 <= x0 or y1 <= y0:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.float32)
    for p in polys:
        cv2.fillPoly(mask, [np.round((p - (x0, y0)) * 16).astype(np.int32)], 1.0, cv2.LINE_AA, 4)
    mask = cv2.GaussianBlur(mask, (0, 0), max(blur, 0.5))
    head = drawer.head_mask[y0:y1, x0:x1] if drawer.head_mask is not None else 1.0
    k = 1.0 - strength * mask * head
    patch = img[y0:y1, x0:x1].astype(np.float32) * k[..., None]
    img[y0:y1, x0:x1] = np.clip(patch, 0, 255).astype(np.uint8)


def _band(drawer: FaceCanvas, xs, ys, half: float) -> np.ndarray:
    """A polygon `half` face units thick around a face-unit polyline."""
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    pose = drawer.pose
    return np.vstack([pose.project(xs, ys - half), pose.project(xs[::-1], ys[::-1] + half)])


def draw_age(drawer: FaceCanvas) -> None:
    """Folds, bags under the eyes and jowls that deepen with age."""
    wear = AGE_WEAR.get(drawer.a["age_group"], 0.0)
    if wear <= 0.0:
        return
    lay, pose = drawer.lay, drawer.pose
    blur = max(0.8, pose.s * 0.025)
    # nasolabial folds: a shadowed crease from the nose wing to past the mouth corner
    folds = []
    for side in (-1, 1):
        fx = side * np.array([lay.nose_w * 1.0, lay.nose_w * 1.45, lay.mouth_w * 1.2,
                              lay.mouth_w * 1.3])
        fy = np.array([lay.nose_y - 0.02, lay.nose_y + 0.14, lay.mouth_y + 0.04,
                       lay.mouth_y + 0.14])
        folds.append(_band(drawer, fx, fy, 0.018 + 0.02 * wear))
    _soft(drawer, folds, SHADE["folds"] * (1 + wear), blur)
    # bags under the eyes: a dark crescent under each eye
    bags = []
    for side in (-1, 1):
        t = np.linspace(-1, 1, 9)
        bx = side * lay.eye_dx + lay.eye_w * 0.9 * t
        by = lay.eye_y + lay.eye_h * 1.3 + 0.05 + 0.05 * (1 - t * t)
        bags.append(_band(drawer, bx, by, 0.015 + 0.02 * wear))
    _soft(drawer, bags, SHADE["bags"] * (0.6 + wear), blur)
    # jowls and marionette lines: the lower face sags past the mouth corners
    jowls = []
    for side in (-1, 1):
        jx = side * np.array([lay.mouth_w * 1.05, lay.mouth_w * 1.2, lay.mouth_w * 1.5])
        jy = np.array([lay.mouth_y + 0.04, lay.mouth_y + 0.2, lay.mouth_y + 0.36])
        jowls.append(_band(drawer, jx, jy, 0.012 + 0.02 * wear))
    _soft(drawer, jowls, SHADE["jowls"] * (0.5 + wear), blur)


def even_skin(drawer: FaceCanvas, grid, texture: np.ndarray) -> np.ndarray:
    """The skin's light factor `texture` (coarse grid) evened below the nose on a woman."""
    keep = FEMALE_LOWER_MOTTLE
    if drawer.a["gender"] != "female" or keep == 1.0:
        return texture
    lay = drawer.lay
    xs, ys = outline(lay)
    low = ys > lay.nose_y - 0.04
    lower = np.zeros(texture.shape, np.float32)
    fill(lower, grid.low(drawer.pose.project(xs[low], ys[low])), 1.0)
    lower = cv2.GaussianBlur(lower, (0, 0), 1.5)
    return 1.0 + (texture - 1.0) * (1.0 - (1.0 - keep) * lower)


def child_blush(drawer: FaceCanvas, color: np.ndarray, grid, sigma: float) -> np.ndarray:
    """A child's cheeks reddened (`CHILD_BLUSH` of it by gender) on the coarse skin colour."""
    k = CHILD_BLUSH[drawer.a["gender"]] if drawer.a["age_group"] == "child" else 0.0
    if k <= 0.0:
        return color
    lay, pose = drawer.lay, drawer.pose
    blush = np.zeros(color.shape[:2], np.float32)
    for side in (-1, 1):
        cx, cy = ellipse(side * 0.55, lay.nose_y + 0.05, 0.2, 0.12, 12)
        fill(blush, grid.low(pose.project(cx, cy)), 1.0)
    blush = cv2.GaussianBlur(blush, (0, 0), sigma * 1.5)
    return color + k * blush[..., None] * np.array([22.0, -6.0, -4.0], np.float32)


def made_up(attributes: dict[str, str]) -> bool:
    """Whether a face wears make-up: women from the teens on."""
    return attributes["gender"] == "female" and attributes["age_group"] != "child"


def draw_gender(drawer: FaceCanvas) -> None:
    """A woman's eye shadow; a man's beard shadow on the upper lip, under his facial hair too
    (lipstick comes with the mouth, a man's brows and head shape with the layout)."""
    a, lay, pose = drawer.a, drawer.lay, drawer.pose
    if made_up(a):
        lids = []
        for side in (-1, 1):
            t = np.linspace(-1, 1, 9)
            lx = side * lay.eye_dx + lay.eye_w * 1.05 * t
            ly = lay.eye_y - lay.eye_h * 1.1 - 0.03 * (1 - t * t)
            lids.append(_band(drawer, lx, ly, 0.035))
        _soft(drawer, lids, SHADE["eyeshadow"], max(0.8, pose.s * 0.02))
    if a["gender"] != "male" or a["age_group"] == "child" or a["mask"] == "mask":
        return
    if drawer.face.beard not in LIP_SHADOW_UNDER:
        return
    # only inside the lines from the nose wings to the mouth corners: the cheeks stay bare
    # (shading them, or the chin, made dark lenses on monk_10 read as clear glasses or not
    # at all), and stubble on the cheeks is what told the model most
    top, bottom = lay.nose_y + 0.08, lay.mouth_y - 0.02
    lip = pose.project(
        np.array([-lay.nose_w * 0.6, lay.nose_w * 0.6, lay.mouth_w * 0.5, -lay.mouth_w * 0.5]),
        np.array([top, top, bottom, bottom]),
    )
    young = 0.7 if a["age_group"] == "teenager" else 1.0
    _soft(drawer, [lip], SHADE["lip"] * young, max(1.0, pose.s * 0.025))
