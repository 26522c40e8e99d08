"""Image quality measurements: sharpness, exposure, contrast and noise.

Each measurement is a plain float so the benches can look at distributions; `assess` turns
them into `CheckResult`s with one rule for every check: score 0.5 sits on the threshold,
1.0 is comfortably good, and a check passes when its score is at least 0.5.
Measured on the face when there is one, because a plain studio background is neither
sharp nor textured and must not count against the picture.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from pydantic import BaseModel, Field

from tools.contracts import Box, CheckResult

#: Side of the square the face (or image) is resampled to before measuring sharpness, so
#: the figure does not depend on the face's size in pixels.
SHARPNESS_SIDE = 128
#: Faces with fewer pixels on a side (geometric mean) are judged by `fine_sharpness`:
#: enlarged to `SHARPNESS_SIDE` their pixel blocks read as detail, and a blurred 30 px face
#: measures sharper than a clean one.
FINE_FACE_SIDE = 64


class QualityThresholds(BaseModel):
    """Limits of acceptable quality; defaults set on procedural faces and photos."""

    min_sharpness: float = Field(default=0.3, ge=0)
    """Normalised Laplacian energy of the face, see `sharpness`: sharp procedural faces
    measure 0.5-2.5 and photos 1-5; a Gaussian blur of 2.4 px at 256 px brings them under 0.25."""
    min_fine_sharpness: float = Field(default=4.1, ge=0)
    """The same for faces under `FINE_FACE_SIDE` px, on `fine_sharpness`'s scale: sharp
    procedural faces of 20-64 px measure 4.2-6 and the renderer's blur brings most under 4
    (clean renders at 48-128 px rejected 0-3%, see bench/RESULTS.md 'Small images')."""
    max_clipped: float = Field(default=0.25, ge=0, le=1)
    """Largest fraction of face pixels allowed at black or white."""
    min_brightness: float = Field(default=25.0, ge=0, le=255)
    """Mean grey level of the face; low enough that the darkest skin is not 'underexposed'."""
    max_brightness: float = Field(default=235.0, ge=0, le=255)
    min_contrast: float = Field(default=0.04, ge=0)
    """RMS contrast (grey std / 255) of the face region."""
    max_noise: float = Field(default=9.0, ge=0)
    """Noise sigma in grey levels (Immerkaer), over flat parts of the whole image."""


def to_gray(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if rgb.ndim == 3 else rgb


def crop(image: np.ndarray, box: Box | None, pad: float = 0.0) -> np.ndarray:
    """The part of `image` inside `box` (padded by a fraction of its size), clipped to it."""
    if box is None:
        return image
    h, w = image.shape[:2]
    x0, y0, x1, y1 = box
    px, py = (x1 - x0) * pad, (y1 - y0) * pad
    xa, ya = max(int(x0 - px), 0), max(int(y0 - py), 0)
    xb, yb = min(int(math.ceil(x1 + px)), w), min(int(math.ceil(y1 + py)), h)
    if xb - xa < 4 or yb - ya < 4:
        return image
    return image[ya:yb, xa:xb]


def sharpness(gray: np.ndarray, box: Box | None = None) -> float:
    """Variance of the Laplacian over the grey variance, on a fixed-size crop.

    Plain variance of the Laplacian grows with contrast and with the face's size in pixels;
    dividing by the grey variance and resampling to a fixed side keeps one threshold valid
    for dark and light skin, small and large faces.
    """
    region = crop(gray, box).astype(np.float32)
    region = cv2.resize(region, (SHARPNESS_SIDE, SHARPNESS_SIDE), interpolation=cv2.INTER_AREA)
    variance = float(region.var())
    if variance < 1e-6:
        return 0.0
    return float(cv2.Laplacian(region, cv2.CV_32F, ksize=3).var()) / variance


def fine_sharpness(gray: np.ndarray, box: Box | None = None) -> float:
    """How much detail one more pixel of blur takes away from a small face, in its own pixels:
    its Laplacian variance over that after a Gaussian blur of 1 px.

    A sharp face has detail down to the pixel, which the blur removes; an already blurred one
    has little left to lose. A ratio, so contrast cancels; measured at the face's own size
    (nothing resampled), so a small face is not judged by an enlargement's softness.
    """
    region = crop(gray, box).astype(np.float32)
    softer = cv2.GaussianBlur(region, (0, 0), 1.0)
    after = float(cv2.Laplacian(softer, cv2.CV_32F, ksize=3).var())
    if after < 1e-9:
        return 0.0
    return float(cv2.Laplacian(region, cv2.CV_32F, ksize=3).var()) / after


def face_side(box: Box | None) -> float:
    """Geometric mean of a box's sides in pixels (0 without a box)."""
    if box is None:
        return 0.0
    return math.sqrt(max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0))


def exposure(gray: np.ndarray, box: Box | None = None) -> tuple[float, float]:
    """(mean grey level, fraction of pixels clipped to black or white) of the region."""
    region = crop(gray, box)
    clipped = float(np.count_nonzero((region <= 3) | (region >= 252))) / max(region.size, 1)
    return float(region.mean()), clipped


