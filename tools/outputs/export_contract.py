"""What an export takes and gives, and the naming rules every format of it shares.

`ExportInfo` (what the export needs to know about the build) and `ExportSummary` (where it went
and what it holds) sit here, apart from the writers, so the formats (`export_formats`), the
dataset card (`dataset_card`) and the export itself (`export`) read one definition of the splits,
the class folder names and the file names without importing each other.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from tools.contracts import ManifestRecord, Requirement

SPLITS: tuple[str, ...] = ("train", "val", "test")
HF_SPLIT = {"train": "train", "val": "validation", "test": "test"}
"""imagefolder split directory names (Hugging Face `datasets` recognises these)."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SLUG_BAD = re.compile(r"[^a-z0-9]+")


class ExportInfo(BaseModel):
    """What the export needs to know about the build besides its records."""

    name: str = "dataset"
    task: Literal["detect", "classify"] = "detect"
    class_names: list[str]
    """Class names in plan order; a record's class index is its position here."""
    spec_text: str = ""
    """The user's words, verbatim."""
    spec_yaml: str = ""
    """The build's spec.yaml as recorded (every setting that shaped the dataset), in the card."""
    understood: str = ""
    """What the request was read as, in one paragraph (agent.language.requirements.understood)."""
    requirements: list[Requirement] = Field(default_factory=list)
    """How each requirement was drawn and checked (agent.language.requirements.trace)."""
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


def file_stem(image_id: str) -> str:
    """An image id made file-safe: the stem of its file in every format."""
    return _UNSAFE.sub("_", image_id).strip("._") or "image"


def source_path(record: ManifestRecord, base: Path) -> Path:
    """The record's image in the build (relative paths are relative to `base`)."""
    path = Path(record.path)
    return path if path.is_absolute() else base / path
