"""Real faces to score a detector on: the embedded set, and labelled sets in YOLO or COCO layout.

The embedded set is made at first use from photographs that ship inside installed packages
(`real_faces_sources.yaml` says which, with origin and licence): scikit-image's astronaut,
insightface's group photo, and LFW face crops 0-49 composed onto real textures at the sizes
a detector trained on 256 px pictures looks for, with boxes written from where they were
placed. LFW faces 50-99 are held out for independent measurement: `lfw_crops` refuses them,
and they are never loaded. The set is written into a cache folder as a whole (built beside it,
then renamed), in YOLO layout: `images/`, `labels/` (`0 cx cy w h`), `data.yaml`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import yaml
from pydantic import BaseModel

from tools.atomic import replace_dir, temp_dir_beside, write_bytes, write_text
from tools.errors import FacetoryError

SOURCES = Path(__file__).with_name("real_faces_sources.yaml")
EMBEDDED = "embedded-v1"
"""Folder name of the embedded set in the cache; a new version of the set gets a new name."""
HELD_OUT = range(50, 100)
CANVAS = 256
"""Side of the composites: the quickstart's image size."""
FACE_PX = (64, 128)
"""Smallest and largest side of a composed face crop, in pixels."""
_SEED = 2026
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}
Box = tuple[float, float, float, float]


class LabelledImage(BaseModel):
    """One image of a real set and its true face boxes (pixels, x1 y1 x2 y2)."""

    path: Path
    boxes: list[Box]


def sources() -> dict:
    """The origin, licence and hand-drawn boxes of every packaged photo (data, read once)."""
    return yaml.safe_load(SOURCES.read_text(encoding="utf-8"))


