"""Skin tone read from the pixels of a face: the Individual Typology Angle of the cheeks,
placed on the Monk Skin Tone scale.

The cheeks are also the reference the eye regions are read against (`cheek_skin`, used by
`eye_region`), so the mask that picks skin-coloured cheek pixels lives here with the colour.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from tools.critic.faces import FaceObservation

#: Monk Skin Tone scale reference colours (skintone.google), lightest first.
MONK_HEX: tuple[str, ...] = (
    "f6ede4", "f3e7db", "f7ead0", "eadaba", "d7bd96",
    "a07e56", "825c43", "604134", "3a312a", "292420",
)


def ita(lab: np.ndarray) -> float:
    """Individual Typology Angle in degrees from CIELAB L* and b* (higher: lighter skin)."""
    return math.degrees(math.atan2(float(lab[0]) - 50.0, float(lab[2])))


def _hex_lab(code: str) -> np.ndarray:
    rgb = np.array([[[int(code[i : i + 2], 16) for i in (0, 2, 4)]]], dtype=np.float32) / 255.0
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)[0, 0]


#: ITA of each Monk reference colour: 83 (monk_1) down to -84 (monk_10), strictly falling.
MONK_ITA: tuple[float, ...] = tuple(ita(_hex_lab(code)) for code in MONK_HEX)


def monk_level(angle: float) -> int:
    """The Monk level (1-10) whose reference ITA is nearest to `angle`."""
    return int(np.argmin([abs(angle - ref) for ref in MONK_ITA])) + 1


def skin_mask(shape: tuple[int, ...], face: FaceObservation) -> np.ndarray:
    """Cheek pixels below the eyes and beside the nose (68 points), or the mid-face box."""
    mask = np.zeros(shape[:2], dtype=np.uint8)
    m = face.landmarks
    if face.has_68:
        iod = face.geometry.get("iod", 0.0)
        for idx in ((1, 2, 3, 4, 48, 31, 39, 40, 41, 36), (15, 14, 13, 12, 54, 35, 42, 47, 46, 45)):
            cv2.fillPoly(mask, [np.round(m[list(idx)]).astype(np.int32)], 255)
        # leave out the lower rim of a lens and the shadow under the eyes
        top = int(max(m[36:48, 1].max() + 0.25 * iod, 0))
        mask[:top] = 0
    else:
        x0, y0, x1, y1 = face.box
        w, h = x1 - x0, y1 - y0
        cv2.rectangle(
            mask, (int(x0 + 0.2 * w), int(y0 + 0.45 * h)), (int(x1 - 0.2 * w), int(y0 + 0.7 * h)),
            255, -1,
        )
    return mask


def skin_coloured(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The masked pixels with a skin hue, as a mask; empty when under a third of them are.

    Skin hue: CIELAB hue angle 0-110 degrees with some chroma. A white, blue or black face
    mask, grey stubble or a lens rim over the cheek drops out.
    """
    picked = np.zeros(mask.shape, dtype=bool)
    where = mask > 0
    pixels = rgb[where]
    if len(pixels) < 20:
        return picked
    lab = cv2.cvtColor(pixels.reshape(-1, 1, 3).astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    lab = lab.reshape(-1, 3)
    hue = np.degrees(np.arctan2(lab[:, 2], lab[:, 1]))
    skin = (hue >= 0.0) & (hue <= 110.0) & (np.hypot(lab[:, 1], lab[:, 2]) >= 2.0)
    if skin.sum() < max(20, len(lab) // 3):
        return picked
    picked[where] = skin
    return picked


def cheek_skin(rgb: np.ndarray, face: FaceObservation) -> np.ndarray:
    """The skin-coloured cheek pixels (`skin_mask`, `skin_coloured`), the reference the eye
    regions are read against; empty when a face mask covers the cheeks."""
    return skin_coloured(rgb, skin_mask(rgb.shape, face))


def region_ita(rgb: np.ndarray, mask: np.ndarray, percentile: float = 75.0) -> float | None:
    """ITA of the skin-coloured masked pixels (`skin_coloured`), read near a lightness
    percentile; None when too few of them are skin."""
    return skin_pixels_ita(rgb, skin_coloured(rgb, mask), percentile)


def skin_pixels_ita(rgb: np.ndarray, picked: np.ndarray, percentile: float) -> float | None:
    """ITA of already-picked skin pixels (a boolean mask), None when there are none.

    Shading darkens part of every face; the lit side (75th percentile by default) is nearer
    the skin's own colour than the mean, and a narrow band around it avoids highlights.
    """
    if not picked.any():
        return None
    lab = cv2.cvtColor(rgb[picked].reshape(-1, 1, 3).astype(np.float32) / 255.0,
                       cv2.COLOR_RGB2Lab)
    skin = lab.reshape(-1, 3)
    lightness = skin[:, 0]
    target = np.percentile(lightness, percentile)
    band = skin[np.abs(lightness - target) <= 0.05 * np.ptp(lightness) + 1.0]
    return ita(np.median(band if len(band) >= 10 else skin, axis=0))


def skin_ita(rgb: np.ndarray, face: FaceObservation, percentile: float = 75.0) -> float | None:
    """ITA of the face's skin, read on the cheeks (see `region_ita`)."""
    return region_ita(rgb, skin_mask(rgb.shape, face), percentile)
