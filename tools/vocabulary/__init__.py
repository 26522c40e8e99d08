"""The attribute vocabulary every part of facetory agrees on.

The planner balances any factor a spec names, but only the factors listed here are
*understood*: the procedural renderer draws them and the critic can measure some of them.
Keeping the names in one place stops the renderer, critic and parser drifting apart: the
levels, their synonyms, prompt phrases, what the renderer draws and which check verifies each
factor are data in `factors.yaml`, read here once.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator


class LevelWords(BaseModel):
    """One level of a factor: the words people use for it, what prompts say and what the
    renderer and critic need to know about it (each key is documented in `factors.yaml`)."""

    model_config = ConfigDict(extra="forbid")

    words: list[str] = Field(min_length=1)
    prompt: str = ""
    negative: str = ""
    transform: str | None = None
    prior: float | dict[str, float] | None = None
    unmeasured: bool = False
    years: tuple[int, int] | None = None
    nouns: dict[str, str] | None = None
    minor: bool = False
    adult: bool = False
    hair_grey: float = Field(default=0.0, ge=0.0, le=1.0)
    skin_tones: tuple[int, int] | None = None
    shade: Literal["light", "dark"] | None = None
    mirror: str | None = None


#: Level keys that, given for one level of a factor, must be given for all of its levels.
_ALL_OR_NONE = ("transform", "prior", "years", "nouns", "skin_tones", "shade")


class FactorWords(BaseModel):
    """One factor of `factors.yaml` (each key is documented at the top of that file)."""

    model_config = ConfigDict(extra="forbid")

    title: str
    names: list[str] = Field(min_length=1)
    scope: Literal["image", "identity"] = "image"
    rest: str | None = None
    unasked: Literal["neutral", "varied"] = "varied"
    drawn: str
    checked: str | None = None
    check: Literal["attributes", "demographics"] | None = None
    worn: Literal["accessory", "covering"] | None = None
    probe: str | None = None
    prior_given: Literal["gender", "shade"] | None = None
    subject: str | None = None
    levels: dict[str, LevelWords] = Field(min_length=1)

    @model_validator(mode="after")
    def _complete(self) -> FactorWords:
        """A fact given for some levels only would leave a table with a hole in it."""
        for key in _ALL_OR_NONE:
            given = [name for name, lv in self.levels.items() if getattr(lv, key) is not None]
            if given and len(given) != len(self.levels):
                missing = sorted(set(self.levels) - set(given))
                raise ValueError(f"{key} is given for {given[0]} but not for {', '.join(missing)}")
        if self.rest is not None and self.rest not in self.levels:
            raise ValueError(f"rest level {self.rest!r} is not a level")
        for name, lv in self.levels.items():
            if lv.mirror is not None and lv.mirror not in self.levels:
                raise ValueError(f"{name} mirrors to {lv.mirror!r}, which is not a level")
        return self


def _check_keys(vocabulary: dict[str, FactorWords]) -> None:
    """Keyed priors name exactly the keys their `prior_given` offers; an ethnicity's skin
    tones are Monk levels there are."""
    tones = len(vocabulary["skin_tone"].levels)
    for name, body in vocabulary["ethnicity"].levels.items():
        low, high = body.skin_tones or (1, tones)
        if not 1 <= low <= high <= tones:
            raise ValueError(f"ethnicity.{name}: skin_tones {[low, high]} not within 1..{tones}")
    keys = {
        "gender": set(vocabulary["gender"].levels),
        "shade": {lv.shade for lv in vocabulary["skin_tone"].levels.values()},
    }
    for name, factor in vocabulary.items():
        for level, body in factor.levels.items():
            want = keys[factor.prior_given] if factor.prior_given else None
            got = set(body.prior) if isinstance(body.prior, dict) else None
            if got != want and body.prior is not None:
                raise ValueError(
                    f"{name}.{level}: prior keys {sorted(got or [])} should be {sorted(want or [])}"
                )


def _load() -> dict[str, FactorWords]:
    data = yaml.safe_load((Path(__file__).with_name("factors.yaml")).read_text(encoding="utf-8"))
    vocabulary = {name: FactorWords.model_validate(body) for name, body in data.items()}
    _check_keys(vocabulary)
    return vocabulary


#: The whole vocabulary, from `factors.yaml`, in display order.
VOCABULARY: dict[str, FactorWords] = _load()

#: Canonical factors and their levels, in display order.
FACTORS: dict[str, tuple[str, ...]] = {f: tuple(v.levels) for f, v in VOCABULARY.items()}

#: Factors drawn at their neutral (`rest`) level when a request does not mention them, so
#: nothing is worn that was not asked for (`unasked: neutral` in factors.yaml).
NEUTRAL: dict[str, str] = {
    f: str(v.rest) for f, v in VOCABULARY.items() if v.unasked == "neutral" and v.rest
}
#: Factors the renderer varies per image or person when a request does not mention them; the
#: plan declares each level it draws in the item's `variation`.
VARIED: tuple[str, ...] = tuple(f for f in VOCABULARY if f not in NEUTRAL)
#: Factors fixed per synthetic person in identity datasets (`scope: identity`).
IDENTITY_SCOPE: tuple[str, ...] = tuple(f for f, v in VOCABULARY.items() if v.scope == "identity")
#: Factors worn over the face or head (`worn:`): drawn only when asked, 'none' by default.
WORN: tuple[str, ...] = tuple(f for f, v in VOCABULARY.items() if v.worn)
#: The factors the word "accessories" names.
ACCESSORIES: tuple[str, ...] = tuple(f for f, v in VOCABULARY.items() if v.worn == "accessory")


#: Per factor, the levels a horizontal flip turns into others ('left' -> 'right').
MIRRORED: dict[str, dict[str, str]] = {
    f: {name: lv.mirror for name, lv in v.levels.items() if lv.mirror}
    for f, v in VOCABULARY.items()
    if any(lv.mirror for lv in v.levels.values())
}


@cache
def prior(factor: str, given: str | None = None) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """(levels, weights) the renderer draws a factor from when a request leaves it open;
    `given` is the key of a factor with `prior_given` (a gender level, a skin shade). Levels
    of weight zero are left out (a draw never lands on them)."""
    pairs = []
    for name, body in VOCABULARY[factor].levels.items():
        weight = body.prior[str(given)] if isinstance(body.prior, dict) else body.prior
        if weight is None:
            raise KeyError(f"{factor} has no prior weights in factors.yaml")
        if weight > 0:
            pairs.append((name, float(weight)))
    return tuple(n for n, _ in pairs), tuple(w for _, w in pairs)


def _photo_words() -> tuple[str, ...]:
    data = yaml.safe_load((Path(__file__).with_name("styles.yaml")).read_text(encoding="utf-8"))
    return tuple(str(w).lower() for w in data["photographic"])


#: Words that ask for photographs (`styles.yaml`).
PHOTO_WORDS: tuple[str, ...] = _photo_words()


def photo_words(text: str) -> list[str]:
    """The words of `text` that ask for photographs, in the order they appear."""
    plain = " " + re.sub(r"[^a-z0-9]+", " ", text.lower()) + " "
    found = [(plain.find(f" {w} "), w) for w in PHOTO_WORDS if f" {w} " in plain]
    words = [w for _, w in sorted(found)]
    return [w for w in words if not any(f" {w} " in f" {o} " for o in words if o != w)]


def inflections(phrase: str) -> list[str]:
    """The written forms of a vocabulary phrase: as given, with hyphens or spaces between its
    words, and with its last word in the plural ('face mask' -> 'face-masks', ...)."""
    words = phrase.lower().replace("-", " ").split()
    forms = {phrase.lower()}
    for joiner in (" ", "-", ""):
        base = joiner.join(words)
        forms.add(base)
        if base[-1:] not in "s" and base[-1:].isalpha():
            forms.add(base + ("es" if base.endswith(("sh", "ch", "x")) else "s"))
    return sorted(forms, key=len, reverse=True)


#: Age in years covered by each age group (inclusive low, exclusive high): the boundaries of
#: the aging paper (arXiv 2307.08585), which the critic's age check reads estimates against.
AGE_GROUP_YEARS: dict[str, tuple[int, int]] = {
    name: body.years for name, body in VOCABULARY["age_group"].levels.items() if body.years
}
#: Age groups of minors (`minor: true`).
MINOR_AGE_GROUPS: frozenset[str] = frozenset(
    name for name, body in VOCABULARY["age_group"].levels.items() if body.minor
)
#: Per factor, its levels drawn on adults only (`adult: true`): never with a minor age group.
ADULT_ONLY: dict[str, frozenset[str]] = {
    f: frozenset(name for name, lv in v.levels.items() if lv.adult)
    for f, v in VOCABULARY.items()
    if any(lv.adult for lv in v.levels.values())
}

#: Typical Monk skin-tone range for each ethnicity label (used only to render, never to judge).
ETHNICITY_SKIN_TONES: dict[str, tuple[int, int]] = {
    name: body.skin_tones
    for name, body in VOCABULARY["ethnicity"].levels.items()
    if body.skin_tones
}


def age_group_at(years: float) -> str:
    """The age group holding an age in years (beyond the last group: the last; below zero:
    the first)."""
    groups = tuple(AGE_GROUP_YEARS)
    for group, (low, high) in AGE_GROUP_YEARS.items():
        if low <= years < high:
            return group
    return groups[-1] if years >= 0 else groups[0]


#: Reason codes of the critic and duplicate check, and the words a person reads for each
#: (`reasons.yaml`); `attribute_mismatch:<factor>` is open-ended.
REASON_WORDS: dict[str, str] = yaml.safe_load(
    Path(__file__).with_name("reasons.yaml").read_text(encoding="utf-8")
)
REASONS: tuple[str, ...] = tuple(REASON_WORDS)


def reason_words(code: str) -> str:
    """A reason code in words ('attribute_mismatch:eyewear' -> 'eyewear not as planned'), so a
    summary reads without the taxonomy at hand."""
    base, _, factor = code.partition(":")
    words = REASON_WORDS.get(base)
    if words is None:
        return code.replace("_", " ")
    return words.format(factor=factor.replace("_", " ") or "an attribute")


def is_known_factor(name: str) -> bool:
    """True if `name` is a factor the renderer draws (others only shape the prompt)."""
    return name in FACTORS
