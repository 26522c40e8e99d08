"""Small, real inputs for the export, train and report tests: images drawn with OpenCV.

Each class gets its own face colour and shape, so a detector or classifier can actually learn it
in one or two epochs; every record carries the attributes, statuses and reasons a real build
would, so the report has something to show.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from tools.contracts import ManifestRecord, Status

CLASSES = ["African", "Asian", "White"]
_COLOURS = {"African": (40, 60, 110), "Asian": (120, 170, 210), "White": (200, 215, 240)}
SKIN = ["monk_2", "monk_5", "monk_8"]
AGES = ["child", "young_adult", "old"]
GENDERS = ["female", "male"]
_REJECT_REASONS = ["blurry", "extra_face", "attribute_mismatch:skin_tone", "face_cut_off"]


def draw_image(path: Path, class_name: str, seed: int, size: int, faces: int = 1) -> list:
    """Draw `faces` filled ellipses (with eyes) on a noisy background; returns pixel boxes."""
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 60, (size, size, 3), dtype=np.uint8)
    image[:] = cv2.GaussianBlur(image, (0, 0), 3) + np.uint8(rng.integers(30, 90))
    boxes = []
    cell = size // faces
    for k in range(faces):
        rx = int(rng.integers(size // 7, size // 5))
        ry = int(rx * 1.25)
        cx = int(k * cell + cell / 2 + rng.integers(-cell // 8, cell // 8 + 1))
        cx = min(max(cx, rx + 1), size - rx - 2)
        cy = int(rng.integers(ry + 1, size - ry - 1))
        cv2.ellipse(image, (cx, cy), (rx, ry), 0, 0, 360, _COLOURS[class_name], -1)
        for dx in (-rx // 3, rx // 3):
            cv2.circle(image, (cx + dx, cy - ry // 4), max(1, rx // 6), (20, 20, 20), -1)
        cv2.ellipse(image, (cx, cy + ry // 3), (rx // 3, ry // 8), 0, 0, 180, (30, 30, 160), 2)
        boxes.append((float(cx - rx), float(cy - ry), float(cx + rx + 1), float(cy + ry + 1)))
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), image)
    return boxes


def make_records(
    root: Path,
    per_class: int = 10,
    size: int = 96,
    *,
    rejected_per_class: int = 3,
    duplicates_per_class: int = 1,
    multi_face_every: int = 0,
) -> list[ManifestRecord]:
    """Accepted, rejected and duplicate records with images under `root/images` (paths relative).

    Splits of the accepted images cycle train/train/.../val/test so every split is non-empty:
    per class, the last two accepted images go to val and test.
    """
    records: list[ManifestRecord] = []
    seed = 0
    for ci, cls in enumerate(CLASSES):
        accepted_ids = []
        for i in range(per_class + rejected_per_class + duplicates_per_class):
            seed += 1
            image_id = f"{cls.lower()}-{i:03d}-a0"
            rel = Path("images") / f"{image_id}.png"
            faces = 2 if multi_face_every and i % multi_face_every == multi_face_every - 1 else 1
            boxes = draw_image(root / rel, cls, seed, size, faces)
            attrs = {
                "skin_tone": SKIN[(i + ci) % 3],
                "age_group": AGES[i % 3],
                "gender": GENDERS[i % 2],
            }
            split = "val" if i == per_class - 2 else "test" if i == per_class - 1 else "train"
            record = ManifestRecord(
                image_id=image_id,
                item_id=f"{cls.lower()}-{i:03d}",
                class_name=cls,
                attributes=attrs,
                identity=f"person-{ci}-{i % 4}",
                split=split,
                seed=seed,
                prompt=f"a photo of a {cls} face",
                status=Status.accepted,
                score=0.7 + 0.02 * (i % 10),
                faithfulness=1.0,
                path=str(rel),
                boxes=boxes,
                backend="procedural",
                model="facetory-procedural-v1",
            )
            if i < per_class:
                accepted_ids.append(image_id)
            elif i < per_class + rejected_per_class:
                reason = _REJECT_REASONS[(i + ci) % len(_REJECT_REASONS)]
                record = record.model_copy(
                    update={
                        "status": Status.rejected,
                        "score": 0.3,
                        "faithfulness": 0.5 if reason.startswith("attribute") else 1.0,
                        "reasons": [reason],
                    }
                )
            else:
                record = record.model_copy(
                    update={
                        "status": Status.duplicate,
                        "reasons": ["duplicate"],
                        "duplicate_of": accepted_ids[0],
                        "similarity": 0.97,
                    }
                )
            records.append(record)
    return records
