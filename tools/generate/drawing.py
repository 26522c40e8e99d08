"""Anti-aliased, sub-pixel drawing helpers shared by the face, its hair and its accessories.

Shapes are polygons in pixels drawn by OpenCV with `SHIFT` fractional bits, so features a
few pixels wide still move smoothly with the pose; slowly varying quantities (light,
shadow) are computed on a `CoarseGrid` and resized.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

AA = cv2.LINE_AA
SHIFT = 4  # sub-pixel bits for cv2 drawing
ONE = 1 << SHIFT


class CoarseGrid:
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


def mottle(shape: tuple[int, int], seed: int, amount: float) -> np.ndarray:
    """A light factor around 1 (standard deviation `amount`) that varies over a few cells:
    uneven skin tone at the size a detector sees, the same for the same seed."""
    noise = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), 0.8)
    return 1.0 + amount * noise / max(float(noise.std()), 1e-6)


def composite(img: np.ndarray, x0: int, y0: int, color: np.ndarray, mask: np.ndarray) -> None:
    """Blend a float colour patch into `img` at (x0, y0) through an 8-bit coverage mask."""
    rh, rw = mask.shape
    roi = img[y0 : y0 + rh, x0 : x0 + rw]
    alpha = mask.astype(np.float32) * (1.0 / 255.0)
    out = cv2.blendLinear(color.astype(np.float32), roi.astype(np.float32), alpha, 1.0 - alpha)
    roi[:] = np.clip(out, 0, 255).astype(np.uint8)


def fixed_point(p: np.ndarray) -> np.ndarray:
    """Pixel points -> the int32 fixed-point polygon OpenCV draws with `SHIFT` bits."""
    return np.round(p * ONE).astype(np.int32).reshape(-1, 1, 2)


def fill(img: np.ndarray, p: np.ndarray, color) -> None:
    """Fill a pixel polygon, anti-aliased."""
    cv2.fillPoly(img, [fixed_point(p)], color, AA, SHIFT)


def line(img: np.ndarray, p: np.ndarray, color, thickness: float, closed: bool = False) -> None:
    """Draw a pixel polyline, anti-aliased, at least one pixel wide."""
    cv2.polylines(img, [fixed_point(p)], closed, color, max(1, int(round(thickness))), AA, SHIFT)


@lru_cache(maxsize=256)
def _arc(n: int, a0: float, a1: float) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(a0, a1, n, endpoint=a1 - a0 < 2 * np.pi - 1e-6)
    return np.cos(t), np.sin(t)


def ellipse(xc: float, yc: float, rx: float, ry: float, n: int = 20, a0=0.0, a1=2 * np.pi):
    """Points of an ellipse (or an arc from angle a0 to a1) in face units."""
    c, s = _arc(n, float(a0), float(a1))
    return xc + rx * c, yc + ry * s


@lru_cache(maxsize=64)
def frozen_linspace(a: float, b: float, n: int) -> np.ndarray:
    """`np.linspace`, cached and read-only: the same few parameter runs are used per face."""
    out = np.linspace(a, b, n)
    out.flags.writeable = False
    return out


T11 = frozen_linspace(-1, 1, 11)


def rgb_scaled(rgb, k: float = 1.0, add: float = 0.0) -> tuple[float, float, float]:
    """A colour scaled by `k`, lifted by `add`, kept within 0-255."""
    return tuple(min(255.0, max(0.0, float(c) * k + add)) for c in rgb)


def rgb_mix(a, b, t: float) -> tuple[float, float, float]:
    """The colour a fraction `t` of the way from `a` to `b`."""
    return tuple(float(x * (1 - t) + y * t) for x, y in zip(a, b, strict=True))
