"""Training collages: tight crops of the export's own training faces, shrunk to a photo's
detail and pasted with hard edges on real photographs' textures, beside as many pasted crops
that are not faces.

A detector trained on whole rendered scenes learns the scene (a head on shoulders, hair around
it); real pictures show faces small, cropped, grey and soft, anywhere. The non-face crops are
pasted the same way (same sizes, same degradation), so a paste edge says nothing: the model
must tell a face by what is inside it. Only the export's training split is read; the textures
are the renderer's (`tools.generate.photos`, which never shows a person). The collages are
extra training images written beside a training run; the export itself is unchanged.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import yaml

from tools.atomic import write_bytes, write_text
from tools.errors import FacetoryError
from tools.generate import photos
from tools.vocabulary import VOCABULARY, WORN

#: Side of a pasted crop in pixels at a 256 px collage (scaled with the collage's size).
PASTE_PX = (28, 128)
#: Detail a pasted crop keeps: it is shrunk to this many pixels across, then enlarged.
DETAIL_PX = (16, 40)
#: Faces per collage (and as many non-face crops).
FACES = (1, 4)
_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}
Box = tuple[int, int, int, int]


def split_dirs(data: Path) -> dict[str, Path]:
    """The absolute image folder of each split an ultralytics data.yaml names."""
    spec = yaml.safe_load(data.read_text(encoding="utf-8"))
    root = Path(spec.get("path") or data.parent)
    root = root if root.is_absolute() else (data.parent / root)
    return {s: (root / spec[s]).resolve() for s in ("train", "val", "test") if spec.get(s)}


def training_faces(images: Path) -> list[tuple[int, np.ndarray]]:
    """(class, square crop) of every labelled face in a split's images (a YOLO layout)."""
    labels = Path(str(images).replace("/images/", "/labels/").rstrip("/"))
    if labels == images:
        labels = images.parent.parent / "labels" / images.name
    out = []
    for path in sorted(p for p in images.iterdir() if p.suffix.lower() in _SUFFIXES):
        label = labels / f"{path.stem}.txt"
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is None or not label.is_file():
            continue
        h, w = img.shape[:2]
        for row in label.read_text(encoding="utf-8").split("\n"):
            parts = row.split()
            if len(parts) == 5:
                cls, cx, cy, bw, bh = int(parts[0]), *map(float, parts[1:])
                side = int(max(bw * w, bh * h))
                x0, y0 = int(cx * w - side / 2), int(cy * h - side / 2)
                if side >= 8 and x0 >= 0 and y0 >= 0 and x0 + side <= w and y0 + side <= h:
                    out.append((cls, img[y0:y0 + side, x0:x0 + side]))
    return out