def default_cache_dir() -> Path:
    """$FACETORY_CACHE, else $XDG_CACHE_HOME/facetory, else ~/.cache/facetory."""
    if os.environ.get("FACETORY_CACHE"):
        return Path(os.environ["FACETORY_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "facetory"


def embedded_real_set(cache_dir: str | Path | None = None) -> Path:
    """The embedded real-face set's folder (YOLO layout), unpacked on first use."""
    out = Path(cache_dir or default_cache_dir()) / "real_faces" / EMBEDDED
    if (out / "data.yaml").is_file():
        return out
    tmp = temp_dir_beside(out)
    try:
        _write_set(tmp)
        replace_dir(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def package_file(package: str, relative: str) -> Path | None:
    """A file inside an installed package, found without importing it; None when absent."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / relative
    return path if path.is_file() else None


def lfw_crops(indices: range) -> np.ndarray:
    """LFW-subset crops `indices` as uint8 (n x 25 x 25); the held-out faces 50-99 are refused
    and never read (the file is memory-mapped, and only the asked rows are copied)."""
    if indices.step != 1 or set(indices) & set(HELD_OUT):
        raise FacetoryError(f"LFW-subset crops {HELD_OUT.start}-{HELD_OUT.stop - 1} are held out")
    path = package_file("skimage", sources()["lfw"]["file"])
    if path is None:
        raise FacetoryError("scikit-image's lfw_subset.npy is missing: pip install scikit-image")
    rows = np.load(path, mmap_mode="r")
    return np.round(np.asarray(rows[indices.start:indices.stop]) * 255).astype(np.uint8)


def _write_set(root: Path) -> None:
    """Every image and label of the embedded set, plus data.yaml and the sources it came from."""
    data = sources()
    samples = list(_photos(data)) + _composites(data)
    for name, image, boxes in samples:
        ok, png = cv2.imencode(".png", image)
        if not ok:
            raise FacetoryError(f"could not encode {name}")
        write_bytes(root / "images" / f"{name}.png", png.tobytes())
        h, w = image.shape[:2]
        write_text(root / "labels" / f"{name}.txt", "".join(_yolo_line(b, w, h) for b in boxes))
    write_text(root / "sources.yaml", SOURCES.read_text(encoding="utf-8"))
    write_text(root / "data.yaml", yaml.safe_dump(
        {"path": ".", "train": "images", "val": "images", "test": "images",
         "names": {0: "face"}}, sort_keys=False))
    write_text(root / "set.json", json.dumps(
        {"name": EMBEDDED, "images": len(samples), "faces": sum(len(b) for _, _, b in samples),
         "photos": [n for n, _, _ in samples if not n.startswith("lfw_")]}, indent=2) + "\n")


def _yolo_line(box: Box, w: int, h: int) -> str:
    x1, y1, x2, y2 = box
    return f"0 {(x1 + x2) / 2 / w:.6f} {(y1 + y2) / 2 / h:.6f} {(x2 - x1) / w:.6f} " \
           f"{(y2 - y1) / h:.6f}\n"


def _photos(data: dict):
    """The packaged photos with their hand-drawn boxes (an optional package not installed is
    left out: `set.json` lists the photos a set holds)."""
    for photo in data["photos"]:
        path = package_file(photo["package"], photo["file"])
        if path is None:
            if photo.get("optional"):
                continue
            raise FacetoryError(f"{photo['package']} lacks {photo['file']}: reinstall it")
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        yield photo["name"], image, [tuple(map(float, b)) for b in photo["faces"]]


def _composites(data: dict) -> list[tuple[str, np.ndarray, list[Box]]]:
    """LFW faces 0-49 on real textures: 20 pictures with two faces, 10 with one, each with one
    non-face crop as a distractor, at sides between FACE_PX; boxes are where they were put."""
    faces = lfw_crops(range(*data["lfw"]["faces"]))
    non_faces = lfw_crops(range(*data["lfw"]["non_faces"]))
    textures = [cv2.imread(str(package_file(b["package"], b["file"])), cv2.IMREAD_GRAYSCALE)
                for b in data["backgrounds"]]
    rng = np.random.default_rng(_SEED)
    out, next_face = [], 0
    for k in range(30):
        count = 2 if k < 20 else 1
        crops = [faces[next_face + i] for i in range(count)] + [non_faces[(k * 7) % len(non_faces)]]
        next_face += count
        canvas = _background(textures[k % len(textures)], rng)
        placed = _place(canvas, crops, rng)
        out.append((f"lfw_{k:02d}", cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR), placed[:count]))
    return out


def _background(texture: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A CANVAS-sized crop of a real texture, softened towards mid grey so faces stand out."""
    y, x = (int(v) for v in rng.integers(0, texture.shape[0] - CANVAS, size=2))
    crop = texture[y:y + CANVAS, x:x + CANVAS].astype(np.float32)
    return (0.5 * crop + 0.5 * 128).astype(np.uint8)


def _place(canvas: np.ndarray, crops: list[np.ndarray], rng: np.random.Generator) -> list[Box]:
    """Paste each crop, scaled, where it overlaps none placed before; the boxes, in order."""
    boxes: list[Box] = []
    for crop in crops:
        for _ in range(200):
            side = int(rng.integers(FACE_PX[0], FACE_PX[1] + 1))
            x, y = (int(v) for v in rng.integers(0, CANVAS - side + 1, size=2))
            box = (float(x), float(y), float(x + side), float(y + side))
            if all(not _overlap(box, other) for other in boxes):
                break
        else:
            raise FacetoryError("could not place the crops of a composite without overlap")
        canvas[y:y + side, x:x + side] = cv2.resize(crop, (side, side),
                                                    interpolation=cv2.INTER_CUBIC)
        boxes.append(box)
    return boxes


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def read_real_set(path: str | Path, split: str | None = None) -> list[LabelledImage]:
    """The images and true boxes of a labelled set: YOLO layout (`images/` with `labels/`
    beside it, `cls cx cy w h` per line, any class a face; `split`: only `images/<split>/`)
    or COCO (`annotations.json`)."""
    root = Path(path)
    if not root.is_dir():
        raise FacetoryError(f"real-face set {root} is not a folder")
    if (root / "annotations.json").is_file():
        found = _read_coco(root)
    elif (root / "images").is_dir():
        found = _read_yolo(root, split)
    else:
        raise FacetoryError(f"{root} is neither YOLO layout (images/ and labels/) nor COCO "
                            "layout (annotations.json beside the images)")
    if not found:
        raise FacetoryError(f"real-face set {root} holds no images")
    return found


def _read_yolo(root: Path, split: str | None) -> list[LabelledImage]:
    if not (root / "labels").is_dir():
        raise FacetoryError(f"{root} has images/ but no labels/ beside it (YOLO layout)")
    out = []
    for image in sorted(p for p in (root / "images" / (split or "")).rglob("*")
                        if p.suffix.lower() in _IMAGE_SUFFIXES):
        size = _image_size(image)
        label = root / "labels" / image.relative_to(root / "images").with_suffix(".txt")
        boxes = _yolo_boxes(label, *size) if label.is_file() else []
        out.append(LabelledImage(path=image, boxes=boxes))
    return out


def _yolo_boxes(label: Path, w: int, h: int) -> list[Box]:
    boxes = []
    for n, line in enumerate(label.read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        try:
            _, cx, cy, bw, bh = (float(v) for v in parts[:5])
        except ValueError:
            raise FacetoryError(f"{label}:{n}: expected 'class cx cy w h', got {line!r}") from None
        boxes.append(((cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h))
    return boxes


def _read_coco(root: Path) -> list[LabelledImage]:
    try:
        coco = json.loads((root / "annotations.json").read_text(encoding="utf-8"))
        files = {int(i["id"]): i["file_name"] for i in coco["images"]}
        boxes: dict[int, list[Box]] = {i: [] for i in files}
        for a in coco.get("annotations", []):
            x, y, w, h = (float(v) for v in a["bbox"])
            boxes[int(a["image_id"])].append((x, y, x + w, y + h))
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise FacetoryError(f"{root / 'annotations.json'} is not COCO detection JSON "
                            f"({type(exc).__name__}: {exc})") from None
    out = []
    for image_id, name in sorted(files.items(), key=lambda kv: kv[1]):
        path = next((p for p in (root / name, root / "images" / name) if p.is_file()), None)
        if path is None:
            raise FacetoryError(f"{root / 'annotations.json'} names {name}, which is not there")
        out.append(LabelledImage(path=path, boxes=boxes[image_id]))
    return out


def _image_size(path: Path) -> tuple[int, int]:
    """(width, height), read from the file's header."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, UnidentifiedImageError):
        raise FacetoryError(f"{path} is not a readable image") from None
