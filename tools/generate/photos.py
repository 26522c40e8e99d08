"""Real photographs behind procedural faces, so a detector trained on them meets real texture.

A detector trained on flat fills learns that a face is whatever is not flat, and finds almost
no face in a real photograph. These photographs ship inside scikit-image's wheel (nothing is
downloaded) and show no person: `astronaut` and `camera` (people) and `lfw_subset` (faces)
are never used, nor `brick`, `grass` and `gravel`, kept for the real-face evaluation's
backgrounds so that it measures faces found, not backgrounds seen in training. Licences, as
scikit-image states them: chelsea, coffee, horse (CC0), text, clock, hubble_deep_field and
rocket (public domain), coins and immunohistochemistry (no known copyright restrictions).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import cv2
import numpy as np

#: scikit-image's `skimage.data` loaders used as texture, in a fixed order (seeds pick by index).
PHOTOS: tuple[str, ...] = (
    "chelsea", "coffee", "rocket", "horse", "text", "clock", "hubble_deep_field", "coins",
    "immunohistochemistry",
)


@lru_cache(maxsize=1)
def library() -> tuple[np.ndarray, ...]:
    """The photographs as RGB uint8 arrays (loaded once per process)."""
    import skimage.data as data

    out = []
    for name in PHOTOS:
        img = np.asarray(getattr(data, name)())
        if img.dtype != np.uint8:
            img = (255 * (img > 0) if img.dtype == bool else np.clip(img, 0, 255)).astype(np.uint8)
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        out.append(np.ascontiguousarray(img[..., :3]))
    return tuple(out)


def crop(u: Sequence[float], width: int, height: int) -> np.ndarray:
    """A piece of one photograph resized to `width` x `height` (RGB uint8).

    `u` (five numbers in [0, 1)) picks the photograph, how much of it is seen, where, and
    whether it is mirrored: the same `u` gives the same pixels.
    """
    photos = library()
    photo = photos[min(int(u[0] * len(photos)), len(photos) - 1)]
    h, w = photo.shape[:2]
    aspect = width / max(height, 1)
    side = (0.35 + 0.65 * u[1]) * min(h, w * 1.0 / aspect)
    ch, cw = max(8, int(side)), max(8, int(side * aspect))
    ch, cw = min(ch, h), min(cw, w)
    y0 = int(u[2] * (h - ch))
    x0 = int(u[3] * (w - cw))
    piece = photo[y0:y0 + ch, x0:x0 + cw]
    if u[4] < 0.5:
        piece = piece[:, ::-1]
    return cv2.resize(np.ascontiguousarray(piece), (width, height), interpolation=cv2.INTER_AREA)


def texture(img: np.ndarray, u: Sequence[float], strength: float) -> np.ndarray:
    """`img` with a photograph's texture laid over it, keeping `img`'s colours on average.

    The photograph is tinted to the picture's mean colour per channel, then blended with
    weight `strength` (0: unchanged, 1: the tinted photograph).
    """
    h, w = img.shape[:2]
    photo = crop(u, w, h).astype(np.float32)
    base = img.astype(np.float32)
    tint = base.reshape(-1, 3).mean(axis=0) / np.maximum(photo.reshape(-1, 3).mean(axis=0), 1.0)
    mixed = base * (1.0 - strength) + photo * tint * strength
    return np.clip(mixed, 0, 255).astype(np.uint8)
