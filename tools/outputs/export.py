"""Export the accepted images of a build as datasets other tools load without fuss.

One call writes, under `out_dir`:

```
README.md                      the dataset card
export.json                    what was exported (counts per split and class; paths relative)
yolo_detect/data.yaml          YOLO detect: images/{train,val,test}, labels/{train,val,test}
yolo_classify/{split}/{class}/ YOLO classify: face crops (or whole images)
coco/annotations/{split}.json  COCO detection, images under coco/images/{split}/
hf/{train,validation,test}/    Hugging Face imagefolder with metadata.jsonl (every attribute)
```

Only accepted records are exported; the others feed the card's rejection statistics. The
export is rebuilt from scratch in a temp directory beside `out_dir` and swapped in, so a
re-export replaces the old one and a killed export never leaves a half-written dataset behind.
Images are hard-linked from the build's images (copied across file systems), so an export costs
almost no disk. Every path inside the export is relative to the file that names it, so the
dataset can be moved or copied and still loads from its new place.

The formats are written by `export_formats`, the card by `dataset_card`; this module checks the
records, runs the writers in a temporary folder and swaps it in.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path

from PIL import Image

from tools.atomic import replace_dir, temp_dir_beside, write_text
from tools.contracts import Box, ManifestRecord, Status
from tools.errors import FacetoryError
from tools.outputs.contracts import (
    SPLITS,
    ExportInfo,
    ExportSummary,
    class_slug,
    file_stem,
    source_path,
)
from tools.outputs.dataset_card import dataset_card
from tools.outputs.export_formats import (
    ExportRows,
    write_coco,
    write_hf,
    write_yolo_classify,
    write_yolo_detect,
)

_TEMP_PREFIX = ".export-"


def export_dataset(
    records: Iterable[ManifestRecord],
    info: ExportInfo,
    out_dir: str | Path,
    *,
    base_dir: str | Path | None = None,
) -> ExportSummary:
    """Export accepted `records` to `out_dir` (replacing any previous export there).

    Relative record paths are resolved against `base_dir` (the build directory).
    """
    records = list(records)
    out_dir = Path(out_dir).resolve()
    base = Path(base_dir).resolve() if base_dir is not None else Path.cwd()
    if not info.class_names:
        raise FacetoryError("export needs at least one class name")
    slugs = [class_slug(n) for n in info.class_names]
    if len(set(slugs)) != len(slugs):
        raise FacetoryError(f"class names collide once made directory-safe: {slugs}")
    index = {name: i for i, name in enumerate(info.class_names)}
    accepted = [r for r in records if r.status == Status.accepted]
    _check_records(accepted, index, base)

    _refuse_foreign_files(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    _sweep_stale(out_dir)
    tmp = temp_dir_beside(out_dir, _TEMP_PREFIX)
    try:
        summary = _write_all(accepted, records, info, index, base, tmp, out_dir)
        replace_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return summary


# --------------------------------------------------------------------------- checks and swap


def _check_records(accepted: list[ManifestRecord], index: dict[str, int], base: Path) -> None:
    seen: set[str] = set()
    for r in accepted:
        if r.class_name not in index:
            raise FacetoryError(
                f"accepted image {r.image_id} has class '{r.class_name}', "
                f"not one of the plan's classes {list(index)}"
            )
        name = file_stem(r.image_id)
        if name in seen:
            raise FacetoryError(f"two accepted images share the id {r.image_id}")
        seen.add(name)
        if not r.path or not source_path(r, base).is_file():
            raise FacetoryError(f"accepted image {r.image_id} is missing on disk: {r.path!r}")


#: What an export folder holds at its top level (`identities/` is the identity export's).
EXPORT_NAMES = frozenset(
    {"README.md", "export.json", "yolo_detect", "yolo_classify", "coco", "hf", "identities"}
)


def _refuse_foreign_files(out_dir: Path) -> None:
    """A re-export replaces the whole folder: refuse when it holds anything facetory did not
    write there, rather than delete someone's files."""
    if not out_dir.is_dir():
        if out_dir.exists():
            raise FacetoryError(f"cannot export to {out_dir}: it is a file, not a folder")
        return
    foreign = sorted(p.name for p in out_dir.iterdir() if p.name not in EXPORT_NAMES)
    if foreign:
        raise FacetoryError(
            f"{out_dir} holds files facetory did not write ({', '.join(foreign[:3])}"
            f"{' ...' if len(foreign) > 3 else ''}); move them out of it, then run again "
            "(each export replaces the whole folder)"
        )


