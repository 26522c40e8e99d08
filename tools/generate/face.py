"""Drawing one face with OpenCV: a shaded head, eyes, brows, nose, mouth, hair and accessories.

Geometry lives in face units: x to the image right, y down, the head's half-width is 1 and
the eye line is near y = 0. A point is lifted onto a sphere-like head surface (z), turned by
the yaw, rolled and scaled into pixels, so every feature moves consistently with the pose and
the ground truth (box, five landmarks) comes from the same projection as the pixels.

What matters to face detectors (and so to the critic) is drawn with care: the light-dark
structure of eye sockets and brows, the nose shadow, the mouth line and the head contour.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from tools.generate import aging
from tools.generate.people import identity_seed
from tools.generate.scene import HAIR_RGB, IRIS_RGB, LIGHT_DIR, MONK_RGB, FaceSpec

AA = cv2.LINE_AA
SHIFT = 4  # sub-pixel bits for cv2 drawing
ONE = 1 << SHIFT
WARM = np.array([0.8, 1.0, 1.15], np.float32)
EXPOSURE_GAMMA = 0.65


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


NOSE_DZ = np.array([0.12, 0.1, 0.2, 0.25, 0.25])
#: Slant of the hollow under a cheekbone (radians; it runs down toward the mouth corner).
CHEEK_SLOPE = -0.6
#: Where a face mask's top edge sits below the eye line (the bridge of an average nose).
MASK_TOP = 0.33


class _Grid:
    """A coarse grid over a region of interest, for quantities that vary slowly."""

    def __init__(self, x0: int, y0: int, rw: int, rh: int, f: int) -> None:
        self.x0, self.y0, self.f = x0, y0, f
        self.lw, self.lh = max(1, -(-rw // f)), max(1, -(-rh // f))
        self.fx, self.fy = rw / self.lw, rh / self.lh
        self.rw, self.rh = rw, rh

    def low(self, p: np.ndarray) -> np.ndarray:
        """Image pixel coordinates -> coarse grid coordinates (pixel centres kept aligned)."""
        q = np.empty_like(p)
        q[:, 0] = (p[:, 0] - self.x0 + 0.5) / self.fx - 0.5
        q[:, 1] = (p[:, 1] - self.y0 + 0.5) / self.fy - 0.5
        return q

    def full(self, a: np.ndarray) -> np.ndarray:
        """A coarse array resized to the full region."""
        return cv2.resize(a, (self.rw, self.rh), interpolation=cv2.INTER_LINEAR)


def _composite(img: np.ndarray, x0: int, y0: int, color: np.ndarray, mask: np.ndarray) -> None:
    """Blend a float colour patch into `img` at (x0, y0) through an 8-bit coverage mask."""
    rh, rw = mask.shape
    roi = img[y0 : y0 + rh, x0 : x0 + rw]
    alpha = mask.astype(np.float32) * (1.0 / 255.0)
    out = cv2.blendLinear(color.astype(np.float32), roi.astype(np.float32), alpha, 1.0 - alpha)
    roi[:] = np.clip(out, 0, 255).astype(np.uint8)


def _pts(p: np.ndarray) -> np.ndarray:
    return np.round(p * ONE).astype(np.int32).reshape(-1, 1, 2)


def fill(img: np.ndarray, p: np.ndarray, color) -> None:
    cv2.fillPoly(img, [_pts(p)], color, AA, SHIFT)


def line(img: np.ndarray, p: np.ndarray, color, thickness: float, closed: bool = False) -> None:
    cv2.polylines(img, [_pts(p)], closed, color, max(1, int(round(thickness))), AA, SHIFT)


@lru_cache(maxsize=256)
def _arc(n: int, a0: float, a1: float) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(a0, a1, n, endpoint=a1 - a0 < 2 * np.pi - 1e-6)
    return np.cos(t), np.sin(t)


def ellipse(xc: float, yc: float, rx: float, ry: float, n: int = 20, a0=0.0, a1=2 * np.pi):
    """Points of an ellipse (or an arc from angle a0 to a1) in face units."""
    c, s = _arc(n, float(a0), float(a1))
    return xc + rx * c, yc + ry * s


@lru_cache(maxsize=64)
def _lin(a: float, b: float, n: int) -> np.ndarray:
    out = np.linspace(a, b, n)
    out.flags.writeable = False
    return out


T11 = _lin(-1, 1, 11)


def _col(rgb, k: float = 1.0, add: float = 0.0) -> tuple[float, float, float]:
    return tuple(min(255.0, max(0.0, float(c) * k + add)) for c in rgb)


def _mix(a, b, t: float) -> tuple[float, float, float]:
    return tuple(float(x * (1 - t) + y * t) for x, y in zip(a, b, strict=True))


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
    head_b = ident.head_b * round_ * (aging.MALE_LENGTH if man else 1.0)
    eye_y = ident.eye_y + shift
    return Layout(
        eye_y=eye_y,
        eye_dx=ident.eye_dx * (0.96 if a["age_group"] == "child" else 1.0),
        eye_w=ident.eye_w * eye_k,
        eye_h=ident.eye_h * eye_k,
        nose_y=eye_y + ident.nose_y * k,
        nose_w=ident.nose_w * (0.8 + 0.2 * k) * (aging.MALE_NOSE if man else 1.0),
        mouth_y=eye_y + ident.mouth_y * k,
        mouth_w=ident.mouth_w * (0.85 + 0.15 * k),
        head_b=head_b,
        jaw=ident.jaw * (aging.MALE_JAW if man else 0.92),
        chin=ident.chin * (aging.MALE_CHIN if man else 1.0),
        chin_h=ident.chin_h,
        hairline=eye_y - ident.hairline - (0.08 if a["age_group"] == "child" else 0.0),
        open=0.0 if a["eyes"] == "closed" else op,
        corner=corner,
        mouth_open=mopen,
        mouth_wf=wf,
        brow_raise=(b_in, b_out),
        box_top=eye_y - 0.55,
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
        return _mix(color, HAIR_RGB["grey"], face.hair_grey)
    return _col(color)


class FaceDrawer:
    """Draws one face into an RGB image (in place)."""

    def __init__(self, img: np.ndarray, face: FaceSpec, pose: Pose, lighting: str) -> None:
        self.img = img
        self._shade: tuple[_Grid, np.ndarray] | None = None
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
            self._back_hair(style)
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
            self._hair_cap(style)
        else:
            self._hair_cap("short" if style in ("long", "ponytail") else style, under_hat=True)
        if self.a["mask"] == "mask":
            self._mask()
        if self.a["eyewear"] != "none":
            self._eyewear(self.a["eyewear"])
        if hat:
            self._hat()

    # ---------------------------------------------------------------- body
    def _shoulders(self) -> None:
        lay, pose = self.lay, self.pose
        b = lay.head_b
        xs = np.array([-0.55, 0.55, 1.1, 1.9, 2.4, -2.4, -1.9, -1.1])
        ys = b + np.array([0.45, 0.45, 0.65, 0.95, 3.0, 3.0, 0.95, 0.65])
        p = pose.flat(xs, ys)
        fill(self.img, p, _col(self.face.cloth_rgb))
        # neckline
        nx = np.array([-0.5, 0.5, 0.0])
        ny = np.array([b + 0.44, b + 0.44, b + 0.85])
        fill(self.img, pose.flat(nx, ny), _col(self.skin, 0.7))

    def _neck(self) -> None:
        lay, pose = self.lay, self.pose
        b = lay.head_b
        xs = np.array([-0.46, 0.46, 0.52, -0.52])
        ys = np.array([lay.mouth_y, lay.mouth_y, b + 0.5, b + 0.5])
        fill(self.img, pose.flat(xs, ys), _col(self.skin, 0.62))
        # shadow under the jaw
        sx, sy = ellipse(0.0, b + 0.1, 0.45, 0.18, 14)
        fill(self.img, pose.flat(sx, sy), _col(self.skin, 0.5))

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
            fill(self.img, p, _col(self.skin, 0.78))
            ix, iy = ellipse(side * 1.0, yc, 0.05 * min(vis, 1.6), size * 0.32, 12)
            line(self.img, pose.project(ix, iy, -0.15, surface=False), _col(self.skin, 0.55),
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
        grid = _Grid(x0, y0, rw, rh, max(1, int(pose.s / 18)))
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
        shade = (0.5 + 0.55 * ndl).astype(np.float32)
        # half-vector highlight: the sheen that shows shape on every skin tone
        hx, hy, hz = lxr, lyr, lz + 1.0
        hn = np.sqrt(hx * hx + hy * hy + hz * hz)
        spec = np.clip((u * 0.707 * hx + vb * 0.707 * hy + nz * hz) * inv / hn, 0.0, None) ** 20
        # soft shadows: eye sockets, nose side and base, under the lower lip
        ao = np.zeros((lh_, lw_), np.float32)
        s_w, s_h = lay.eye_w * 1.55, lay.eye_h * 2.6
        for side in (-1, 1):
            ex, ey = ellipse(side * lay.eye_dx, lay.eye_y - 0.03, s_w, s_h, 16)
            fill(ao, grid.low(pose.project(ex, ey)), 0.5)
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
        fill(ao, grid.low(pose.project(mx, my)), 0.3)
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
        k = (shade * (1.0 - ao))[..., None]
        # warm shadows (light scatters under skin): red falls off slower than blue
        color = np.asarray(self.skin, np.float32) * k**WARM + (spec * 60.0)[..., None]
        if self.face.beard != "none":
            color = self._facial_hair(color, shade, grid, sigma)
        if self.a["age_group"] == "child":
            blush = np.zeros((lh_, lw_), np.float32)
            for side in (-1, 1):
                cx_, cy_ = ellipse(side * 0.55, lay.nose_y + 0.05, 0.2, 0.12, 12)
                fill(blush, grid.low(pose.project(cx_, cy_)), 1.0)
            blush = cv2.GaussianBlur(blush, (0, 0), sigma * 1.5)
            color += blush[..., None] * np.array([22.0, -6.0, -4.0], np.float32)
        self._shade = (grid, shade)
        color = cv2.resize(np.clip(color, 0, 255), (rw, rh), interpolation=cv2.INTER_LINEAR)
        mask = np.zeros((rh, rw), np.uint8)
        cv2.fillPoly(mask, [_pts(contour - (x0, y0))], 255, AA, SHIFT)
        _composite(img, x0, y0, color, mask)
        self.head_mask = np.zeros((h, w), np.float32)
        self.head_mask[y0:y1, x0:x1] = mask * (1.0 / 255.0)

    def _marks(self) -> None:
        pose, ident = self.pose, self.face.identity
        dot = max(1.0, pose.s * 0.018)
        if ident.chin_cleft and self.a["mask"] == "none":
            b = self.lay.head_b
            line(self.img, pose.project([0.0, 0.0], [b - 0.16, b - 0.04]), _col(self.skin, 0.75),
                 self.lw * 0.6)
        for mx, my in ident.moles:
            p = pose.project([mx], [self.lay.eye_y + my])[0]
            cv2.circle(self.img, tuple(np.round(p * ONE).astype(int)), int(dot * ONE),
                       _col(self.skin, 0.45), -1, AA, SHIFT)
        if ident.freckles and self.a["mask"] == "none":
            rng = np.random.default_rng(identity_seed(ident.key) + 1)
            fx = rng.uniform(-0.6, 0.6, 24)
            fy = self.lay.nose_y - 0.1 + rng.uniform(-0.12, 0.12, 24)
            fx = fx[np.abs(fx) > 0.12]
            for p in pose.project(fx, fy[: len(fx)]):
                cv2.circle(self.img, tuple(np.round(p * ONE).astype(int)), int(dot * 0.7 * ONE),
                           _col(self.skin, 0.78), -1, AA, SHIFT)

    def _wrinkles(self) -> None:
        age = self.a["age_group"]
        depth = aging.WRINKLE_DEPTH.get(age)
        if depth is None:
            return
        lay, pose, img = self.lay, self.pose, self.img
        c = _col(self.skin, depth)
        lw = max(1.0, self.lw * 0.5)
        t = _lin(-1, 1, 9)
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
        t = _lin(-1, 1, 13)
        lash = (22, 16, 14)
        lw = self.lw * (1.0 if self.a["gender"] == "female" else aging.MALE_LASH)
        iris_c = _col(IRIS_RGB[self.a["eye_color"]])
        sclera_k = 0.9 if self.light[2] > 0.5 else 0.8
        for side in (-1, 1):
            x, upper, lower = self._eye_curves(side, t)
            if lay.open <= 0.0:
                # closed: a lid curve with lashes, slightly darker lid above
                lid_y = lay.eye_y + lay.eye_h * 0.25 * (1 - t * t)
                lid_top = lay.eye_y - lay.eye_h * 0.9 * (1 - t * t) ** 0.8
                lid = np.vstack([pose.project(x, lid_top), pose.project(x[::-1], lid_y[::-1])])
                fill(img, lid, _col(self.skin, 0.72))
                line(img, pose.project(x, lid_y), lash, lw * 1.2)
                continue
            shape = np.vstack([pose.project(x, upper), pose.project(x[::-1], lower[::-1])])
            fill(img, shape, _col((236, 232, 226), sclera_k))
            # iris clipped by the lids
            r = lay.eye_h * 1.05 * min(lay.open, 1.1) / max(lay.open, 1e-6) * 0.95
            r = min(r * self.face.identity.iris, lay.eye_w * 0.55)
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
            # upper lid with lashes, lower lid, crease
            line(img, pose.project(x, upper), lash, lw * 1.3)
            line(img, pose.project(x, lower), _col(self.skin, 0.55), lw * 0.6)
            fold = self.face.identity.lid_crease
            crease = upper - lay.eye_h * (0.35 + 0.6 * fold) - 0.01
            line(img, pose.project(x[2:-1], crease[2:-1]), _col(self.skin, 0.82 - 0.15 * fold),
                 lw * (0.5 + 0.3 * fold))

    def _brows(self) -> None:
        img, pose, lay, ident = self.img, self.pose, self.lay, self.face.identity
        t = _lin(0, 1, 11)  # 0 inner, 1 outer
        raise_in, raise_out = lay.brow_raise
        male = self.a["gender"] == "male" and self.a["age_group"] != "child"
        thick = ident.brow_thick * (1.0 if male else 0.75)
        if self.a["age_group"] == "child":
            thick *= 0.8
        hair_dark = np.minimum(np.array(self.hair) * ident.brow_tone,
                               np.array(self.skin) * 0.38 + 4)
        color = _col(hair_dark, aging.MALE_BROW_TONE if male else 1.0)
        length = lay.eye_w * 2.35 * ident.brow_len
        for side in (-1, 1):
            x = side * (lay.eye_dx - lay.eye_w * 1.05 + t * length)
            arch = ident.brow_arch * np.sin(np.pi * np.clip(t * 1.2, 0, 1))
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
        dark = _col(self.skin, 0.5)
        # the tip: a lit bulb with a soft underside, its size is the person's
        tip = ident.nose_tip
        tx, ty = ellipse(0.0, lay.nose_y - 0.01, lay.nose_w * 0.3 * tip, 0.05 * tip, 12)
        fill(img, pose.project(tx, ty, 0.3), _col(self.skin, 1.04, 5))
        ux, uy = ellipse(0.0, lay.nose_y + 0.035, lay.nose_w * 0.3 * tip, 0.028, 9, 0.15,
                         np.pi - 0.15)
        line(img, pose.project(ux, uy, 0.26), _col(self.skin, 0.72), lw)
        # nostrils
        nr = ident.nostril
        for side in (-1, 1):
            nx, ny = ellipse(side * lay.nose_w * 0.42, lay.nose_y + 0.055, 0.045 * nr, 0.022 * nr,
                             10)
            fill(img, pose.project(nx, ny, 0.16), _col(self.skin, 0.3))
            # alar crease
            ax, ay = ellipse(side * lay.nose_w * 0.62, lay.nose_y + 0.01, lay.nose_w * 0.35, 0.07,
                             8, np.pi * 0.5 - side * 1.3, np.pi * 0.5 + side * 0.2)
            line(img, pose.project(ax, ay, 0.12), dark, lw)
        # ridge highlight and the bridge line on the shadow side
        rx = np.array([0.0, 0.0, 0.0])
        ry = np.array([lay.eye_y + 0.12, (lay.eye_y + lay.nose_y) / 2, lay.nose_y - 0.04])
        line(img, pose.project(rx, ry, np.array([0.12, 0.2, 0.3])), _col(self.skin, 1.05, 8), lw)
        side = self.shadow_side or (1.0 if pose.sy < 0 else -1.0)
        bx = side * ident.nose_bridge * np.array([0.875, 1.0, 1.25])
        by = np.array([lay.eye_y + 0.1, lay.eye_y + 0.25, lay.nose_y - 0.05])
        line(img, pose.project(bx, by, np.array([0.12, 0.2, 0.28])), _col(self.skin, 0.7), lw)

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
        t = _lin(-1, 1, 15)
        x, upper, top, bot, lower = self._mouth_curves(t)
        tint = (0.3 if self.a["gender"] == "male" else 0.45) + 0.12 * self.face.identity.lip_tint
        lip = _mix(self.skin, (172, 72, 76), tint)
        if aging.made_up(self.a):
            lip = _mix(lip, aging.LIPSTICK, aging.LIPSTICK_MIX)
        lip = _col(lip, 0.82)
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
            line(img, hole, _col(lip, 0.55), self.lw * 0.5, closed=True)
        else:
            line(img, pose.project(x, top), _col(lip, 0.45), self.lw * 0.8)

    def _facial_hair(
        self, color: np.ndarray, shade: np.ndarray, grid: _Grid, sigma: float
    ) -> np.ndarray:
        """Stubble, moustache or beard blended into the lit skin, so the jaw keeps its shape."""
        pose, lay = self.pose, self.lay
        density = np.zeros(shade.shape, np.float32)
        t = T11
        _, upper, *_ = self._mouth_curves(t)
        kind = self.face.beard
        if kind in ("stubble", "beard"):
            xs, ys = outline(lay)
            keep = ys > lay.nose_y + 0.1
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

    # ---------------------------------------------------------------- hair
    def _cap_polygon(self, volume: float, side_drop: float) -> np.ndarray:
        """Hair over the skull: outer contour over the top, back along the hairline."""
        lay, ident = self.lay, self.face.identity
        b = lay.head_b
        y_side = lay.eye_y + side_drop
        y_temple = lay.eye_y - 0.22
        # outer contour: skull ellipse grown by the volume, from the right side over the top
        a_end = np.arcsin(np.clip(y_side / (b + volume), -1, 1))
        ang = np.linspace(a_end, -np.pi - a_end, 28)
        ox = (1.0 + volume) * np.cos(ang)
        oy = (b + volume) * np.sin(ang)
        # inner contour: left side up to the temple, then across the forehead to the right
        hx = _lin(-0.93, 0.93, 15)
        part = ident.hair_part * 0.3
        rise = (lay.eye_y - 0.22) - lay.hairline
        hy = lay.hairline + rise * (np.abs(hx - part) / (0.93 + abs(part))) ** 2.2
        ix = np.concatenate([[-0.96, -0.93], hx, [0.93, 0.96]])
        iy = np.concatenate([[y_side, y_temple], hy, [y_temple, y_side]])
        xs = np.concatenate([ox, ix])
        ys = np.concatenate([oy, iy])
        return self.pose.project(xs, ys, 0.04, surface=False)

    def _hair_cap(self, style: str, under_hat: bool = False) -> None:
        if style == "bald":
            if self.a["age_group"] in ("elderly", "old", "middle_aged"):
                # a fringe of hair around the sides
                for side in (-1, 1):
                    fx = side * np.array([0.92, 1.02, 1.0, 0.9])
                    fy = self.lay.eye_y + np.array([-0.45, -0.4, 0.12, 0.08])
                    fill(self.img, self.pose.flat(fx, fy), _col(self.hair, 0.9))
            return
        vol = self.face.identity.hair_volume * (2.6 if style == "curly" else 1.0)
        drop = 0.12 if style != "ponytail" else 0.0
        poly = self._cap_polygon(vol, drop)
        fill(self.img, poly, _col(self.hair))
        if style == "curly" and not under_hat:
            self._curls(poly)
        else:
            self._strands(vol)

    def _strands(self, vol: float) -> None:
        """A few strand lines and a highlight so hair is not a flat blob."""
        pose, lay = self.pose, self.lay
        b = lay.head_b
        dark, light = _col(self.hair, 0.82), _col(self.hair, 1.12, 10)
        for i, frac in enumerate((0.25, 0.45, 0.65, 0.8)):
            ang = np.linspace(-np.pi * (0.5 - frac * 0.45), -np.pi * (0.5 + frac * 0.45), 10)
            r = 1.0 + vol * (0.5 + 0.1 * i)
            xs, ys = r * np.cos(ang) * 0.85, (b + vol) * np.sin(ang) * (0.95 - 0.05 * i)
            line(self.img, pose.flat(xs, ys), dark if i % 2 else light, self.lw * 0.5)

    def _curls(self, poly: np.ndarray) -> None:
        rad = max(1.5, self.pose.s * 0.09)
        cols = (_col(self.hair, 0.7), _col(self.hair, 1.2, 12))
        step = max(1, len(poly) // 18)
        for i, (px, py) in enumerate(poly[::step]):
            cv2.circle(self.img, (int(px * ONE), int(py * ONE)), int(rad * ONE),
                       _col(self.hair), -1, AA, SHIFT)
            cv2.circle(self.img, (int(px * ONE), int(py * ONE)), int(rad * 0.6 * ONE),
                       cols[i % 2], max(1, int(self.lw * 0.4)), AA, SHIFT)

    def _back_hair(self, style: str) -> None:
        pose, lay = self.pose, self.lay
        b = lay.head_b
        vol = self.face.identity.hair_volume
        if style == "ponytail":
            side = 1.0 if self.face.identity.hair_part >= 0 else -1.0
            tx = side * np.array([0.6, 1.15, 1.5, 1.45, 1.15])
            ty = np.array([-b * 0.75, -b * 0.85, -b * 0.2, b * 0.5, b * 0.1])
            fill(self.img, pose.flat(tx, ty), _col(self.hair, 0.9))
            return
        if style == "curly":
            ang = np.linspace(0.35, -np.pi - 0.35, 30)
            r = 1.0 + vol * 3.2
            xs, ys = r * np.cos(ang), (b + vol * 3.2) * np.sin(ang) + 0.1
            fill(self.img, pose.flat(xs, ys), _col(self.hair, 0.85))
            return
        drop = b + 0.9
        ang = np.linspace(0.0, -np.pi, 24)
        xs = np.concatenate([[1.35, 1.25], (1.0 + vol + 0.08) * np.cos(ang), [-1.25, -1.35]])
        ys = np.concatenate([[drop, lay.eye_y + 0.4], (b + vol) * np.sin(ang),
                             [lay.eye_y + 0.4, drop]])
        fill(self.img, pose.flat(xs, ys), _col(self.hair, 0.88))

    # ---------------------------------------------------------------- accessories
    def _mask(self) -> None:
        """A face mask lit like the face, draped over the nose with folds at the sides."""
        pose, lay, img = self.pose, self.lay, self.img
        xs, ys = outline(lay)
        top_y = lay.eye_y + MASK_TOP  # on the nose bridge, wherever the tip is
        keep = ys >= top_y
        edge = pose.project(xs[keep] * 0.82, np.minimum(ys[keep] + 0.02, lay.head_b + 0.04), 0.06)
        tx = _lin(0.78, -0.78, 11)
        ty = top_y - 0.07 * (1 - tx * tx) ** 2
        top = pose.project(tx, ty, 0.1 + 0.12 * (1 - tx * tx) ** 4)
        poly = np.vstack([edge, top])
        if self._shade is None:
            fill(img, poly, _col(self.face.mask_rgb))
        else:
            grid, shade = self._shade
            # shadows either side of the nose ridge and under the chin
            ao = np.zeros(shade.shape, np.float32)
            side = self.shadow_side or (1.0 if pose.sy < 0 else -1.0)
            for sgn in (-1.0, 1.0):
                fx = sgn * np.array([0.04, 0.3, 0.45, 0.12])
                # drape of an average nose and mouth: the mask hides the person's own
                fy = top_y + np.array([0.14, 0.19, 0.64, 0.44])
                fill(ao, grid.low(pose.project(fx, fy, 0.15)), 0.35 if sgn == side else 0.2)
            cx, cy = ellipse(0.0, lay.head_b - 0.02, lay.chin * 1.6, 0.12, 12)
            fill(ao, grid.low(pose.project(cx, cy)), 0.3)
            ao = cv2.GaussianBlur(ao, (0, 0), max(0.5, pose.s * 0.06 / grid.f))
            lit = (shade * (1 - ao))[..., None] * np.asarray(self.face.mask_rgb, np.float32)
            color = grid.full(lit)
            alpha = np.zeros((grid.rh, grid.rw), np.uint8)
            fill(alpha, poly - (grid.x0, grid.y0), 255)
            _composite(img, grid.x0, grid.y0, color, alpha)
        shade_c = _col(self.face.mask_rgb, 0.6)
        for k in (0.35, 0.6):
            py = top_y + k * (lay.head_b - top_y)
            line(img, pose.project(_lin(-0.7, 0.7, 7), np.full(7, py), 0.1), shade_c,
                 self.lw * 0.5)
        line(img, poly, shade_c, self.lw * 0.6, closed=True)
        for side in (-1, 1):
            lx = side * np.array([0.8, 1.0])
            ly = np.array([top_y + 0.02, lay.eye_y + 0.15])
            line(img, pose.project(lx, ly, 0.02), shade_c, self.lw * 0.5)

    def _eyewear(self, kind: str) -> None:
        pose, lay, img = self.pose, self.lay, self.img
        frame = self.face.frame_rgb if kind == "glasses" else (18, 18, 20)
        light_frame = sum(frame) / 3 > 100  # thin metal: a bright thick frame would dominate
        # frames thick enough to survive a detector's downscaling (160 px training input)
        fw = self.lw * ((0.9 if light_frame else 1.2) if kind == "glasses" else 1.3)
        if kind == "glasses":
            rx, ry = lay.eye_w * 1.45, lay.eye_h * 2.3
        else:  # wayfarer-like: wide and low, so the brows stay visible
            rx, ry = lay.eye_w * 1.5, lay.eye_h * 1.9
        rounded = self.face.identity.glasses_round
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

    def _hat(self) -> None:
        pose, lay = self.pose, self.lay
        b = lay.head_b
        color = _col(self.face.hat_rgb)
        dark = _col(self.face.hat_rgb, 0.7)
        base_y = lay.hairline - 0.02
        a_end = np.arcsin(np.clip(base_y / (b + 0.14), -1, 1))
        ang = np.linspace(a_end, -np.pi - a_end, 26)
        dome_x = 1.08 * np.cos(ang)
        dome_y = (b + 0.16) * np.sin(ang)
        style = self.face.hat_style
        if style == 1:  # beanie: a taller dome with a folded band
            dome_y = dome_y * 1.12 - 0.05
        dome = pose.flat(dome_x, dome_y)
        fill(self.img, dome, color)
        if style == 0:  # cap: a brim toward the camera
            bx, by = ellipse(0.0, base_y + 0.02, 1.0, 0.14, 20, 0.0, np.pi)
            fill(self.img, pose.project(bx, by, 0.35, surface=False), dark)
        elif style == 1:
            band_x = np.array([-1.08, 1.08, 1.08, -1.08])
            band_y = np.array([base_y - 0.2, base_y - 0.2, base_y + 0.02, base_y + 0.02])
            fill(self.img, pose.flat(band_x, band_y), dark)
        else:  # brimmed hat
            bx, by = ellipse(0.0, base_y - 0.02, 1.55, 0.16, 24)
            fill(self.img, pose.flat(bx, by), dark)
            fill(self.img, pose.flat(dome_x * 0.9, dome_y * 0.95 - 0.06), color)
            band_x = np.array([-0.98, 0.98, 0.98, -0.98])
            band_y = np.array([base_y - 0.16, base_y - 0.16, base_y - 0.05, base_y - 0.05])
            fill(self.img, pose.flat(band_x, band_y), (30, 24, 20))