def _degrade(crop: np.ndarray, side: int, grey: bool, rng: np.random.Generator) -> np.ndarray:
    """A crop at `side` px with the detail of a small photographed face (and grey, if asked)."""
    detail = int(rng.integers(DETAIL_PX[0], DETAIL_PX[1] + 1))
    small = cv2.resize(crop, (detail, detail), interpolation=cv2.INTER_AREA)
    if grey:
        small = cv2.cvtColor(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    return cv2.resize(small, (side, side), interpolation=cv2.INTER_CUBIC)


def _free_spot(size: int, side: int, taken: list[Box], rng: np.random.Generator) -> Box | None:
    """A square of `side` inside the collage that overlaps none taken (None after 50 tries)."""
    for _ in range(50):
        x, y = (int(v) for v in rng.integers(0, size - side + 1, size=2))
        box = (x, y, x + side, y + side)
        if all(box[0] >= b[2] or b[0] >= box[2] or box[1] >= b[3] or b[1] >= box[3]
               for b in taken):
            return box
    return None


def collage(faces: list[tuple[int, np.ndarray]], size: int, rng: np.random.Generator
            ) -> tuple[np.ndarray, list[tuple[int, Box]]]:
    """One collage (BGR) and its faces' (class, box): faces and as many non-face crops."""
    canvas = photos.crop(rng.random(5), size, size)[..., ::-1].astype(np.float32)
    canvas = np.ascontiguousarray((canvas * 0.5 + 64.0) if rng.random() < 0.5 else canvas)
    canvas = canvas.astype(np.uint8)
    grey = rng.random() < 0.5
    count = int(rng.integers(FACES[0], FACES[1] + 1))
    picks = [faces[int(i)] for i in rng.integers(0, len(faces), size=count)]
    crops = [(cls, crop) for cls, crop in picks] + [
        (-1, photos.crop(rng.random(5), 64, 64)[..., ::-1]) for _ in range(count)]
    scale = size / 256.0
    taken: list[Box] = []
    boxes: list[tuple[int, Box]] = []
    for cls, crop in crops:
        side = int(rng.integers(PASTE_PX[0], PASTE_PX[1] + 1) * scale)
        box = _free_spot(size, min(side, size), taken, rng)
        if box is None:
            continue
        taken.append(box)
        canvas[box[1]:box[3], box[0]:box[2]] = _degrade(crop, box[2] - box[0], grey, rng)
        if cls >= 0:
            boxes.append((cls, box))
    if grey:
        canvas = cv2.cvtColor(cv2.cvtColor(canvas, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    return canvas, boxes


def collage_count(data: Path) -> int:
    """The collage images a data.yaml written by `write_collages` trains on."""
    return sum(1 for p in (data.parent / "images" / "train").iterdir()
               if p.suffix.lower() in _SUFFIXES)


def pasted_classes(names: dict[int, str], asked: list[str] | None) -> set[int]:
    """The class ids whose faces the collages paste: those `asked`, else the classes that
    show nothing worn (a worn factor's `rest` level, such as eyewear's `none`) when the export
    has one, else every class. Shrunk to a small face's detail, thin frames vanish: a face
    labelled glasses that shows none would teach the model to doubt every small face."""
    if asked is not None:
        unknown = sorted(set(asked) - set(names.values()))
        if unknown:
            raise FacetoryError(f"training.augment.collage_classes names {', '.join(unknown)}, "
                                f"not a class of the export ({', '.join(names.values())})")
        return {i for i, n in names.items() if n in asked}
    plain = {str(VOCABULARY[f].rest) for f in WORN}
    return {i for i, n in names.items() if n in plain} or set(names)


def write_collages(data: Path, out: Path, share: float, seed: int,
                   classes: list[str] | None = None) -> Path | None:
    """Collages for `share` of the training split's image count under `out`, and a data.yaml
    that trains on both (validation and test unchanged); None when there is nothing to write.
    `classes`: the classes whose faces are pasted (see `pasted_classes`)."""
    dirs = split_dirs(data)
    names = yaml.safe_load(data.read_text(encoding="utf-8")).get("names") or {}
    names = dict(enumerate(names)) if isinstance(names, list) else names
    keep = pasted_classes({int(k): str(v) for k, v in names.items()}, classes)
    faces = training_faces(dirs["train"]) if share > 0 and "train" in dirs else []
    faces = [(cls, crop) for cls, crop in faces if cls in keep]
    n_train = sum(1 for p in dirs.get("train", Path()).iterdir()
                  if p.suffix.lower() in _SUFFIXES) if faces else 0
    count = round(share * n_train)
    if count == 0:
        return None
    if out.exists():
        shutil.rmtree(out)
    (out / "images" / "train").mkdir(parents=True)
    (out / "labels" / "train").mkdir(parents=True)
    sample = cv2.imread(str(next(p for p in dirs["train"].iterdir() if p.suffix in _SUFFIXES)))
    size = int(max(sample.shape[:2]))
    for i in range(count):
        img, boxes = collage(faces, size, np.random.default_rng([seed, i]))
        write_bytes(out / "images" / "train" / f"collage_{i:05d}.png",
                    cv2.imencode(".png", img)[1].tobytes())
        lines = [f"{c} {(b[0] + b[2]) / 2 / size:.6f} {(b[1] + b[3]) / 2 / size:.6f} "
                 f"{(b[2] - b[0]) / size:.6f} {(b[3] - b[1]) / size:.6f}" for c, b in boxes]
        write_text(out / "labels" / "train" / f"collage_{i:05d}.txt", "\n".join(lines) + "\n")
    spec = yaml.safe_load(data.read_text(encoding="utf-8"))
    spec.update({"path": str(out), "train": [str(dirs["train"]), str(out / "images" / "train")],
                 **{s: str(dirs[s]) for s in ("val", "test") if s in dirs}})
    write_text(out / "data.yaml", yaml.safe_dump(spec, sort_keys=False))
    return out / "data.yaml"
