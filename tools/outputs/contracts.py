"""What the output tools take and give: the export's inputs and summary, the report's inputs,
and the naming rules every export format shares.

The facts about a build that both the export (its dataset card) and the report show are one
model, `BuildFacts`, filled once by the agent (`agent.runtime.finish_inputs`). The formats
(`export_formats`), the dataset card (`dataset_card`), the export (`export`), the report
(`report`, `report_analysis`) read these definitions without importing each other.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from tools.contracts import ManifestRecord, Requirement
from tools.outputs.detection_score import RealFaceEvaluation

SPLITS: tuple[str, ...] = ("train", "val", "test")
HF_SPLIT = {"train": "train", "val": "validation", "test": "test"}
"""imagefolder split directory names (Hugging Face `datasets` recognises these)."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SLUG_BAD = re.compile(r"[^a-z0-9]+")


class BuildFacts(BaseModel):
    """What a build was asked for and how it was made: what the dataset card and the report
    both show."""

    spec_text: str = ""
    """The user's words, verbatim."""
    spec_yaml: str = ""
    """The build's spec.yaml as recorded (every setting that shaped the dataset)."""
    understood: str = ""
    """What the request was read as, in one paragraph (agent.language.requirements.understood)."""
    requirements: list[Requirement] = Field(default_factory=list)
    """How each requirement was drawn and checked (agent.language.requirements.trace)."""
    task: Literal["detect", "classify"] = "detect"
    class_targets: dict[str, int] = Field(default_factory=dict)
    """Planned images per class, in plan order; when given, target versus made is shown."""
    generator: str = ""
    model: str = ""
    thresholds: dict[str, float] = Field(default_factory=dict)

    def facts(self) -> dict[str, Any]:
        """These fields alone, to pass on to another output's inputs."""
        return {name: getattr(self, name) for name in BuildFacts.model_fields}


class ExportInfo(BuildFacts):
    """What the export needs to know about the build besides its records."""

    name: str = "dataset"
    class_names: list[str]
    """Class names in plan order; a record's class index is its position here."""
    plan_summary: dict = Field(default_factory=dict)
    """Free-form plan summary (targets per class and factor), shown in the card."""
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


class IdentityScores(BaseModel):
    """Face-descriptor similarities of mated (same identity) and non-mated pairs."""

    mated: list[float] = Field(default_factory=list)
    non_mated: list[float] = Field(default_factory=list)
    threshold: float | None = None
    """The build's same-person threshold, drawn on the histogram."""
    fmr: float = Field(default=0.01, gt=0.0, lt=1.0)
    """False match rate at which the false non-match rate is reported."""
    metric: str = "similarity"


class ReportInputs(BuildFacts):
    """Everything the report shows; the agent fills it from the build directory."""

    title: str = "facetory build"
    cell_targets: dict[str, dict[str, dict[str, int]]] = Field(default_factory=dict)
    """class -> factor -> level -> planned images."""
    records: list[ManifestRecord] = Field(default_factory=list)
    training: dict[str, Any] | None = None
    """The content of a training run's metrics.json (tools.outputs.train)."""
    real_faces: RealFaceEvaluation | None = None
    """That model and the Haar cascade on real faces, beside its synthetic test score
    (tools.outputs.real_faces; the run's real_faces.json)."""
    identity: IdentityScores | None = None
    events: list[dict[str, Any]] = Field(default_factory=list)
    timing: dict[str, float] = Field(default_factory=dict)
    """Wall seconds per stage (parse, plan, generate, critique, dedup, export, train, ...)."""
    locations: dict[str, str] = Field(default_factory=dict)
    """Where the outputs are (dataset, weights, ...), shown as text."""
    human_verdicts: dict[str, int] = Field(default_factory=dict)
    """How many images people rejected and accepted in the gallery (verdict -> count)."""
    base_dir: Path | None = None
    """Directory that relative record paths are relative to (the build directory)."""
    gallery_per_class: int = Field(default=8, ge=0, le=100)
    rejected_limit: int = Field(default=24, ge=0, le=500)
    duplicate_limit: int = Field(default=6, ge=0, le=100)
    thumb_px: int = Field(default=112, ge=32, le=512)


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
