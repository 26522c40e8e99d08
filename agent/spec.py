"""The dataset specification: what a person asked for, as a validated pydantic model.

Everything downstream (planner, generators, critic thresholds, budget) reads this model.
A spec comes from plain language (`agent.parse`) or is written directly as YAML.
"""

from __future__ import annotations

import math
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tools.errors import FacetoryError

MAX_IMAGES = 10_000_000
_SLUG_BAD = re.compile(r"[^a-z0-9]+")


class SpecError(FacetoryError):
    """A spec that cannot be built; the message is one line meant for the user."""


def slugify(text: str) -> str:
    """A directory-safe slug: lowercase ascii letters, digits and single underscores."""
    slug = _SLUG_BAD.sub("_", text.lower()).strip("_")
    return slug or "class"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Level(_Model):
    """One level of a factor with its target share (None: share the remainder equally)."""

    name: str
    proportion: float | None = Field(default=None, ge=0.0, le=1.0)


class NumericRange(_Model):
    """A numeric attribute (e.g. age in years) bucketed into `bins` equal-width levels."""

    low: float
    high: float
    bins: int = Field(default=3, ge=1, le=100)
    unit: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> NumericRange:
        if self.high <= self.low:
            raise ValueError(f"range high ({self.high:g}) must be above low ({self.low:g})")
        return self

    def level_names(self) -> list[str]:
        """Bucket names such as `4-6`, covering [low, high] without gaps."""
        integral = float(self.low).is_integer() and float(self.high).is_integer()
        width = (self.high - self.low) / self.bins
        names = []
        for i in range(self.bins):
            lo = self.low + i * width
            hi = self.low + (i + 1) * width
            if integral and width >= 1:
                lo_i = math.ceil(lo) if i else int(self.low)
                hi_i = math.ceil(hi) - 1 if i < self.bins - 1 else int(self.high)
                names.append(f"{lo_i}-{hi_i}" if hi_i > lo_i else f"{lo_i}")
            else:
                names.append(f"{lo:g}-{hi:g}")
        return names


class Factor(_Model):
    """An attribute the plan balances, e.g. eyewear with levels none / glasses / sunglasses.

    `balanced` spreads images equally over the levels; otherwise each level's proportion is
    used, levels without one share what is left. `scope="identity"` factors are fixed per
    synthetic person (e.g. skin tone), `image` factors vary from image to image.
    """

    name: str
    levels: list[Level] = Field(default_factory=list)
    numeric: NumericRange | None = None
    balanced: bool = False
    scope: Literal["image", "identity"] = "image"

    @model_validator(mode="after")
    def _levels(self) -> Factor:
        if self.numeric is not None and not self.levels:
            self.levels = [Level(name=n) for n in self.numeric.level_names()]
        if not self.levels:
            raise ValueError(f"factor '{self.name}' has no levels")
        names = [lv.name for lv in self.levels]
        if len(set(names)) != len(names):
            raise ValueError(f"factor '{self.name}' repeats a level")
        given = sum(lv.proportion or 0.0 for lv in self.levels)
        if given > 1.0 + 1e-6:
            raise ValueError(
                f"factor '{self.name}' proportions add up to {given * 100:.0f}% (over 100%)"
            )
        open_levels = [lv for lv in self.levels if lv.proportion is None]
        if not open_levels and abs(given - 1.0) > 1e-6 and not self.balanced:
            raise ValueError(
                f"factor '{self.name}' proportions add up to {given * 100:.0f}%, not 100%"
            )
        return self

    def targets(self) -> dict[str, float]:
        """Target share of every level, summing to 1."""
        if self.balanced:
            return {lv.name: 1.0 / len(self.levels) for lv in self.levels}
        given = sum(lv.proportion or 0.0 for lv in self.levels)
        open_levels = [lv for lv in self.levels if lv.proportion is None]
        rest = max(0.0, 1.0 - given) / len(open_levels) if open_levels else 0.0
        return {
            lv.name: (lv.proportion if lv.proportion is not None else rest) for lv in self.levels
        }


class ClassSpec(_Model):
    """One target class: its label, a directory-safe slug, quota and fixed attribute levels."""

    name: str
    description: str = ""
    quota: int = Field(ge=1, le=MAX_IMAGES)
    attributes: dict[str, str] = Field(default_factory=dict)
    """Levels fixed for every image of the class, e.g. {"eyewear": "glasses"}."""

    @property
    def slug(self) -> str:
        return slugify(self.name)


class Constraint(_Model):
    """A conditional constraint: when every `when` level holds, none of `forbid` may.

    "no sunglasses with eyes closed":
    `when={"eyes": "closed"}, forbid={"eyewear": ["sunglasses"]}`.
    """

    when: dict[str, str]
    forbid: dict[str, list[str]]

    def allows(self, attributes: dict[str, str]) -> bool:
        if any(attributes.get(f) != lv for f, lv in self.when.items()):
            return True
        return not any(attributes.get(f) in lvs for f, lvs in self.forbid.items())

    def describe(self) -> str:
        when = " and ".join(f"{f}={lv}" for f, lv in self.when.items())
        forbid = "; ".join(f"{f} in {lvs}" for f, lvs in self.forbid.items())
        return f"when {when}, not {forbid}"


