"""Augmentations: text-guided variants (ChildDiffusion-style) and label-preserving classics.

Two kinds, for two needs:

- Text-guided transformations turn an accepted image into labelled variants with new
  attributes: expression, head pose, blink, accessories, hair colour, aging. With a diffusers
  model this is image-to-image with a strength (how far from the source the variant may go);
  with the procedural backend the same plan items are simply re-rendered, keeping the person
  and the scene and changing only what was asked (exact labels, no model needed).
- Classical augmentations (flip, colour jitter, blur, JPEG, crop, small rotation) through
  albumentations, which moves face boxes and the five landmarks with the pixels.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from tools.config import DiffusersConfig
from tools.contracts import FaceTruth, GeneratedImage, GroundTruth, PlanItem
from tools.errors import FacetoryError
from tools.generate.base import image_filename
from tools.generate.provenance import provenance, write_png
from tools.safety import check_items
from tools.vocabulary import FACTORS, MIRRORED, VOCABULARY

#: Classical operations, in the order they are applied.
CLASSICAL_OPS = ("flip", "color", "blur", "jpeg", "crop", "rotate")


def transformation_prompt(prompt: str, changes: Mapping[str, str]) -> str:
    """The source prompt extended with each change's `transform` phrase (factors.yaml; others
    as 'factor: level')."""
    phrases = []
    for factor, level in changes.items():
        words = VOCABULARY.get(factor)
        entry = words.levels.get(level) if words is not None else None
        phrase = entry.transform if entry is not None else None
        phrases.append(phrase or f"{factor.replace('_', ' ')}: {level.replace('_', ' ')}")
    base = prompt.strip().rstrip(",")
    return ", ".join([p for p in [base, *phrases] if p])


def _derived_seed(seed: int, name: str, k: int) -> int:
    digest = hashlib.sha256(f"{seed}:{name}:{k}".encode()).digest()
    return int.from_bytes(digest[:6], "little")


def variant_items(
    item: PlanItem,
    changes: Mapping[str, str],
    variants: int = 1,
    *,
    name: str = "aug",
    prompt: str = "",
) -> list[PlanItem]:
    """Plan items for `variants` transformed copies of `item`, labelled with the changes.

    Variant 0 keeps the item's seed, so a procedural re-render differs only in the changed
    attributes; later variants get derived seeds. The person is kept: an item without an
    identity is pinned to the identity the procedural renderer gave its first face.
    """
    if variants < 1:
        raise FacetoryError(f"variants must be at least 1, got {variants}")
    for factor, level in changes.items():
        if factor in FACTORS and level not in FACTORS[factor]:
            raise FacetoryError(
                f"augmentation {name!r}: {factor} has no level {level!r} "
                f"(levels: {', '.join(FACTORS[factor])})"
            )
    attributes = {**item.attributes, **changes}
    identity = item.identity or f"anon:{item.seed}:0"
    text = transformation_prompt(prompt or item.prompt, changes)
    out = []
    for k in range(variants):
        seed = item.seed if k == 0 else _derived_seed(item.seed, name, k)
        out.append(
            item.model_copy(
                update={
                    "id": f"{item.id}-{name}{k}",
                    "attributes": attributes,
                    "identity": identity,
                    "seed": seed,
                    "prompt": text,
                }
            )
        )
    return out


def _load_rgb(source: str | Path | np.ndarray | Image.Image) -> Image.Image:
    if isinstance(source, Image.Image):
        return source.convert("RGB")
    if isinstance(source, np.ndarray):
        return Image.fromarray(source).convert("RGB")
    try:
        with Image.open(source) as img:
            return img.convert("RGB")
    except (OSError, ValueError) as exc:
        raise FacetoryError(f"cannot read source image {source}: {exc}") from exc


class Img2ImgAugmenter:
    """Text-guided image-to-image variants with a diffusers model (loaded once per process)."""

    name = "diffusers-img2img"

    def __init__(self, config: DiffusersConfig) -> None:
        from tools.generate.diffusers_backend import resolve_model

        self.config = config
        self.model = resolve_model(config.model)
        self.steps = config.steps
        self.guidance_scale = config.guidance_scale
        self.device = config.device
        self.scheduler = config.scheduler
        self.dtype = config.dtype

    @property
    def pipeline(self):
        from tools.generate.diffusers_backend import load_pipeline

        return load_pipeline(self.model, kind="image2image", device=self.device, dtype=self.dtype)

    def augment(
        self,
        source: str | Path | np.ndarray | Image.Image,
        items: Sequence[PlanItem],
        out_dir: Path,
        *,
        strength: float = 0.5,
        attempt: int = 0,
    ) -> list[GeneratedImage]:
        """One image per item from `source`, guided by the item's prompt and seeded by it.

        `strength` in (0, 1]: 0.3 keeps the face and layout, 0.8 allows large changes.
        """
        from tools.generate.diffusers_backend import set_scheduler, torch_generator

        if not 0.0 < strength <= 1.0:
            raise FacetoryError(f"strength must be in (0, 1], got {strength}")
        if int(self.steps * strength) < 1:  # diffusers would run no step and fail obscurely
            raise FacetoryError(
                f"img2img with {self.steps} steps at strength {strength} runs no denoising "
                "step: raise generation.img2img.steps or the augmentation's strength"
            )
        check_items(items, after="nothing was generated")  # the generator's door
        image = _load_rgb(source)
        w, h = (max(64, v - v % 8) for v in image.size)
        if (w, h) != image.size:
            image = image.resize((w, h), Image.Resampling.LANCZOS)
        pipe = self.pipeline
        set_scheduler(pipe, self.scheduler)
        out_dir = Path(out_dir)
        results = []
        for item in items:
            guidance = self.guidance_scale if item.guidance_scale is None else item.guidance_scale
            t0 = time.perf_counter()
            try:
                out = pipe(
                    prompt=item.prompt,
                    negative_prompt=item.negative_prompt or None,
                    image=image,
                    strength=strength,
                    num_inference_steps=self.steps,
                    guidance_scale=guidance,
                    generator=torch_generator(item.seed),
                )
            except (RuntimeError, ValueError, TypeError) as exc:
                raise FacetoryError(f"img2img failed for {item.id}: {exc}") from exc
            t1 = time.perf_counter()
            result = out.images[0].convert("RGB")
            path = out_dir / image_filename(item, attempt)
            fields = provenance(
                generator=self.name, model=self.model, seed=item.seed, prompt=item.prompt,
                item_id=item.id, strength=strength, steps=self.steps,
                augmentation="img2img",
            )
            write_png(path, result, fields)
            results.append(
                GeneratedImage(
                    item_id=item.id,
                    path=str(path),
                    width=result.width,
                    height=result.height,
                    backend=self.name,
                    model=self.model,
                    seed=item.seed,
                    prompt=item.prompt,
                    timings_ms={"generate": (t1 - t0) * 1e3,
                                "write": (time.perf_counter() - t1) * 1e3},
                    truth=None,
                )
            )
        return results


def _square_crop(
    size: tuple[int, int], boxes: Sequence[Sequence[float]], rng: np.random.Generator,
    strength: float,
) -> tuple[int, int, int, int] | None:
    """A random square window (keeping the aspect ratio) that contains every face box."""
    h, w = size
    side_max = min(h, w)
    if boxes:
        arr = np.asarray(boxes, dtype=np.float64)[:, :4]
        ux0, uy0 = arr[:, 0].min(), arr[:, 1].min()
        ux1, uy1 = arr[:, 2].max(), arr[:, 3].max()
    else:
        ux0 = uy0 = ux1 = uy1 = side_max / 2
    need = int(np.ceil(max(ux1 - ux0, uy1 - uy0))) + 2
    low = max(need, int(side_max * (1 - 0.3 * strength)))
    if low >= side_max:
        return None
    side = int(rng.integers(low, side_max + 1))
    x_lo, x_hi = max(0, int(np.ceil(ux1)) - side), min(int(ux0), w - side)
    y_lo, y_hi = max(0, int(np.ceil(uy1)) - side), min(int(uy0), h - side)
    if x_hi < x_lo or y_hi < y_lo:
        return None
    x0 = int(rng.integers(x_lo, x_hi + 1))
    y0 = int(rng.integers(y_lo, y_hi + 1))
    return x0, y0, x0 + side, y0 + side


def _pipeline(
    ops: Sequence[str], size: tuple[int, int], seed: int, strength: float,
    boxes: Sequence[Sequence[float]],
):
    import albumentations as A
    import cv2

    unknown = [op for op in ops if op not in CLASSICAL_OPS]
    if unknown:
        raise FacetoryError(
            f"unknown augmentation {', '.join(unknown)}: choose from {', '.join(CLASSICAL_OPS)}"
        )
    h, w = size
    s = float(np.clip(strength, 0.0, 1.0))
    table = {
        "flip": A.HorizontalFlip(p=0.5),
        # mild: a strong hue or brightness shift would move the skin tone the labels name
        "color": A.ColorJitter(brightness=0.15 * s, contrast=0.15 * s, saturation=0.15 * s,
                               hue=0.01 * s, p=0.9),
        "blur": A.GaussianBlur(blur_limit=(3, 5), sigma_limit=(0.3, 0.3 + 1.2 * s), p=0.4),
        "jpeg": A.ImageCompression(quality_range=(int(90 - 50 * s), 95), p=0.5),
        "rotate": A.Affine(rotate=(-10 * s, 10 * s), scale=(1 - 0.1 * s, 1 + 0.05 * s),
                           rotate_method="ellipse", border_mode=cv2.BORDER_REPLICATE, p=0.6),
    }
    rng = np.random.default_rng(_derived_seed(seed, "crop", 0))
    window = _square_crop(size, boxes, rng, s) if "crop" in ops and rng.random() < 0.5 else None
    if window is not None:
        table["crop"] = A.Sequential(
            [A.Crop(*window, p=1.0), A.Resize(height=h, width=w, p=1.0)], p=1.0
        )
    compose = A.Compose(
        [table[op] for op in CLASSICAL_OPS if op in table],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["face_ids"], clip=True),
        keypoint_params=A.KeypointParams(format="xy", label_fields=["point_ids"],
                                         remove_invisible=False),
        seed=int(seed) % (2**32),
        save_applied_params=True,
    )
    # Compose hands every transform the same seed, which makes their coin flips identical
    # (all or nothing); give each its own stream.
    for i, transform in enumerate(compose.transforms):
        transform.set_random_seed(_derived_seed(seed, "albumentations", i) % (2**32))
    return compose


def classical_augment(
    image: np.ndarray,
    truth: GroundTruth | None = None,
    *,
    seed: int,
    ops: Sequence[str] = CLASSICAL_OPS,
    strength: float = 1.0,
) -> tuple[np.ndarray, GroundTruth | None, list[str]]:
    """Augment an RGB image and move its face boxes and landmarks with it.

    Returns the new pixels, the updated ground truth (None in, None out) and the names of
    the operations actually applied. A flip swaps the left/right landmark order and the
    left/right levels of head pose and lighting, so labels keep meaning what they say.
    """
    if image.ndim != 3 or image.shape[2] != 3:
        raise FacetoryError(f"expected an RGB image, got shape {image.shape}")
    faces = truth.faces if truth else []
    boxes, face_ids, points, point_ids = [], [], [], []
    for i, face in enumerate(faces):
        boxes.append(face.box)
        face_ids.append(i)
        for j, point in enumerate(face.landmarks):
            points.append(point)
            point_ids.append(i * 5 + j)
    pipe = _pipeline(ops, image.shape[:2], seed, strength, boxes)
    out = pipe(image=image, bboxes=boxes, face_ids=face_ids, keypoints=points,
               point_ids=point_ids)
    applied = [name for name, _ in out["applied_transforms"]]
    names = [n for n in (_OP_NAMES.get(name, name) for name in applied) if n]
    if truth is None:
        return out["image"], None, names
    flipped = "HorizontalFlip" in applied
    new_points: dict[int, list[tuple[float, float]]] = {}
    for pid, (x, y) in zip(out["point_ids"], out["keypoints"], strict=True):
        new_points.setdefault(int(pid) // 5, []).append((float(x), float(y)))
    new_faces: list[FaceTruth] = []
    for fid, box in zip(out["face_ids"], out["bboxes"], strict=True):
        face = faces[int(fid)]
        lms = new_points.get(int(fid), [])
        attrs = dict(face.attributes)
        if flipped:
            lms, attrs = _mirrored(lms, attrs)
        new_faces.append(face.model_copy(update={
            "box": tuple(float(v) for v in box[:4]), "landmarks": lms, "attributes": attrs}))
    return out["image"], GroundTruth(faces=new_faces, faults=list(truth.faults)), names


def _mirrored(landmarks: list[tuple[float, float]], attrs: dict[str, str]
              ) -> tuple[list[tuple[float, float]], dict[str, str]]:
    """A flipped face's landmarks in left/right order again, and its left/right levels
    swapped (the levels' `mirror` in factors.yaml: head pose, lighting)."""
    if len(landmarks) == 5:
        landmarks = [landmarks[1], landmarks[0], landmarks[2], landmarks[4], landmarks[3]]
    for factor, mirror in MIRRORED.items():
        if factor in attrs:
            attrs[factor] = mirror.get(attrs[factor], attrs[factor])
    return landmarks, attrs


_OP_NAMES = {
    "HorizontalFlip": "flip",
    "ColorJitter": "color",
    "GaussianBlur": "blur",
    "ImageCompression": "jpeg",
    "Crop": "crop",
    "Resize": "",
    "Sequential": "",
    "Affine": "rotate",
}


def augment_file(
    source: GeneratedImage,
    out_dir: Path,
    *,
    variant: int = 0,
    ops: Sequence[str] = CLASSICAL_OPS,
    strength: float = 1.0,
) -> GeneratedImage:
    """A classical variant of a generated image, written beside it with provenance.

    The variant's seed derives from the source seed and `variant`, so the same call gives
    the same file. Its id is `<item_id>-c<variant>`.
    """
    pixels = np.asarray(_load_rgb(source.path))
    seed = _derived_seed(source.seed, "classical", variant)
    t0 = time.perf_counter()
    out, truth, names = classical_augment(pixels, source.truth, seed=seed, ops=ops,
                                          strength=strength)
    t1 = time.perf_counter()
    item_id = f"{source.item_id}-c{variant}"
    path = Path(out_dir) / f"{item_id}.png"
    fields = provenance(generator=source.backend, model=source.model, seed=source.seed,
                        prompt=source.prompt, item_id=item_id,
                        augmentation="classical:" + ("+".join(names) or "none"),
                        augmentation_seed=seed)
    write_png(path, out, fields)
    return source.model_copy(update={
        "item_id": item_id,
        "path": str(path),
        "width": int(out.shape[1]),
        "height": int(out.shape[0]),
        "timings_ms": {"augment": (t1 - t0) * 1e3, "write": (time.perf_counter() - t1) * 1e3},
        "truth": truth,
    })
