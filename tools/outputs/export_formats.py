"""The export's formats, one writer each: YOLO detect, YOLO classify, COCO, Hugging Face.

Each writer lays out accepted records, already sorted, boxes clipped and sizes read by
`export.export_dataset`, under the export's temporary folder; images are hard-linked from the
build (copied across file systems), crops are saved with the source's provenance text.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import yaml
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from tools.atomic import atomic_open, link_or_copy, write_text
from tools.contracts import Box, ManifestRecord
from tools.outputs.contracts import (
    HF_SPLIT,
    SPLITS,
    ExportInfo,
    class_slug,
    file_stem,
    source_path,
)

T = TypeVar("T")


@dataclass(frozen=True)
class ExportRows:
    """What every writer lays out: the accepted records (sorted), the export's description,
    class ids, where the build's images are, and per image its clipped boxes, its size and
    why it is left out of the box formats (no face box)."""

    accepted: list[ManifestRecord]
    info: ExportInfo
    index: dict[str, int]
    base: Path
    boxes: dict[str, list[Box]]
    sizes: dict[str, tuple[int, int]]
    skipped: dict[str, str]


def write_yolo_detect(rows: ExportRows, root: Path) -> None:
    accepted, info, index, base = rows.accepted, rows.info, rows.index, rows.base
    boxes, sizes, skipped = rows.boxes, rows.sizes, rows.skipped
    for split in SPLITS:
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
    def write(r: ManifestRecord) -> None:
        src = source_path(r, base)
        stem = file_stem(r.image_id)
        link_or_copy(src, root / "images" / r.split / f"{stem}{src.suffix.lower()}")
        w, h = sizes[r.image_id]
        lines = [_yolo_line(index[r.class_name], box, w, h) for box in boxes[r.image_id]]
        write_text(root / "labels" / r.split / f"{stem}.txt", "\n".join(lines) + "\n")

    _each(write, [r for r in accepted if r.image_id not in skipped])
    # no `path:`: ultralytics then reads the splits relative to data.yaml's own folder, so the
    # export can be moved or copied (an absolute path made a copy silently read the original)
    data = {
        "train": "images/train",
        "val": "images/val",
        "test": "images/test",
        "nc": len(info.class_names),
        "names": dict(enumerate(info.class_names)),
    }
    header = f"# {info.name}: YOLO detect export written by facetory (synthetic images)\n"
    write_text(root / "data.yaml", header + yaml.safe_dump(data, sort_keys=False))


def write_yolo_classify(rows: ExportRows, root: Path) -> dict[str, int]:
    accepted, info, base, boxes = rows.accepted, rows.info, rows.base, rows.boxes
    for split in SPLITS:
        for name in info.class_names:  # every class folder in every split keeps class ids aligned
            (root / split / class_slug(name)).mkdir(parents=True, exist_ok=True)
    def write(r: ManifestRecord) -> int:
        src = source_path(r, base)
        folder = root / r.split / class_slug(r.class_name)
        stem = file_stem(r.image_id)
        if info.classify_crop and boxes[r.image_id]:
            with Image.open(src) as im:
                im.load()
                for k, box in enumerate(boxes[r.image_id]):
                    crop = im.crop(_crop_box(box, im.size, info.crop_margin))
                    _save_png(crop, folder / f"{stem}-f{k}.png", im)
            return len(boxes[r.image_id])
        link_or_copy(src, folder / f"{stem}{src.suffix.lower()}")
        return 1

    counts = dict.fromkeys(SPLITS, 0)
    for r, written in zip(accepted, _each(write, accepted), strict=True):
        counts[r.split] += written
    return counts


#: Threads that write the YOLO exports' files: each file is written on its own (encode,
#: write, fsync), and PNG encoding and fsync release the GIL, so they overlap (bench/RESULTS.md).
WRITER_THREADS = 4


def _each(write: Callable[[ManifestRecord], T], records: list[ManifestRecord]) -> list[T]:
    """`write` of every record, on `WRITER_THREADS` threads; results in record order, the
    first error raised as it is."""
    if len(records) < 2:
        return [write(r) for r in records]
    with ThreadPoolExecutor(WRITER_THREADS) as pool:
        return list(pool.map(write, records))


def write_coco(rows: ExportRows, root: Path) -> None:
    accepted, info, index, base = rows.accepted, rows.info, rows.index, rows.base
    boxes, sizes, skipped = rows.boxes, rows.sizes, rows.skipped
    categories = [
        {"id": i + 1, "name": name, "supercategory": "face"}
        for i, name in enumerate(info.class_names)
    ]
    for split in SPLITS:
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        images, annotations = [], []
        for r in (r for r in accepted if r.split == split and r.image_id not in skipped):
            src = source_path(r, base)
            file_name = f"{file_stem(r.image_id)}{src.suffix.lower()}"
            link_or_copy(src, root / "images" / split / file_name)
            w, h = sizes[r.image_id]
            image_id = len(images) + 1
            images.append(
                {
                    "id": image_id,
                    "file_name": file_name,
                    "width": w,
                    "height": h,
                    "facetory_id": r.image_id,
                    "attributes": r.attributes,
                    "variation": r.variation,
                    "injected_faults": r.faults,
                    "identity": r.identity,
                    "parent": r.parent,
                }
            )
            for x0, y0, x1, y1 in boxes[r.image_id]:
                bw, bh = x1 - x0, y1 - y0
                annotations.append(
                    {
                        "id": len(annotations) + 1,
                        "image_id": image_id,
                        "category_id": index[r.class_name] + 1,
                        "bbox": [round(x0, 2), round(y0, 2), round(bw, 2), round(bh, 2)],
                        "area": round(bw * bh, 2),
                        "iscrowd": 0,
                    }
                )
        coco = {
            "info": {
                "description": f"{info.name} ({split}): synthetic faces made by facetory",
                "version": "1.0",
            },
            "licenses": [],
            "images": images,
            "annotations": annotations,
            "categories": categories,
        }
        write_text(root / "annotations" / f"{split}.json", json.dumps(coco, indent=1) + "\n")


def write_hf(rows: ExportRows, root: Path) -> None:
    accepted, index, base, boxes = rows.accepted, rows.index, rows.base, rows.boxes
    factors = sorted({f for r in accepted for f in r.attributes})
    for split in SPLITS:
        folder = root / HF_SPLIT[split]
        folder.mkdir(parents=True, exist_ok=True)
        lines = []
        for r in (r for r in accepted if r.split == split):
            src = source_path(r, base)
            file_name = f"{file_stem(r.image_id)}{src.suffix.lower()}"
            link_or_copy(src, folder / file_name)
            row = {
                "file_name": file_name,
                "image_id": r.image_id,
                "label": r.class_name,
                "label_id": index[r.class_name],
            }
            row.update({f: r.attributes.get(f) for f in factors})
            row["variation"] = r.variation  # levels drawn that the request did not ask for
            row["injected_faults"] = r.faults  # defects put in on purpose that the critic missed
            row.update(
                {
                    "identity": r.identity,
                    "objects": {
                        "bbox": [[round(v, 2) for v in _xywh(b)] for b in boxes[r.image_id]],
                        "category": [index[r.class_name]] * len(boxes[r.image_id]),
                    },
                    "critic_score": round(r.score, 4),
                    "faithfulness": round(r.faithfulness, 4),
                    "seed": r.seed,
                    "prompt": r.prompt,
                    "backend": r.backend,
                    "model": r.model,
                    "parent": r.parent,
                    "synthetic": True,
                }
            )
            lines.append(json.dumps(row, ensure_ascii=False))
        write_text(folder / "metadata.jsonl", "".join(line + "\n" for line in lines))


# --------------------------------------------------------------------------- helpers


def _yolo_line(cls: int, box: Box, w: int, h: int) -> str:
    x0, y0, x1, y1 = box
    cx, cy, bw, bh = (x0 + x1) / 2 / w, (y0 + y1) / 2 / h, (x1 - x0) / w, (y1 - y0) / h
    return f"{cls} {cx:.6f} {cy:.6f} {bw:.6f} {bh:.6f}"


def _xywh(box: Box) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = box
    return x0, y0, x1 - x0, y1 - y0


def _crop_box(box: Box, size: tuple[int, int], margin: float) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    mx, my = (x1 - x0) * margin, (y1 - y0) * margin
    w, h = size
    return (
        max(0, int(x0 - mx)),
        max(0, int(y0 - my)),
        min(w, int(round(x1 + mx))),
        min(h, int(round(y1 + my))),
    )


#: zlib level of the classify crops. Lossless at any level, and level 1 is a few times faster
#: than Pillow's default 6 for slightly larger files (bench/RESULTS.md); the crops are most of
#: an export's CPU time.
CROP_PNG_LEVEL = 1


def _save_png(crop: Image.Image, dest: Path, source: Image.Image) -> None:
    """Save a crop as PNG, keeping the source's provenance text (it says 'synthetic')."""
    meta = PngInfo()
    for key, value in getattr(source, "text", {}).items():
        meta.add_text(key, str(value))
    with atomic_open(dest, "wb") as handle:
        crop.save(handle, format="PNG", pnginfo=meta, compress_level=CROP_PNG_LEVEL)