def contrast(gray: np.ndarray, box: Box | None = None) -> float:
    """RMS contrast: standard deviation of the grey levels over 255."""
    return float(crop(gray, box).std()) / 255.0


def noise_sigma(gray: np.ndarray) -> float:
    """Immerkaer's fast noise estimate, restricted to the flatter half of the image.

    The 3x3 mask cancels smooth image structure; edges still leak in, so pixels with the
    strongest gradients are left out (the median gradient is the cut). The gradient is taken
    after a blur, so that the noise itself does not decide which pixels count as flat.
    """
    g = gray.astype(np.float32)
    if min(g.shape) < 8:
        return 0.0
    mask = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
    response = np.abs(cv2.filter2D(g, -1, mask, borderType=cv2.BORDER_REFLECT))[1:-1, 1:-1]
    smooth = cv2.GaussianBlur(g, (0, 0), 2.0)
    grad = cv2.magnitude(cv2.Sobel(smooth, cv2.CV_32F, 1, 0), cv2.Sobel(smooth, cv2.CV_32F, 0, 1))
    grad = grad[1:-1, 1:-1]
    flat = grad <= np.median(grad)
    if np.count_nonzero(flat) < 16:
        return 0.0
    return float(math.sqrt(math.pi / 2.0) * response[flat].mean() / 6.0)


def _score(value: float, threshold: float, *, higher_is_better: bool) -> float:
    """0.5 exactly at the threshold, 1.0 at twice (or half) of it, 0 at the far end."""
    if threshold <= 0:
        return 1.0
    ratio = value / threshold if higher_is_better else (threshold / value if value > 0 else 2.0)
    return float(min(max(ratio / 2.0, 0.0), 1.0))


def assess(
    rgb: np.ndarray, face: Box | None, limits: QualityThresholds | None = None
) -> tuple[list[CheckResult], dict[str, float]]:
    """Quality checks of one image; the face box (if any) is where they look.

    Without a face, sharpness is not judged: a plain backdrop has no detail to be sharp
    with, and the image is rejected for its missing face anyway.
    """
    limits = limits or QualityThresholds()
    gray = to_gray(rgb)
    sharp = sharpness(gray, face)
    mean, clipped = exposure(gray, face)
    rms = contrast(gray, face)
    sigma = noise_sigma(gray)
    figures = {
        "sharpness": sharp,
        "brightness": mean,
        "clipped": clipped,
        "contrast": rms,
        "noise": sigma,
    }
    if face is not None and face_side(face) < FINE_FACE_SIDE:
        figures["fine_sharpness"] = fine_sharpness(gray, face)
    checks = [
        _sharpness_check(figures, face, limits),
        _exposure_check(mean, clipped, limits),
        _check("contrast", _score(rms, limits.min_contrast, higher_is_better=True),
               "low_contrast", f"rms {rms:.3f} (min {limits.min_contrast})"),
        _check("noise", _score(sigma, limits.max_noise, higher_is_better=False),
               "noisy", f"sigma {sigma:.1f} (max {limits.max_noise})"),
    ]
    return checks, figures


def _sharpness_check(
    figures: dict[str, float], face: Box | None, limits: QualityThresholds
) -> CheckResult:
    """Sharpness judged on the measure that suits the face's size."""
    sharp = figures["sharpness"]
    if face is None:
        return CheckResult(name="sharpness", score=1.0, passed=True,
                           detail=f"laplacian/variance {sharp:.4f}; no face, not judged")
    if "fine_sharpness" in figures:
        fine = figures["fine_sharpness"]
        return _check(
            # the ratio is 1 when a blur takes nothing away: scored above that floor
            "sharpness", _score(fine - 1.0, limits.min_fine_sharpness - 1.0,
                                higher_is_better=True),
            "blurry", f"{face_side(face):.0f} px face: laplacian lost to a 1 px blur "
            f"{fine:.2f} (min {limits.min_fine_sharpness})",
        )
    return _check(
        "sharpness", _score(sharp, limits.min_sharpness, higher_is_better=True), "blurry",
        f"laplacian/variance {sharp:.4f} (min {limits.min_sharpness})",
    )


def _check(name: str, score: float, reason: str, detail: str) -> CheckResult:
    passed = score >= 0.5
    return CheckResult(
        name=name, score=score, passed=passed, reason=None if passed else reason, detail=detail
    )


def _exposure_check(mean: float, clipped: float, limits: QualityThresholds) -> CheckResult:
    dark = _score(mean, limits.min_brightness, higher_is_better=True)
    bright = _score(255.0 - mean, 255.0 - limits.max_brightness, higher_is_better=True)
    clip = _score(clipped, limits.max_clipped, higher_is_better=False)
    return _check(
        "exposure",
        min(dark, bright, clip),
        "exposure",
        f"mean {mean:.0f} (range {limits.min_brightness:.0f}-{limits.max_brightness:.0f}), "
        f"clipped {clipped:.1%} (max {limits.max_clipped:.0%})",
    )
