"""Embeddings for the duplicate check: a perceptual image embedding and the dlib face descriptor.

`image_embedding` is hand-built so it needs no weights. It must treat an image and its
edited copies (resized, JPEG down to quality 30, cropped up to 10%, brightness +-20%,
mirrored) as the same picture, and still tell apart distinct near neighbours (the same
synthetic person with another expression, eyewear or pose). How it gets there:

- mirroring: the picture is split into its mirror-symmetric part S = (I + flip I) / 2 and
  the magnitude of its antisymmetric part |A| = |I - flip I| / 2; both are unchanged by a
  horizontal flip, yet together they keep what is where, up to the mirror;
- brightness: each part is standardised (zero mean, unit norm), so a gain and an offset
  cancel; colour enters as chromaticity (r, g over r + g + b), which a gain leaves alone;
- resize and JPEG: everything is measured on an area-averaged thumbnail whose pixels are much
  larger than JPEG blocks;
- crops: the thumbnail is smoothed by a Gaussian whose width covers the shift a 10% crop can
  cause, and the border, which a crop removes, carries less weight than the centre;
- distinct pictures: most face images share one layout (a face in the middle of a plain
  backdrop), so raw thumbnails of different people are often alike. The 320 raw numbers are
  whitened (PCA, 48 components, regularised) with statistics of 1,000 distinct procedural
  faces, which spreads distinct images apart: at 1,500 images, the share of new images
  that look like a duplicate of an earlier distinct one falls from about 6-9% to under 1%
  (bench/bench_dedup.py). The statistics ship in `embed_whitening.json`; regenerate them
  with `python -m tools.stores.embed fit`.

Cosine similarity of two embeddings is the duplicate score (see `tools.stores.dedup`).
"""

from __future__ import annotations

import argparse
import json
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from tools.atomic import write_text
from tools.contracts import Box
from tools.errors import FacetoryError

#: Whitening statistics (mean and projection) of the raw features; see `fit_whitening`.
WHITENING_FILE = Path(__file__).with_name("embed_whitening.json")
#: Components kept, and the eigenvalue index whose value regularises the smaller ones.
COMPONENTS = 48
REGULARISER = 10

#: Side of the luminance thumbnail the structure is read from. 16, 20, 24 and 32 px score
#: the same F1 on bench/bench_dedup.py's planted set; 16 keeps the vector at 320 numbers.
SIDE = 16
#: Side of the chromaticity thumbnail.
COLOR_SIDE = 8
#: Gaussian blur (in thumbnail pixels) that absorbs the shift of a small crop.
BLUR = 0.8
#: Relative weights of the symmetric, antisymmetric and colour parts in the final vector.
WEIGHTS = (1.0, 0.5, 0.8)


def _as_rgb_float(image: np.ndarray) -> np.ndarray:
    array = np.asarray(image)
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4) or min(array.shape[:2]) < 2:
        raise FacetoryError(f"image_embedding needs an HxWx3 image, got shape {array.shape}")
    array = array[:, :, :3]
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    return np.clip(array.astype(np.float32), 0.0, 1.0)


def _centre_weights(side: int) -> np.ndarray:
    """1 in the middle, falling to about 0.5 at the border (crops remove the border)."""
    r = (np.arange(side, dtype=np.float32) + 0.5) / side * 2.0 - 1.0
    w = np.exp(-0.7 * r * r)
    return np.outer(w, w)


_WEIGHTS_GRID = _centre_weights(SIDE)
_HALF = SIDE // 2


def _standardise(v: np.ndarray) -> np.ndarray:
    v = v - v.mean()
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 1e-8 else np.zeros_like(v)


def image_embedding(image: np.ndarray) -> np.ndarray:
    """A unit-norm float32 vector (48 numbers) describing the picture; see the module doc.

    `image` is HxWx3 RGB (or HxW grey, or HxWx4 with alpha ignored), uint8 or float in [0, 1].
    Compare two with a dot product (cosine similarity).
    """
    mean, matrix = _whitening()
    vector = (perceptual_features(image) - mean) @ matrix
    norm = float(np.linalg.norm(vector))
    return (vector / norm if norm > 1e-8 else vector).astype(np.float32)


