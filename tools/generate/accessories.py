"""What a procedural face wears: a face mask, glasses or sunglasses, and a hat.

Drawn last, over the face, by functions over a `FaceCanvas` (the `FaceDrawer`); the mask
reuses the skin's light (`FaceCanvas.skin_shade`) so it is shaded like the face it covers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from tools.generate.drawing import composite, ellipse, fill, frozen_linspace, line, rgb_scaled
from tools.generate.face_geometry import outline

if TYPE_CHECKING:
    from tools.generate.face_geometry import FaceCanvas

#: Where a face mask's top edge sits below the eye line (the bridge of an average nose).
MASK_TOP = 0.33


def draw_mask(drawer: FaceCanvas) -> None:
    """A face mask lit like the face, draped over the nose with folds at the sides."""
    pose, lay, img = drawer.pose, drawer.lay, drawer.img
    xs, ys = outline(lay)
    top_y = lay.eye_y + MASK_TOP  # on the nose bridge, wherever the tip is
    keep = ys >= top_y
    edge = pose.project(xs[keep] * 0.82, np.minimum(ys[keep] + 0.02, lay.head_b + 0.04), 0.06)
    tx = frozen_linspace(0.78, -0.78, 11)
    ty = top_y - 0.07 * (1 - tx * tx) ** 2
    top = pose.project(tx, ty, 0.1 + 0.12 * (1 - tx * tx) ** 4)
    poly = np.vstack([edge, top])
    if drawer.skin_shade is None:
        fill(img, poly, rgb_scaled(drawer.face.mask_rgb))
    else:
        grid, shade = drawer.skin_shade
        # shadows either side of the nose ridge and under the chin
        ao = np.zeros(shade.shape, np.float32)
        side = drawer.shadow_side or (1.0 if pose.sy < 0 else -1.0)
        for sgn in (-1.0, 1.0):
            fx = sgn * np.array([0.04, 0.3, 0.45, 0.12])
            # drape of an average nose and mouth: the mask hides the person's own
            fy = top_y + np.array([0.14, 0.19, 0.64, 0.44])
            fill(ao, grid.low(pose.project(fx, fy, 0.15)), 0.35 if sgn == side else 0.2)
        cx, cy = ellipse(0.0, lay.head_b - 0.02, lay.chin * 1.6, 0.12, 12)
        fill(ao, grid.low(pose.project(cx, cy)), 0.3)
        ao = cv2.GaussianBlur(ao, (0, 0), max(0.5, pose.s * 0.06 / grid.f))
        lit = (shade * (1 - ao))[..., None] * np.asarray(drawer.face.mask_rgb, np.float32)
        color = grid.full(lit)
        alpha = np.zeros((grid.rh, grid.rw), np.uint8)
        fill(alpha, poly - (grid.x0, grid.y0), 255)
        composite(img, grid.x0, grid.y0, color, alpha)
    shade_c = rgb_scaled(drawer.face.mask_rgb, 0.6)
    for k in (0.35, 0.6):
        py = top_y + k * (lay.head_b - top_y)
        line(img, pose.project(frozen_linspace(-0.7, 0.7, 7), np.full(7, py), 0.1), shade_c,
             drawer.lw * 0.5)
    line(img, poly, shade_c, drawer.lw * 0.6, closed=True)
    for side in (-1, 1):
        lx = side * np.array([0.8, 1.0])
        ly = np.array([top_y + 0.02, lay.eye_y + 0.15])
        line(img, pose.project(lx, ly, 0.02), shade_c, drawer.lw * 0.5)


def draw_eyewear(drawer: FaceCanvas, kind: str) -> None:
    """Glasses (clear lenses) or sunglasses (dark lenses with a glint), frames and arms."""
    pose, lay, img = drawer.pose, drawer.lay, drawer.img
    frame = drawer.face.frame_rgb if kind == "glasses" else (18, 18, 20)
    light_frame = sum(frame) / 3 > 100  # thin metal: a bright thick frame would dominate
    # frames thick enough to survive a detector's downscaling (160 px training input)
    fw = drawer.lw * ((0.9 if light_frame else 1.2) if kind == "glasses" else 1.3)
    if kind == "glasses":
        rx, ry = lay.eye_w * 1.45, lay.eye_h * 2.3
    else:  # wayfarer-like: wide and low, so the brows stay visible
        rx, ry = lay.eye_w * 1.5, lay.eye_h * 1.9
    rounded = drawer.face.identity.glasses_round
    lenses = []
    for side in (-1, 1):
        cx, cy = side * lay.eye_dx, lay.eye_y + 0.02
        if rounded:
            ex, ey = ellipse(cx, cy, rx, ry, 24)
        else:
            t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
            ex = cx + rx * np.sign(np.cos(t)) * np.abs(np.cos(t)) ** 0.4
            ey = cy + ry * np.sign(np.sin(t)) * np.abs(np.sin(t)) ** 0.4
        lens = pose.project(ex, ey, 0.12)
        lenses.append(lens)
        if kind == "sunglasses":
            fill(img, lens, (26, 28, 34))
            gx, gy = ellipse(cx - rx * 0.3, cy - ry * 0.35, rx * 0.3, ry * 0.16, 8)
            fill(img, pose.project(gx, gy, 0.13), (88, 92, 104))
        line(img, lens, frame, fw, closed=True)
    bx = np.array([-lay.eye_dx + rx * 0.95, 0.0, lay.eye_dx - rx * 0.95])
    by = np.array([lay.eye_y - 0.02, lay.eye_y - 0.06, lay.eye_y - 0.02])
    line(img, pose.project(bx, by, 0.15), frame, fw)
    for side in (-1, 1):
        if side * pose.sy > 0.2:
            continue  # the arm on the far side hides behind the head
        tx = side * np.array([lay.eye_dx + rx, 0.99])
        ty = np.array([lay.eye_y - 0.02, lay.eye_y + 0.02])
        line(img, pose.project(tx, ty, 0.05), frame, fw)


def draw_hat(drawer: FaceCanvas) -> None:
    """A cap, a beanie or a brimmed hat, by the person's `hat_style`."""
    pose, lay = drawer.pose, drawer.lay
    b = lay.head_b
    color = rgb_scaled(drawer.face.hat_rgb)
    dark = rgb_scaled(drawer.face.hat_rgb, 0.7)
    base_y = lay.hairline - 0.02
    a_end = np.arcsin(np.clip(base_y / (b + 0.14), -1, 1))
    ang = np.linspace(a_end, -np.pi - a_end, 26)
    dome_x = 1.08 * np.cos(ang)
    dome_y = (b + 0.16) * np.sin(ang)
    style = drawer.face.hat_style
    if style == 1:  # beanie: a taller dome with a folded band
        dome_y = dome_y * 1.12 - 0.05
    dome = pose.flat(dome_x, dome_y)
    fill(drawer.img, dome, color)
    if style == 0:  # cap: a brim toward the camera
        bx, by = ellipse(0.0, base_y + 0.02, 1.0, 0.14, 20, 0.0, np.pi)
        fill(drawer.img, pose.project(bx, by, 0.35, surface=False), dark)
    elif style == 1:
        band_x = np.array([-1.08, 1.08, 1.08, -1.08])
        band_y = np.array([base_y - 0.2, base_y - 0.2, base_y + 0.02, base_y + 0.02])
        fill(drawer.img, pose.flat(band_x, band_y), dark)
    else:  # brimmed hat
        bx, by = ellipse(0.0, base_y - 0.02, 1.55, 0.16, 24)
        fill(drawer.img, pose.flat(bx, by), dark)
        fill(drawer.img, pose.flat(dome_x * 0.9, dome_y * 0.95 - 0.06), color)
        band_x = np.array([-0.98, 0.98, 0.98, -0.98])
        band_y = np.array([base_y - 0.16, base_y - 0.16, base_y - 0.05, base_y - 0.05])
        fill(drawer.img, pose.flat(band_x, band_y), (30, 24, 20))
