"""Drawing one face with OpenCV: a shaded head, its skin, eyes, brows, nose and mouth.

Where each part sits comes from `face_geometry`; hair and what the face wears are drawn by
`hair` and `accessories`, age and gender cues by `aging`, all over this drawer.

What matters to face detectors (and so to the critic) is drawn with care: the light-dark
structure of eye sockets and brows, the nose shadow, the mouth line and the head contour.
"""

from __future__ import annotations

import cv2
import numpy as np

from tools.generate import aging
from tools.generate.accessories import draw_eyewear, draw_hat, draw_mask
from tools.generate.drawing import (
    AA,
    ONE,
    SHIFT,
    T11,
    CoarseGrid,
    composite,
    ellipse,
    fill,
    fixed_point,
    frozen_linspace,
    line,
    mottle,
    rgb_mix,
    rgb_scaled,
)
from tools.generate.face_geometry import Pose, make_layout, outline, outline_pixels
from tools.generate.hair import draw_back_hair, draw_hair_cap
from tools.generate.people import identity_seed
from tools.generate.scene import HAIR_RGB, IRIS_RGB, LIGHT_DIR, MONK_RGB, FaceSpec

WARM = np.array([0.8, 1.0, 1.15], np.float32)
EXPOSURE_GAMMA = 0.65
NOSE_DZ = np.array([0.12, 0.1, 0.2, 0.25, 0.25])
#: Slant of the hollow under a cheekbone (radians; it runs down toward the mouth corner).
CHEEK_SLOPE = -0.6
#: The skin's light, unlit to lit side (a stronger side light puts monk_10's shadow below a
#: dark lens), the eye sockets' shadow (60% of it under the brow ridge), skin texture (a share
#: of its light), the skin's share in the white of the eye (a real one is shaded), brows
#: thicker than a drawing's (at 25 px a brow is a dark bar or nothing).
SHADE_FLOOR, SHADE_GAIN, SOCKET_SHADOW, SKIN_MOTTLE = 0.5, 0.6, 0.5, 0.035
SCLERA_SKIN, BROW_GAIN = 0.3, 1.3


def skin_rgb(face: FaceSpec) -> tuple[float, float, float]:
    """The skin colour as drawn: the Monk swatch, a touch of undertone, exposed for the face.

    A photographer exposes for the face: a gamma below 1 lifts dark tones more than light
    ones, keeping the ten tones in order and apart (monk_10 is drawn near 77/255, not 41).
    """
    base = np.array(MONK_RGB[face.attributes["skin_tone"]], dtype=np.float64)
    luma = 0.299 * base[0] + 0.587 * base[1] + 0.114 * base[2]
    target = 255.0 * (luma / 255.0) ** EXPOSURE_GAMMA
    # lift brightness, keep the hue and give back the chroma that lifting washes out
    chroma = 1.0 + 0.8 * max(0.0, 1.0 - luma / 80.0)  # the darkest swatches are greyish
    exposed = target + (base - luma) * (target / luma) * chroma
    warm = face.identity.undertone * np.array([5.0, 0.0, -5.0])
    return tuple(float(c) for c in np.clip(exposed + warm, 0, 255))


def hair_rgb(face: FaceSpec) -> tuple[float, float, float]:
    color = HAIR_RGB[face.attributes["hair_color"]]
    if face.hair_grey and face.attributes["hair_color"] not in ("grey", "white"):
        return rgb_mix(color, HAIR_RGB["grey"], face.hair_grey)
    return rgb_scaled(color)