def _sweep_stale(out_dir: Path) -> None:
    """Remove temp directories a killed export left beside `out_dir`."""
    stale_dirs = [*out_dir.parent.glob(f".{out_dir.name}{_TEMP_PREFIX}*"),
                  *out_dir.parent.glob(f".{out_dir.name}.old-*")]  # left by a kill mid-swap
    for stale in stale_dirs:
        shutil.rmtree(stale, ignore_errors=True)


# --------------------------------------------------------------------------- writing


def _write_all(
    accepted: list[ManifestRecord],
    records: list[ManifestRecord],
    info: ExportInfo,
    index: dict[str, int],
    base: Path,
    tmp: Path,
    final: Path,
) -> ExportSummary:
    accepted = sorted(
        accepted, key=lambda r: (SPLITS.index(r.split), index[r.class_name], r.image_id)
    )
    sizes = {r.image_id: _size(source_path(r, base)) for r in accepted}
    boxes = {r.image_id: _clip_boxes(r.boxes, *sizes[r.image_id]) for r in accepted}
    skipped = {r.image_id: "no face box" for r in accepted if not boxes[r.image_id]}

    images = {s: {n: 0 for n in info.class_names} for s in SPLITS}
    for r in accepted:
        images[r.split][r.class_name] += 1
    faces = {s: sum(len(boxes[r.image_id]) for r in accepted if r.split == s) for s in SPLITS}

    rows = ExportRows(accepted, info, index, base, boxes, sizes, skipped)
    write_yolo_detect(rows, tmp / "yolo_detect")
    classify_samples = write_yolo_classify(rows, tmp / "yolo_classify")
    write_coco(rows, tmp / "coco")
    write_hf(rows, tmp / "hf")

    warnings = [
        f"the {s} split is empty" for s in SPLITS if not any(r.split == s for r in accepted)
    ]
    warnings += [
        f"class '{n}' has no {s} images"
        for s in SPLITS
        for n in info.class_names
        if images[s][n] == 0 and any(r.split == s for r in accepted)
    ]
    summary = ExportSummary(
        root=final,
        card=final / "README.md",
        detect_yaml=final / "yolo_detect" / "data.yaml",
        classify_dir=final / "yolo_classify",
        coco_dir=final / "coco",
        hf_dir=final / "hf",
        images=images,
        faces=faces,
        classify_samples=classify_samples,
        skipped=skipped,
        warnings=warnings,
    )
    write_text(tmp / "README.md", dataset_card(records, info, summary))
    write_text(tmp / "export.json", _relative_json(summary, final) + "\n")
    return summary


def _relative_json(summary: ExportSummary, root: Path) -> str:
    """export.json with its paths relative to the export's root, so the export travels."""
    data = json.loads(summary.model_dump_json())
    for key in ("root", "card", "detect_yaml", "classify_dir", "coco_dir", "hf_dir"):
        data[key] = Path(data[key]).relative_to(root).as_posix() or "."
    return json.dumps(data, indent=2)


def _size(path: Path) -> tuple[int, int]:
    try:
        with Image.open(path) as im:
            return im.size
    except OSError as exc:
        raise FacetoryError(f"cannot read image {path}: {exc}") from exc


def _clip_boxes(boxes: list[Box], w: int, h: int) -> list[Box]:
    """Clip boxes to the image; drop those with no area left."""
    out = []
    for x0, y0, x1, y1 in boxes:
        x0, x1 = max(0.0, min(x0, x1)), min(float(w), max(x0, x1))
        y0, y1 = max(0.0, min(y0, y1)), min(float(h), max(y0, y1))
        if x1 - x0 >= 1.0 and y1 - y0 >= 1.0:
            out.append((x0, y0, x1, y1))
    return out