def perceptual_features(image: np.ndarray) -> np.ndarray:
    """The raw, unwhitened 320-number description (unit norm) behind `image_embedding`."""
    rgb = _as_rgb_float(image)
    thumb = cv2.resize(rgb, (SIDE, SIDE), interpolation=cv2.INTER_AREA)
    luma = thumb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    luma = cv2.GaussianBlur(luma, (0, 0), BLUR, borderType=cv2.BORDER_REFLECT)
    luma = luma - luma.mean()
    mirrored = luma[:, ::-1]
    sym = ((luma + mirrored) / 2.0 * _WEIGHTS_GRID)[:, :_HALF]
    asym = (np.abs(luma - mirrored) / 2.0 * _WEIGHTS_GRID)[:, :_HALF]
    small = cv2.resize(rgb, (COLOR_SIDE, COLOR_SIDE), interpolation=cv2.INTER_AREA)
    chroma = small[:, :, :2] / (small.sum(axis=2, keepdims=True) + 1e-3)
    chroma = (chroma + chroma[:, ::-1]) / 2.0
    chroma = chroma[:, : COLOR_SIDE // 2].ravel()
    parts = (
        WEIGHTS[0] * _standardise(sym.ravel()),
        WEIGHTS[1] * _standardise(asym.ravel()),
        WEIGHTS[2] * _standardise(chroma),
    )
    vector = np.concatenate(parts).astype(np.float32)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 1e-8 else vector


def face_descriptor(image: np.ndarray, box: Box) -> np.ndarray:
    """dlib's 128-D face descriptor of the face in `box` (x0, y0, x1, y1 pixels).

    `box` is a dlib detection box (`FaceObservation.hog_box`); a full-face box, such as
    generator ground truth, works too since the 5-point landmarks re-centre the face chip.
    Same person: Euclidean distance below about 0.6 (cosine above about 0.82).
    """
    from tools.critic.faces import descriptor

    array = np.asarray(image)
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] < 3:
        raise FacetoryError(f"face_descriptor needs an HxWx3 image, got shape {array.shape}")
    if array.dtype != np.uint8:
        array = (np.clip(array, 0.0, 1.0) * 255).astype(np.uint8)
    x0, y0, x1, y1 = box
    if not (x1 > x0 and y1 > y0):
        raise FacetoryError(f"face box must have x1 > x0 and y1 > y0, got {box}")
    return descriptor(np.ascontiguousarray(array[:, :, :3]), box)


def embed_file(path: Path) -> np.ndarray:
    """`image_embedding` of an image file (the duplicate check's key)."""
    from PIL import Image

    with Image.open(path) as image:
        return image_embedding(np.asarray(image.convert("RGB")))


def describe_file(path: Path, box: Box) -> np.ndarray:
    """`face_descriptor` of the face in `box` of an image file."""
    from PIL import Image

    with Image.open(path) as image:
        return face_descriptor(np.asarray(image.convert("RGB")), box)


def _settings() -> dict:
    return {"side": SIDE, "color_side": COLOR_SIDE, "blur": BLUR, "weights": list(WEIGHTS)}


@lru_cache(maxsize=1)
def _whitening() -> tuple[np.ndarray, np.ndarray]:
    try:
        data = json.loads(WHITENING_FILE.read_text())
    except (OSError, ValueError) as exc:
        raise FacetoryError(
            f"embedding statistics unreadable ({WHITENING_FILE}): {exc}; "
            "regenerate them with `python -m tools.stores.embed fit`"
        ) from exc
    if data.get("features") != _settings():
        raise FacetoryError(
            f"{WHITENING_FILE.name} was fitted for other feature settings; "
            "regenerate it with `python -m tools.stores.embed fit`"
        )
    return np.asarray(data["mean"], np.float32), np.asarray(data["matrix"], np.float32)


def fit_whitening(
    features: np.ndarray, components: int = COMPONENTS, regulariser: int = REGULARISER
) -> dict:
    """PCA whitening of raw feature rows: the mean and a (features x components) matrix.

    Each component is scaled by 1 / sqrt(its variance + the `regulariser`-th variance), so
    the strongest shared directions (the common layout of face pictures) are flattened
    while weak, noisy ones are not blown up.
    """
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or len(features) <= components:
        raise FacetoryError(f"need more than {components} feature rows to fit, got {len(features)}")
    mean = features.mean(axis=0)
    _, singular, vt = np.linalg.svd(features - mean, full_matrices=False)
    variance = singular**2 / len(features)
    matrix = vt[:components].T / np.sqrt(variance[:components] + variance[regulariser])
    return {
        "features": _settings(),
        "components": components,
        "regulariser": regulariser,
        "mean": [float(f"{v:.6g}") for v in mean],
        "matrix": [[float(f"{v:.6g}") for v in row] for row in matrix],
    }


def _fit_from_procedural(n: int, seed: int) -> dict:
    """Whitening statistics from `n` distinct procedural faces (all factors at random)."""
    from tools.contracts import PlanItem
    from tools.generate.procedural import ProceduralGenerator
    from tools.vocabulary import FACTORS

    rng = np.random.default_rng(seed)
    generator = ProceduralGenerator(image_size=256)
    rows = []
    for i in range(n):
        attributes = {factor: str(rng.choice(levels)) for factor, levels in FACTORS.items()
                      if factor != "ethnicity"}
        faces = 1 if rng.random() < 0.75 else int(rng.integers(2, 5))
        item = PlanItem(id=f"fit{i}", **{"class": "face"}, seed=int(rng.integers(2**40)),
                        attributes=attributes, faces=faces)
        rows.append(perceptual_features(generator.render_clean(item)[0]))
    return fit_whitening(np.stack(rows))


def main(argv: list[str] | None = None) -> None:
    """`python -m tools.stores.embed fit [--n 1000]`: refit and write `embed_whitening.json`."""
    parser = argparse.ArgumentParser(prog="python -m tools.stores.embed")
    parser.add_argument("command", choices=["fit"])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args(argv)
    data = _fit_from_procedural(args.n, args.seed)
    write_text(WHITENING_FILE, json.dumps(data, separators=(",", ":")) + "\n")
    _whitening.cache_clear()
    print(f"wrote {WHITENING_FILE} ({args.n} images, {data['components']} components)")


if __name__ == "__main__":
    main()