class FaceDrawer:
    """Draws one face into an RGB image (in place)."""

    def __init__(self, img: np.ndarray, face: FaceSpec, pose: Pose, lighting: str) -> None:
        self.img = img
        self.skin_shade: tuple[CoarseGrid, np.ndarray] | None = None
        """The skin's coarse grid and light, set when the skin is drawn (a mask is lit by it)."""
        self.head_mask: np.ndarray | None = None
        """Coverage (0-1) of the head contour over the image, set when the skin is drawn."""
        self.face = face
        self.pose = pose
        self.lay = make_layout(face)
        self.a = face.attributes
        self.skin = skin_rgb(face)
        self.hair = hair_rgb(face)
        light = np.array(LIGHT_DIR[lighting], dtype=np.float64)
        self.light = light / np.linalg.norm(light)
        # which side of the nose is in shadow (image x sign)
        self.shadow_side = 1.0 if self.light[0] < -0.2 else -1.0 if self.light[0] > 0.2 else 0.0
        self.lw = max(1.0, pose.s * 0.035)  # a line width that scales with the face

    # ---------------------------------------------------------------- public
    def draw(self) -> None:
        """Everything, back to front."""
        style = self.a["hair_style"]
        hat = self.a["hat"] == "hat"
        self._shoulders()
        if style in ("long", "curly", "ponytail") and not (hat and style == "ponytail"):
            draw_back_hair(self, style)
        self._neck()
        if style != "long":
            self._ears()
        self._skin()
        self._marks()
        aging.draw_age(self)
        aging.draw_gender(self)
        self._wrinkles()
        self._eyes()
        self._brows()
        self._nose()
        self._mouth()
        if not hat:
            draw_hair_cap(self, style)
        else:
            cap = "short" if style in ("long", "ponytail") else style
            draw_hair_cap(self, cap, under_hat=True)
        if self.a["mask"] == "mask":
            draw_mask(self)
        if self.a["eyewear"] != "none":
            draw_eyewear(self, self.a["eyewear"])
        if hat:
            draw_hat(self)

    # ---------------------------------------------------------------- body
    def _shoulders(self) -> None:
        lay, pose = self.lay, self.pose
        b = lay.head_b
        xs = np.array([-0.55, 0.55, 1.1, 1.9, 2.4, -2.4, -1.9, -1.1])
        ys = b + np.array([0.45, 0.45, 0.65, 0.95, 3.0, 3.0, 0.95, 0.65])
        p = pose.flat(xs, ys)
        fill(self.img, p, rgb_scaled(self.face.cloth_rgb))
        # neckline
        nx = np.array([-0.5, 0.5, 0.0])
        ny = np.array([b + 0.44, b + 0.44, b + 0.85])
        fill(self.img, pose.flat(nx, ny), rgb_scaled(self.skin, 0.7))

    def _neck(self) -> None:
        lay, pose = self.lay, self.pose
        b = lay.head_b
        xs = np.array([-lay.neck, lay.neck, lay.neck + 0.06, -lay.neck - 0.06])
        ys = np.array([lay.mouth_y, lay.mouth_y, b + 0.5, b + 0.5])
        fill(self.img, pose.flat(xs, ys), rgb_scaled(self.skin, 0.62))
        # shadow under the jaw
        sx, sy = ellipse(0.0, b + 0.1, 0.45, 0.18, 14)
        fill(self.img, pose.flat(sx, sy), rgb_scaled(self.skin, 0.5))

    def _ears(self) -> None:
        lay, pose = self.lay, self.pose
        size = self.face.identity.ear_size
        yc = lay.eye_y + 0.2
        for side in (-1.0, 1.0):
            # the ear turning toward the camera shows more
            vis = 1.0 + 1.6 * side * -pose.sy
            if vis < 0.35:
                continue
            ex, ey = ellipse(side * 0.97, yc, 0.13 * min(vis, 1.6), size * 0.55, 16)
            p = pose.project(ex, ey, -0.15, surface=False)
            fill(self.img, p, rgb_scaled(self.skin, 0.78))
            ix, iy = ellipse(side * 1.0, yc, 0.05 * min(vis, 1.6), size * 0.32, 12)
            line(self.img, pose.project(ix, iy, -0.15, surface=False), rgb_scaled(self.skin, 0.55),
                 self.lw * 0.6, closed=True)

    # ---------------------------------------------------------------- skin
    def _skin(self) -> None:
        """The head: a lit sphere-like surface with soft shadows in sockets and under the nose.

        Light, shadows and tints vary slowly, so they are computed on a grid a few times
        coarser than the pixels and resized; only the contour is drawn at full resolution.
        """
        img, pose, lay = self.img, self.pose, self.lay
        h, w = img.shape[:2]
        contour = outline_pixels(pose, lay)
        x0, y0 = np.floor(contour.min(axis=0)).astype(int) - 4
        x1, y1 = np.ceil(contour.max(axis=0)).astype(int) + 4
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, w), min(y1, h)
        if x1 <= x0 or y1 <= y0:
            return
        rw, rh = x1 - x0, y1 - y0
        grid = CoarseGrid(x0, y0, rw, rh, max(1, int(pose.s / 18)))
        lw_, lh_ = grid.lw, grid.lh
        # surface normals on a sphere-like head: each cell's face-unit coordinates after roll
        xx = grid.x0 + (np.arange(lw_, dtype=np.float32) + 0.5) * grid.fx - 0.5
        yy = grid.y0 + (np.arange(lh_, dtype=np.float32) + 0.5) * grid.fy - 0.5
        dx = ((xx - pose.cx) / pose.s)[None, :]
        dy = ((yy - pose.cy) / pose.s)[:, None]
        u = dx * pose.cr + dy * pose.sr
        vb = (-dx * pose.sr + dy * pose.cr) / lay.head_b
        # a face is flatter than a sphere: damp the in-plane normal so edges do not go black
        nz = np.sqrt(np.clip(1.0 - u * u - vb * vb, 0.0, None)) + 0.35
        inv = 1.0 / np.sqrt(u * u * 0.5 + vb * vb * 0.5 + nz * nz)
        lx, ly, lz = self.light
        # light is in the face frame; roll it with the head
        lxr = lx * pose.cr + ly * pose.sr
        lyr = -lx * pose.sr + ly * pose.cr
        ndl = np.clip((u * 0.707 * lxr + vb * 0.707 * lyr + nz * lz) * inv, 0.0, None)
        shade = (SHADE_FLOOR + SHADE_GAIN * ndl).astype(np.float32)
        # half-vector highlight: the sheen that shows shape on every skin tone
        hx, hy, hz = lxr, lyr, lz + 1.0
        hn = np.sqrt(hx * hx + hy * hy + hz * hz)
        spec = np.clip((u * 0.707 * hx + vb * 0.707 * hy + nz * hz) * inv / hn, 0.0, None) ** 20
        # soft shadows: eye sockets, nose side and base, under the lower lip
        ao = np.zeros((lh_, lw_), np.float32)
        s_w, s_h = lay.eye_w * 1.55, lay.eye_h * 2.6
        for side in (-1, 1):
            ex, ey = ellipse(side * lay.eye_dx, lay.eye_y - 0.03, s_w, s_h, 16)
            fill(ao, grid.low(pose.project(ex, ey)), SOCKET_SHADOW)
            bx, by = ellipse(side * lay.eye_dx, lay.eye_y - lay.eye_h * 1.4, s_w, lay.eye_h, 12)
            fill(ao, grid.low(pose.project(bx, by)), SOCKET_SHADOW * 0.6)
        nx, ny = ellipse(0.0, lay.nose_y + 0.07, lay.nose_w * 1.0, 0.06, 12)
        fill(ao, grid.low(pose.project(nx, ny, 0.1)), 0.5)
        side = self.shadow_side or (1.0 if pose.sy < 0 else -1.0)
        for sgn in (-1.0, 1.0):
            strength = 0.34 if sgn == side else 0.2
            bx = np.array([0.05, 0.09, lay.nose_w * 0.95, lay.nose_w * 0.6, 0.05]) * sgn
            by = np.array([lay.eye_y + 0.02, lay.eye_y + 0.06, lay.nose_y - 0.02,
                           lay.nose_y + 0.02, lay.nose_y - 0.12])
            fill(ao, grid.low(pose.project(bx, by, NOSE_DZ)), strength)
        mx, my = ellipse(0.0, lay.mouth_y + 0.16, lay.mouth_w * 0.55, 0.05, 12)
        fill(ao, grid.low(pose.project(mx, my)), 0.42)
        cheek = self.face.identity.cheek
        if cheek > 0.0:
            # the hollow under each cheekbone, an identity trait that light shows
            ex, ey = ellipse(0.0, 0.0, 0.24, 0.08, 14)
            ca, sa = np.cos(CHEEK_SLOPE), np.sin(CHEEK_SLOPE)
            for sgn in (-1.0, 1.0):
                hx = sgn * (0.62 + ex * ca - ey * sa)
                hy = lay.nose_y + 0.08 + ex * sa + ey * ca
                fill(ao, grid.low(pose.project(hx, hy)), cheek)
        sigma = max(1.0, pose.s * 0.07) / grid.f
        ao = cv2.GaussianBlur(ao, (0, 0), sigma)
        texture = aging.even_skin(self, grid, mottle(
            ao.shape, identity_seed(self.face.identity.key) + 2, SKIN_MOTTLE))
        k = (shade * (1.0 - ao) * texture)[..., None]
        # warm shadows (light scatters under skin): red falls off slower than blue
        color = np.asarray(self.skin, np.float32) * k**WARM + (spec * 60.0)[..., None]
        if self.face.beard != "none":
            color = self._facial_hair(color, shade, grid, sigma)
        color = aging.child_blush(self, color, grid, sigma)
        self.skin_shade = (grid, shade)
        color = cv2.resize(np.clip(color, 0, 255), (rw, rh), interpolation=cv2.INTER_LINEAR)
        mask = np.zeros((rh, rw), np.uint8)
        cv2.fillPoly(mask, [fixed_point(contour - (x0, y0))], 255, AA, SHIFT)
        # a soft contour: a photographed cheek turns away from the light, it has no outline
        mask = cv2.GaussianBlur(mask, (0, 0), max(0.5, pose.s * 0.015))
        composite(img, x0, y0, color, mask)
        self.head_mask = np.zeros((h, w), np.float32)
        self.head_mask[y0:y1, x0:x1] = mask * (1.0 / 255.0)

    def _marks(self) -> None:
        pose, ident = self.pose, self.face.identity
        dot = max(1.0, pose.s * 0.018)
        if ident.chin_cleft and self.a["mask"] == "none":
            b = self.lay.head_b
            line(self.img, pose.project([0.0, 0.0], [b - 0.16, b - 0.04]),
                 rgb_scaled(self.skin, 0.75), self.lw * 0.6)
        for mx, my in ident.moles:
            p = pose.project([mx], [self.lay.eye_y + my])[0]
            cv2.circle(self.img, tuple(np.round(p * ONE).astype(int)), int(dot * ONE),
                       rgb_scaled(self.skin, 0.45), -1, AA, SHIFT)
        if ident.freckles and self.a["mask"] == "none":
            rng = np.random.default_rng(identity_seed(ident.key) + 1)
            fx = rng.uniform(-0.6, 0.6, 24)
            fy = self.lay.nose_y - 0.1 + rng.uniform(-0.12, 0.12, 24)
            fx = fx[np.abs(fx) > 0.12]
            for p in pose.project(fx, fy[: len(fx)]):
                cv2.circle(self.img, tuple(np.round(p * ONE).astype(int)), int(dot * 0.7 * ONE),
                           rgb_scaled(self.skin, 0.78), -1, AA, SHIFT)

    def _wrinkles(self) -> None:
        age = self.a["age_group"]
        depth = aging.WRINKLE_DEPTH.get(age)
        if depth is None:
            return
        lay, pose, img = self.lay, self.pose, self.img
        c = rgb_scaled(self.skin, depth)
        lw = max(1.0, self.lw * 0.5)
        t = frozen_linspace(-1, 1, 9)
        # forehead lines
        n_fore = {"middle_aged": 2, "elderly": 3, "old": 4}[age]
        for i in range(n_fore):
            y = lay.eye_y - 0.42 - 0.09 * i
            if y < lay.hairline + 0.05:
                break
            line(img, pose.project(0.42 * t, y - 0.02 * (1 - t * t)), c, lw)
        # nasolabial folds
        for side in (-1, 1):
            fx = side * np.array([lay.nose_w * 1.1, lay.nose_w * 1.6, lay.mouth_w * 1.25])
            fy = np.array([lay.nose_y - 0.02, lay.nose_y + 0.18, lay.mouth_y + 0.12])
            line(img, pose.project(fx, fy), c, lw)
        if age in ("elderly", "old"):
            for side in (-1, 1):
                # crow's feet
                ox = side * (lay.eye_dx + lay.eye_w * 1.15)
                for dy in (-0.06, -0.02, 0.02, 0.06):
                    crow = pose.project([ox, ox + side * 0.09], [lay.eye_y, lay.eye_y + dy * 1.6])
                    line(img, crow, c, lw)
                # bags under the eyes
                bx = side * lay.eye_dx + lay.eye_w * 0.8 * t[2:-2]
                by = lay.eye_y + lay.eye_h * 1.6 + 0.05 * (1 - t[2:-2] ** 2)
                line(img, pose.project(bx, by), c, lw)
        if age == "old":
            for side in (-1, 1):
                mx = side * np.array([lay.mouth_w * 1.05, lay.mouth_w * 1.1])
                my = np.array([lay.mouth_y + 0.05, lay.mouth_y + 0.3])
                line(img, pose.project(mx, my), c, lw)

    # ---------------------------------------------------------------- features
    def _eye_curves(self, side: int, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lay, ident = self.lay, self.face.identity
        ex = side * lay.eye_dx
        x = ex + lay.eye_w * t * side  # t=-1 inner corner, t=+1 outer corner
        lift = ident.eye_tilt * t
        bulge = (1 - t * t) ** 0.8
        upper = lay.eye_y - lay.eye_h * lay.open * bulge - lift
        lower = lay.eye_y + lay.eye_h * 0.72 * lay.open * (1 - t * t) ** 0.9 - lift
        return x, upper, lower

    def _eyes(self) -> None:
        img, pose, lay = self.img, self.pose, self.lay
        t = frozen_linspace(-1, 1, 13)
        lash = (22, 16, 14)
        lw = self.lw * (1.0 if self.a["gender"] == "female" else aging.MALE_LASH)
        iris_c = rgb_scaled(IRIS_RGB[self.a["eye_color"]])
        sclera_k = 0.9 if self.light[2] > 0.5 else 0.8
        for side in (-1, 1):
            x, upper, lower = self._eye_curves(side, t)
            if lay.open <= 0.0:
                # closed: a lid curve with lashes, slightly darker lid above
                lid_y = lay.eye_y + lay.eye_h * 0.25 * (1 - t * t)
                lid_top = lay.eye_y - lay.eye_h * 0.9 * (1 - t * t) ** 0.8
                lid = np.vstack([pose.project(x, lid_top), pose.project(x[::-1], lid_y[::-1])])
                fill(img, lid, rgb_scaled(self.skin, 0.72))
                line(img, pose.project(x, lid_y), lash, lw * 1.2)
                continue
            shape = np.vstack([pose.project(x, upper), pose.project(x[::-1], lower[::-1])])
            fill(img, shape, rgb_mix(rgb_scaled((236, 232, 226), sclera_k), self.skin, SCLERA_SKIN))
            # iris clipped by the lids: a real eye shows mostly iris, little white
            r = lay.eye_h * 1.25 * min(lay.open, 1.1) / max(lay.open, 1e-6) * 0.95
            r = min(r * self.face.identity.iris, lay.eye_w * 0.62)
            icx = side * lay.eye_dx + self.face.gaze * lay.eye_w * 0.3
            ia = np.linspace(0, 2 * np.pi, 20, endpoint=False)
            ix = icx + r * np.cos(ia)
            iy = lay.eye_y + 0.1 * lay.eye_h + r * np.sin(ia)
            ts = np.clip((ix - side * lay.eye_dx) / (lay.eye_w * side), -1, 1)
            _, up_i, lo_i = self._eye_curves(side, ts)
            iy = np.clip(iy, up_i, lo_i)
            fill(img, pose.project(ix, iy), iris_c)
            pr = r * 0.45
            px, py = ellipse(icx, lay.eye_y + 0.1 * lay.eye_h, pr, pr, 12)
            py = np.clip(py, lay.eye_y - lay.eye_h * lay.open * 0.9, None)
            fill(img, pose.project(px, py), (12, 10, 10))
            hx, hy = ellipse(icx - r * 0.3, lay.eye_y - r * 0.25, pr * 0.45, pr * 0.45, 8)
            fill(img, pose.project(hx, hy), (245, 245, 245))
            # upper lid with lashes and the lash line's shadow, lower lid, crease
            lid = upper - lay.eye_h * 0.3 * (1 - t * t) ** 0.5
            fill(img, np.vstack([pose.project(x, lid), pose.project(x[::-1], upper[::-1])]),
                 rgb_scaled(self.skin, 0.55))
            line(img, pose.project(x, upper), lash, lw * 1.7)
            line(img, pose.project(x, lower), rgb_scaled(self.skin, 0.55), lw * 0.6)
            fold = self.face.identity.lid_crease
            crease = upper - lay.eye_h * (0.35 + 0.6 * fold) - 0.01
            line(img, pose.project(x[2:-1], crease[2:-1]),
                 rgb_scaled(self.skin, 0.82 - 0.15 * fold), lw * (0.5 + 0.3 * fold))

    def _brows(self) -> None:
        img, pose, lay, ident = self.img, self.pose, self.lay, self.face.identity
        t = frozen_linspace(0, 1, 11)  # 0 inner, 1 outer
        raise_in, raise_out = lay.brow_raise
        male = self.a["gender"] == "male" and self.a["age_group"] != "child"
        thick = ident.brow_thick * (1.0 if male else aging.FEMALE_BROW_THICK) * BROW_GAIN
        if self.a["age_group"] == "child":
            thick *= 0.8
        hair_dark = np.minimum(np.array(self.hair) * ident.brow_tone,
                               np.array(self.skin) * 0.38 + 4)
        color = rgb_scaled(hair_dark, aging.MALE_BROW_TONE if male else 1.0)
        length = lay.eye_w * 2.35 * ident.brow_len
        for side in (-1, 1):
            x = side * (lay.eye_dx - lay.eye_w * 1.05 + t * length)
            groomed = aging.FEMALE_BROW_ARCH if aging.made_up(self.a) else 0.0
            arch = (ident.brow_arch + groomed) * np.sin(np.pi * np.clip(t * 1.2, 0, 1))
            if male:  # a man's brows sit lower over the eyes and arch less
                arch = arch * aging.MALE_BROW_ARCH - aging.MALE_BROW_DROP
            base = (lay.eye_y - ident.brow_gap - arch - (raise_in * (1 - t) + raise_out * t)
                    + ident.brow_slant * t)
            if self.a["expression"] in ("surprise", "fear"):
                base = base - 0.03 * np.sin(np.pi * t)
            half = thick * (1.0 - 0.55 * t) * 0.5 + 0.012
            top = pose.project(x, base - half)
            bot = pose.project(x[::-1], (base + half)[::-1])
            fill(img, np.vstack([top, bot]), color)

    def _nose(self) -> None:
        img, pose, lay, ident = self.img, self.pose, self.lay, self.face.identity
        lw = self.lw * 0.7
        dark = rgb_scaled(self.skin, 0.5)
        # the tip: a lit bulb with a soft underside, its size is the person's
        tip = ident.nose_tip
        tx, ty = ellipse(0.0, lay.nose_y - 0.01, lay.nose_w * 0.3 * tip, 0.05 * tip, 12)
        fill(img, pose.project(tx, ty, 0.3), rgb_scaled(self.skin, 1.04, 5))
        ux, uy = ellipse(0.0, lay.nose_y + 0.035, lay.nose_w * 0.3 * tip, 0.028, 9, 0.15,
                         np.pi - 0.15)
        line(img, pose.project(ux, uy, 0.26), rgb_scaled(self.skin, 0.72), lw)
        # nostrils
        nr = ident.nostril
        for side in (-1, 1):
            nx, ny = ellipse(side * lay.nose_w * 0.42, lay.nose_y + 0.055, 0.045 * nr, 0.022 * nr,
                             10)
            fill(img, pose.project(nx, ny, 0.16), rgb_scaled(self.skin, 0.3))
            # alar crease
            ax, ay = ellipse(side * lay.nose_w * 0.62, lay.nose_y + 0.01, lay.nose_w * 0.35, 0.07,
                             8, np.pi * 0.5 - side * 1.3, np.pi * 0.5 + side * 0.2)
            line(img, pose.project(ax, ay, 0.12), dark, lw)
        # ridge highlight and the bridge line on the shadow side
        rx = np.array([0.0, 0.0, 0.0])
        ry = np.array([lay.eye_y + 0.12, (lay.eye_y + lay.nose_y) / 2, lay.nose_y - 0.04])
        ridge = rgb_scaled(self.skin, 1.05, 8)
        line(img, pose.project(rx, ry, np.array([0.12, 0.2, 0.3])), ridge, lw)
        side = self.shadow_side or (1.0 if pose.sy < 0 else -1.0)
        bx = side * ident.nose_bridge * np.array([0.875, 1.0, 1.25])
        by = np.array([lay.eye_y + 0.1, lay.eye_y + 0.25, lay.nose_y - 0.05])
        line(img, pose.project(bx, by, np.array([0.12, 0.2, 0.28])), rgb_scaled(self.skin, 0.7), lw)

    def _mouth_curves(self, t: np.ndarray) -> tuple[np.ndarray, ...]:
        lay, ident = self.lay, self.face.identity
        mw = lay.mouth_w * lay.mouth_wf
        x = mw * t
        mid = lay.mouth_y + lay.corner * t * t
        env = (1 - t * t) ** 0.7
        top = mid - lay.mouth_open * 0.4 * env
        bot = mid + lay.mouth_open * 0.6 * env
        thin = 0.7 if self.a["age_group"] in ("elderly", "old") else 1.0
        full = 1.15 if self.a["gender"] == "female" else 1.0
        bow = ident.lip_bow * np.exp(-((t * 6) ** 2))
        upper = top - ident.lip_upper * thin * full * (1 - t * t) ** 0.5 + bow
        lower = bot + ident.lip_lower * thin * full * (1 - t * t) ** 0.6
        return x, upper, top, bot, lower

    def _mouth(self) -> None:
        if self.a["mask"] == "mask":
            return
        img, pose, lay = self.img, self.pose, self.lay
        t = frozen_linspace(-1, 1, 15)
        x, upper, top, bot, lower = self._mouth_curves(t)
        tint = (0.3 if self.a["gender"] == "male" else 0.45) + 0.12 * self.face.identity.lip_tint
        lip = rgb_mix(self.skin, (172, 72, 76), tint)
        if aging.made_up(self.a):
            lip = rgb_mix(lip, aging.LIPSTICK, aging.LIPSTICK_MIX)
        lip = rgb_scaled(lip, 0.82)
        fill(img, np.vstack([pose.project(x, upper), pose.project(x[::-1], lower[::-1])]), lip)
        if lay.mouth_open > 0.0:
            hole = np.vstack([pose.project(x, top), pose.project(x[::-1], bot[::-1])])
            fill(img, hole, (62, 22, 24))
            expr = self.a["expression"]
            if expr in ("smile", "angry", "surprise"):
                teeth_b = top + (bot - top) * (0.5 if expr != "angry" else 0.95)
                tx = x[2:-2]
                fill(img, np.vstack([pose.project(tx, top[2:-2]),
                                     pose.project(tx[::-1], teeth_b[2:-2][::-1])]),
                     (232, 228, 218))
            elif expr == "fear":
                teeth_t = bot - (bot - top) * 0.4
                tx = x[3:-3]
                fill(img, np.vstack([pose.project(tx, teeth_t[3:-3]),
                                     pose.project(tx[::-1], bot[3:-3][::-1])]), (226, 222, 212))
            line(img, hole, rgb_scaled(lip, 0.55), self.lw * 0.5, closed=True)
        else:
            line(img, pose.project(x, top), rgb_scaled(lip, 0.45), self.lw * 0.8)

    def _facial_hair(
        self, color: np.ndarray, shade: np.ndarray, grid: CoarseGrid, sigma: float
    ) -> np.ndarray:
        """Stubble, moustache or beard in the lit skin, from the mouth line down (not a hood)."""
        pose, lay = self.pose, self.lay
        density = np.zeros(shade.shape, np.float32)
        t, kind = T11, self.face.beard
        _, upper, *_ = self._mouth_curves(t)
        if kind in ("stubble", "beard"):
            xs, ys = outline(lay)
            keep = ys > lay.mouth_y - 0.05
            edge = pose.project(xs[keep] * 0.97, ys[keep])
            inner = pose.project(t * lay.mouth_w * 1.25, upper - 0.05)
            fill(density, grid.low(np.vstack([edge, inner])), 0.3 if kind == "stubble" else 0.62)
        if kind in ("moustache", "beard"):
            x = lay.mouth_w * 1.1 * t
            top = upper - 0.1 + 0.04 * t * t
            bot = upper - 0.005 + 0.05 * t * t
            poly = np.vstack([pose.project(x, top), pose.project(x[::-1], bot[::-1])])
            fill(density, grid.low(poly), 0.7)
        density = cv2.GaussianBlur(density, (0, 0), max(0.5, sigma * 0.5))[..., None]
        hair = np.asarray(self.hair, np.float32) * shade[..., None]
        return color * (1 - density) + hair * density