class Identities(_Model):
    """Identity datasets: `count` synthetic people with `images_per_identity` images each."""

    count: int = Field(ge=1, le=MAX_IMAGES)
    images_per_identity: int = Field(ge=1, le=10_000)


class Quality(_Model):
    """Acceptance thresholds for the critic and the duplicate check."""

    min_critic_score: float = Field(default=0.5, ge=0.0, le=1.0)
    min_faithfulness: float = Field(default=0.5, ge=0.0, le=1.0)
    duplicate_similarity: float = Field(default=0.95, ge=0.0, le=1.0)
    identity_similarity: float = Field(default=0.6, ge=0.0, le=1.0)
    """Same-person threshold on the face descriptor's cosine similarity-derived score."""


class Budget(_Model):
    """How many generation attempts the build may spend, as a multiple of the target."""

    max_attempts_factor: float = Field(default=3.0, ge=1.0, le=100.0)
    batch_size: int = Field(default=16, ge=1, le=4096)


class Splits(_Model):
    train: float = Field(default=0.8, ge=0.0, le=1.0)
    val: float = Field(default=0.1, ge=0.0, le=1.0)
    test: float = Field(default=0.1, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _sum(self) -> Splits:
        total = self.train + self.val + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"split ratios add up to {total:g}, not 1")
        return self


class Generation(_Model):
    """Which generator draws the images and how."""

    backend: str = "procedural"
    model: str | None = None
    """Model id or local directory for the diffusers backend."""
    fault_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    """Procedural only: share of images with a diffusion-like defect (for testing the critic)."""
    steps: int = Field(default=30, ge=1, le=1000)
    guidance_scale: float = Field(default=7.5, ge=0.0, le=50.0)
    style: str = "photorealistic"


class Augmentation(_Model):
    """Text-guided variants of accepted images, e.g. 1 variant with expression=smile."""

    name: str
    variants: int = Field(default=1, ge=1, le=100)
    attributes: dict[str, str] = Field(default_factory=dict)
    prompt: str = ""
    strength: float = Field(default=0.5, gt=0.0, le=1.0)


class DatasetSpec(_Model):
    """A complete, validated description of a synthetic face dataset."""

    name: str = "dataset"
    subject: str = "faces"
    task: Literal["detect", "classify"] = "detect"
    classes: list[ClassSpec]
    factors: list[Factor] = Field(default_factory=list)
    constraints: list[Constraint] = Field(default_factory=list)
    identities: Identities | None = None
    faces_per_image: int | tuple[int, int] = 1
    image_size: int = Field(default=256, ge=32, le=4096)
    quality: Quality = Field(default_factory=Quality)
    budget: Budget = Field(default_factory=Budget)
    splits: Splits = Field(default_factory=Splits)
    generation: Generation = Field(default_factory=Generation)
    augmentations: list[Augmentation] = Field(default_factory=list)
    seed: int = 0

    @field_validator("classes")
    @classmethod
    def _classes(cls, classes: list[ClassSpec]) -> list[ClassSpec]:
        if not classes:
            raise ValueError("a spec needs at least one class")
        slugs = [c.slug for c in classes]
        if len(set(slugs)) != len(slugs):
            raise ValueError(f"class names collide once made directory-safe: {slugs}")
        return classes

    @field_validator("faces_per_image")
    @classmethod
    def _faces(cls, value: int | tuple[int, int]) -> int | tuple[int, int]:
        low, high = (value, value) if isinstance(value, int) else value
        if not 1 <= low <= high <= 20:
            raise ValueError(f"faces per image must be between 1 and 20, got {value}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DatasetSpec:
        total = self.total
        if total > MAX_IMAGES:
            raise ValueError(f"{total:,} images is over the limit of {MAX_IMAGES:,}")
        names = [f.name for f in self.factors]
        if len(set(names)) != len(names):
            raise ValueError("a factor is listed twice")
        known = {f.name: {lv.name for lv in f.levels} for f in self.factors}
        for c in self.classes:
            for fac, lv in c.attributes.items():
                if fac in known and lv not in known[fac]:
                    raise ValueError(f"class '{c.name}' fixes {fac}={lv}, not a level of {fac}")
        for con in self.constraints:
            for fac, lv in con.when.items():
                if fac not in known or lv not in known[fac]:
                    raise ValueError(f"constraint '{con.describe()}' names unknown {fac}={lv}")
            for fac, lvs in con.forbid.items():
                bad = [lv for lv in lvs if fac not in known or lv not in known[fac]]
                if bad:
                    raise ValueError(f"constraint '{con.describe()}' names unknown {fac}={bad}")
        if self.identities is not None:
            people = self.identities.count * self.identities.images_per_identity
            if people != total:
                raise ValueError(
                    f"{self.identities.count} identities x {self.identities.images_per_identity}"
                    f" images = {people}, but the class quotas add up to {total}"
                )
        return self

    @property
    def total(self) -> int:
        return sum(c.quota for c in self.classes)

    def factor(self, name: str) -> Factor | None:
        return next((f for f in self.factors if f.name == name), None)

    def faces_range(self) -> tuple[int, int]:
        fpi = self.faces_per_image
        return (fpi, fpi) if isinstance(fpi, int) else fpi
