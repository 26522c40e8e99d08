"""The attribute vocabulary every part of facetory agrees on.

The planner balances any factor a spec names, but only the factors listed here are
*understood*: the procedural renderer draws them and the critic can measure some of them.
Keeping the names in one place stops the renderer, critic and parser drifting apart: the
levels, their synonyms, prompt phrases, what the renderer draws and which check verifies each
factor are data in `factors.yaml`, read here once.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field


class LevelWords(BaseModel):
    """One level of a factor: the words people use for it and what text prompts say."""

    model_config = ConfigDict(extra="forbid")

    words: list[str] = Field(min_length=1)
    prompt: str = ""
    negative: str = ""


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
    levels: dict[str, LevelWords] = Field(min_length=1)


def _load() -> dict[str, FactorWords]:
    data = yaml.safe_load((Path(__file__).with_name("factors.yaml")).read_text(encoding="utf-8"))
    return {name: FactorWords.model_validate(body) for name, body in data.items()}


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
    "child": (0, 15),
    "teenager": (15, 30),
    "young_adult": (30, 40),
    "middle_aged": (40, 50),
    "elderly": (50, 65),
    "old": (65, 120),
}

#: Typical Monk skin-tone range for each ethnicity label (used only to render, never to judge).
ETHNICITY_SKIN_TONES: dict[str, tuple[int, int]] = {
    "african": (7, 10),
    "asian": (2, 5),
    "white": (1, 3),
    "south_asian": (5, 8),
    "hispanic": (3, 6),
}

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
