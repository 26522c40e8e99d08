"""Factors of a spec: the attributes a dataset is balanced over, their levels and shares.

A factor is named levels with target shares (`Level`), or a numeric range cut into levels
(`NumericRange`, e.g. ages in years -> the vocabulary's age groups). Names and labels are
checked here, so a bad factor fails with one line that names it. Part of `agent.language.spec`.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from tools.vocabulary import FACTORS, age_group_at

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_FACTOR_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def _label(text: str) -> str:
    """A label shown to people and written to files: one line, not empty, not huge."""
    text = text.strip()
    if not text:
        raise ValueError("must not be empty")
    if _CONTROL.search(text):
        raise ValueError(f"{text!r} contains control characters")
    if len(text) > 100:
        raise ValueError(f"'{text[:40]}...' is longer than 100 characters")
    return text


Label = Annotated[str, AfterValidator(_label)]


def check_factor_name(name: str) -> str:
    if not _FACTOR_NAME.match(name):
        raise ValueError(
            f"factor name {name!r} must be lowercase letters, digits and underscores "
            "(e.g. skin_tone)"
        )
    return name


FactorName = Annotated[str, AfterValidator(check_factor_name)]


class SpecModel(BaseModel):
    """The base of every spec model: unknown keys are errors; a field's docstring is its
    documentation (and its description in specs/schema.json)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class Level(SpecModel):
    """One level of a factor with its target share (None: share the remainder equally)."""

    name: Label
    proportion: float | None = Field(default=None, ge=0.0, le=1.0)


class NumericRange(SpecModel):
    """A numeric attribute (e.g. age in years) bucketed into levels.

    Either `bins` equal-width buckets over [low, high], or explicit bucket `edges`
    (low, inner edges..., high), e.g. ages 10-30 split at the age-group boundaries 15 and 20.
    """

    low: float
    high: float
    bins: int = Field(default=3, ge=1, le=100)
    edges: list[float] | None = None
    unit: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> NumericRange:
        if self.high <= self.low:
            raise ValueError(f"range high ({self.high:g}) must be above low ({self.low:g})")
        if self.edges is not None:
            edges = self.edges
            if len(edges) < 2 or edges[0] != self.low or edges[-1] != self.high:
                raise ValueError(f"edges must run from low ({self.low:g}) to high ({self.high:g})")
            if any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
                raise ValueError(f"edges must increase, got {edges}")
            self.bins = len(edges) - 1
        return self

    def bounds(self) -> list[tuple[float, float]]:
        """(low, high) of every bucket; the last bucket includes `high`."""
        if self.edges is not None:
            e = self.edges
        else:
            width = (self.high - self.low) / self.bins
            e = [self.low + i * width for i in range(self.bins)] + [self.high]
        return list(zip(e, e[1:], strict=False))

    def level_names(self) -> list[str]:
        """Bucket names such as `4-6`, covering [low, high] without gaps."""
        bounds = self.bounds()
        integral = all(float(x).is_integer() for b in bounds for x in b)
        width = min(hi - lo for lo, hi in bounds)
        names = []
        for i, (lo, hi) in enumerate(bounds):
            last = i == len(bounds) - 1
            if integral or width >= 1:
                lo_i = math.ceil(lo)
                hi_i = int(self.high) if last else math.ceil(hi) - 1
                names.append(f"{lo_i}-{hi_i}" if hi_i > lo_i else f"{lo_i}")
            else:
                names.append(f"{lo:g}-{hi:g}")
        if len(set(names)) != len(names):
            names = [f"{lo:g}-{hi:g}" for lo, hi in bounds]
        return names

    def midpoints(self) -> list[float]:
        return [(lo + hi) / 2 for lo, hi in self.bounds()]


class Factor(SpecModel):
    """An attribute the plan balances, e.g. eyewear with levels none / glasses / sunglasses.

    `balanced` spreads images equally over the levels; otherwise each level's proportion is
    used, levels without one share what is left. `scope="identity"` factors are fixed per
    synthetic person (e.g. skin tone), `image` factors vary from image to image.
    A factor with one level fixes that level for every image ("all frontal").
    """

    name: FactorName
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
        if self.numeric is not None and len(self.levels) != self.numeric.bins:
            raise ValueError(
                f"factor '{self.name}' has {len(self.levels)} levels for {self.numeric.bins} "
                "numeric buckets"
            )
        names = [lv.name for lv in self.levels]
        if len(set(names)) != len(names):
            raise ValueError(f"factor '{self.name}' repeats a level")
        known = FACTORS.get(self.name)
        if known is not None and self.numeric is None:
            unknown = [n for n in names if n not in known]
            if unknown:
                raise ValueError(
                    f"factor '{self.name}' has unknown level(s) {', '.join(unknown)}; "
                    f"known levels: {', '.join(known)}"
                )
        self._check_proportions()
        return self

    def _check_proportions(self) -> None:
        """Given proportions stay within 100% and leave something for the open levels."""
        given = [lv for lv in self.levels if lv.proportion is not None]
        if self.balanced and given:
            raise ValueError(f"factor '{self.name}' is balanced but also gives proportions")
        total = sum(lv.proportion or 0.0 for lv in given)
        if total > 1.0 + 1e-6:
            raise ValueError(
                f"factor '{self.name}' proportions add up to {total * 100:g}% (over 100%)"
            )
        open_levels = [lv.name for lv in self.levels if lv.proportion is None]
        if not self.balanced:
            if not open_levels and abs(total - 1.0) > 1e-6:
                raise ValueError(
                    f"factor '{self.name}' proportions add up to {total * 100:g}%, not 100%"
                )
            if open_levels and total > 1.0 - 1e-9 and given:
                raise ValueError(
                    f"factor '{self.name}': the given proportions leave nothing for "
                    f"{', '.join(open_levels)}"
                )

    def level_names(self) -> list[str]:
        return [lv.name for lv in self.levels]

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

    def derived(self) -> dict[str, dict[str, str]]:
        """Attributes implied by each level: a numeric `age` bucket implies its age group.

        The renderer and critic read `age_group`; a numeric age factor therefore also fixes
        the age group of every image, taken at the bucket's midpoint.
        """
        if self.numeric is None or self.name != "age":
            return {}
        return {
            name: {"age_group": age_group_at(mid)}
            for name, mid in zip(self.level_names(), self.numeric.midpoints(), strict=True)
        }
