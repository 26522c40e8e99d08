"""A procedural face's hair: the cap over the skull, strands or curls, and what falls behind.

Drawn by functions over a `FaceCanvas` (the `FaceDrawer`, as the age cues in `aging` are) so
the drawer keeps the skin and the features and each part of the look reads on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from tools.generate.drawing import AA, ONE, SHIFT, fill, frozen_linspace, line, rgb_scaled

if TYPE_CHECKING:
    from tools.generate.face_geometry import FaceCanvas

#: A man's short cut: its sides end this far below the eye line (face units; other hair
#: comes down over the ear tops, 0.12) and it lies this much flatter on the skull.
MALE_SIDE_DROP = -0.25
MALE_VOLUME = 0.4
#: How far a man's hairline recedes at the temples (face units up), per age group.
MALE_RECEDE: dict[str, float] = {"middle_aged": 0.1, "elderly": 0.16, "old": 0.22}


def _cap_polygon(drawer: FaceCanvas, volume: float, side_drop: float,
                 recede: float = 0.0) -> np.ndarray:
    """Hair over the skull: outer contour over the top, back along the hairline (raised
    `recede` at the temples)."""
    lay, ident = drawer.lay, drawer.face.identity
    b = lay.head_b
    y_side = lay.eye_y + side_drop
    y_temple = lay.eye_y - 0.22
    # outer contour: skull ellipse grown by the volume, from the right side over the top
    a_end = np.arcsin(np.clip(y_side / (b + volume), -1, 1))
    ang = np.linspace(a_end, -np.pi - a_end, 28)
    ox = (1.0 + volume) * np.cos(ang)
    oy = (b + volume) * np.sin(ang)
    # inner contour: left side up to the temple, then across the forehead to the right
    hx = frozen_linspace(-0.93, 0.93, 15)
    part = ident.hair_part * 0.3
    rise = (lay.eye_y - 0.22) - lay.hairline
    hy = lay.hairline + rise * (np.abs(hx - part) / (0.93 + abs(part))) ** 2.2
    hy = hy - recede * np.exp(-(((np.abs(hx) - 0.62) / 0.2) ** 2))
    ix = np.concatenate([[-0.96, -0.93], hx, [0.93, 0.96]])
    iy = np.concatenate([[y_side, y_temple], hy, [y_temple, y_side]])
    xs = np.concatenate([ox, ix])
    ys = np.concatenate([oy, iy])
    return drawer.pose.project(xs, ys, 0.04, surface=False)


def draw_hair_cap(drawer: FaceCanvas, style: str, under_hat: bool = False) -> None:
    """Hair over the skull (a fringe at the sides when bald); under a hat, no curls."""
    if style == "bald":
        if drawer.a["age_group"] in ("elderly", "old", "middle_aged"):
            # a fringe of hair around the sides
            for side in (-1, 1):
                fx = side * np.array([0.92, 1.02, 1.0, 0.9])
                fy = drawer.lay.eye_y + np.array([-0.45, -0.4, 0.12, 0.08])
                fill(drawer.img, drawer.pose.flat(fx, fy), rgb_scaled(drawer.hair, 0.9))
        return
    man = drawer.a["gender"] == "male"
    cut = man and style == "short"
    vol = drawer.face.identity.hair_volume * (
        2.6 if style == "curly" else MALE_VOLUME if cut else 1.0)
    drop = 0.0 if style == "ponytail" else MALE_SIDE_DROP if cut else 0.12
    recede = MALE_RECEDE.get(drawer.a["age_group"], 0.0) if man else 0.0
    poly = _cap_polygon(drawer, vol, drop, recede)
    fill(drawer.img, poly, rgb_scaled(drawer.hair))
    if style == "curly" and not under_hat:
        _curls(drawer, poly)
    else:
        _strands(drawer, vol)


def _strands(drawer: FaceCanvas, vol: float) -> None:
    """A few strand lines and a highlight so hair is not a flat blob."""
    pose, lay = drawer.pose, drawer.lay
    b = lay.head_b
    dark, light = rgb_scaled(drawer.hair, 0.82), rgb_scaled(drawer.hair, 1.12, 10)
    for i, frac in enumerate((0.25, 0.45, 0.65, 0.8)):
        ang = np.linspace(-np.pi * (0.5 - frac * 0.45), -np.pi * (0.5 + frac * 0.45), 10)
        r = 1.0 + vol * (0.5 + 0.1 * i)
        xs, ys = r * np.cos(ang) * 0.85, (b + vol) * np.sin(ang) * (0.95 - 0.05 * i)
        line(drawer.img, pose.flat(xs, ys), dark if i % 2 else light, drawer.lw * 0.5)


def _curls(drawer: FaceCanvas, poly: np.ndarray) -> None:
    """Curls along the cap's contour."""
    rad = max(1.5, drawer.pose.s * 0.09)
    cols = (rgb_scaled(drawer.hair, 0.7), rgb_scaled(drawer.hair, 1.2, 12))
    step = max(1, len(poly) // 18)
    for i, (px, py) in enumerate(poly[::step]):
        cv2.circle(drawer.img, (int(px * ONE), int(py * ONE)), int(rad * ONE),
                   rgb_scaled(drawer.hair), -1, AA, SHIFT)
        cv2.circle(drawer.img, (int(px * ONE), int(py * ONE)), int(rad * 0.6 * ONE),
                   cols[i % 2], max(1, int(drawer.lw * 0.4)), AA, SHIFT)


def draw_back_hair(drawer: FaceCanvas, style: str) -> None:
    """Hair behind the head and neck: a ponytail, a curly mass or long hair."""
    pose, lay = drawer.pose, drawer.lay
    b = lay.head_b
    vol = drawer.face.identity.hair_volume
    if style == "ponytail":
        side = 1.0 if drawer.face.identity.hair_part >= 0 else -1.0
        tx = side * np.array([0.6, 1.15, 1.5, 1.45, 1.15])
        ty = np.array([-b * 0.75, -b * 0.85, -b * 0.2, b * 0.5, b * 0.1])
        fill(drawer.img, pose.flat(tx, ty), rgb_scaled(drawer.hair, 0.9))
        return
    if style == "curly":
        ang = np.linspace(0.35, -np.pi - 0.35, 30)
        r = 1.0 + vol * 3.2
        xs, ys = r * np.cos(ang), (b + vol * 3.2) * np.sin(ang) + 0.1
        fill(drawer.img, pose.flat(xs, ys), rgb_scaled(drawer.hair, 0.85))
        return
    drop = b + 0.9
    ang = np.linspace(0.0, -np.pi, 24)
    xs = np.concatenate([[1.35, 1.25], (1.0 + vol + 0.08) * np.cos(ang), [-1.25, -1.35]])
    ys = np.concatenate([[drop, lay.eye_y + 0.4], (b + vol) * np.sin(ang),
                         [lay.eye_y + 0.4, drop]])
    fill(drawer.img, pose.flat(xs, ys), rgb_scaled(drawer.hair, 0.88))
