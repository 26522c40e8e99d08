"""What the build report is made from: `ReportInputs`, filled by the agent from the build
directory, and the identity scores it carries.

Apart from the report so the agent, the report's analysis (`report_analysis`) and its page
(`report`) read one definition of the inputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from tools.contracts import ManifestRecord, Requirement
from tools.outputs.detection_score import RealFaceEvaluation


class IdentityScores(BaseModel):
    """Face-descriptor similarities of mated (same identity) and non-mated pairs."""

    mated: list[float] = Field(default_factory=list)
    non_mated: list[float] = Field(default_factory=list)
    threshold: float | None = None
    """The build's same-person threshold, drawn on the histogram."""
    fmr: float = Field(default=0.01, gt=0.0, lt=1.0)
    """False match rate at which the false non-match rate is reported."""
    metric: str = "similarity"


class ReportInputs(BaseModel):
    """Everything the report shows; the agent fills it from the build directory."""

    title: str = "facetory build"
    spec_text: str = ""
    spec_yaml: str = ""
    """The build's spec.yaml as recorded."""
    understood: str = ""
    requirements: list[Requirement] = Field(default_factory=list)
    """The requirement trace (agent.language.requirements): how each thing asked for was drawn and
    checked; the report shows it beside what was asked."""
    task: str = "detect"
    class_targets: dict[str, int] = Field(default_factory=dict)
    """Planned images per class, in plan order."""
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
    thresholds: dict[str, float] = Field(default_factory=dict)
    generator: str = ""
    model: str = ""
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
