"""Prompt and negative-prompt templates composed from a plan item's attribute levels.

Text-to-image models follow short, concrete descriptions best, and the critic later checks the
same attributes, so each level maps to one plain phrase. Levels a model tends to add unasked
(glasses, hats, smiles, extra people) go into the negative prompt when the plan says "none".
LLM enrichment (issue: prompt guidance) appends to these; it never replaces them.
"""

from __future__ import annotations

from agent.language.spec import ClassSpec
from tools.config import DEFAULT_STYLE
from tools.vocabulary import VOCABULARY

#: Irregular English plurals of the last word of a subject noun.
_PLURAL = {
    "child": "children",
    "person": "people",
    "woman": "women",
    "man": "men",
}


def _phrase(factor: str, level: str) -> str | None:
    """The vocabulary's prompt phrase for a level (None: the level is not in the vocabulary)."""
    words = VOCABULARY.get(factor)
    entry = words.levels.get(level) if words is not None else None
    return entry.prompt if entry is not None else None


def _negative(factor: str, level: str) -> str:
    words = VOCABULARY.get(factor)
    entry = words.levels.get(level) if words is not None else None
    return entry.negative if entry is not None else ""


BASE_NEGATIVE = (
    "blurry, out of focus, deformed face, distorted features, cropped face, cut-off head, "
    "watermark, text, lowres, nsfw, nudity"
)
_HANDLED = {"skin_tone", "ethnicity", "age_group", "gender", "expression", "age"}


def class_phrase(cls: ClassSpec) -> str:
    """What a class adds to its prompts: its description, else its name when no vocabulary
    level stands for it ('earrings' must reach the prompt, 'sunglasses' already does)."""
    if cls.description.strip():
        return cls.description.strip()
    if cls.attributes or cls.name.strip().lower() in ("face", "faces"):
        return ""
    return cls.name


def _noun(attributes: dict[str, str]) -> str:
    """The subject noun: the age group's noun for the gender ('girl'), else the age group's
    prompt ('teenager'), else the gender's ('woman'), else the vocabulary's subject."""
    gender = str(attributes.get("gender"))
    age = VOCABULARY["age_group"].levels.get(str(attributes.get("age_group")))
    if age is not None:
        return (age.nouns or {}).get(gender) or age.prompt
    level = VOCABULARY["gender"].levels.get(gender)
    return level.prompt if level is not None else str(VOCABULARY["gender"].subject)


def _plural(noun: str) -> str:
    head, _, last = noun.rpartition(" ")
    last = _PLURAL.get(last, last + "s")
    return f"{head} {last}".strip()


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def subject_phrase(attributes: dict[str, str], faces: int = 1) -> str:
    """`a smiling South Asian girl` / `3 East Asian young women`, from the subject attributes."""
    noun = _noun(attributes)
    words = []
    age = attributes.get("age")
    aged = f" aged {age}" if age else ""
    ethnicity = attributes.get("ethnicity")
    if ethnicity:
        words.append(_phrase("ethnicity", ethnicity) or ethnicity.replace("_", " "))
    if faces > 1:
        core = " ".join([*words, _plural(noun)])
        return f"{faces} {core}{aged}"
    core = " ".join([*words, noun])
    return f"{_article(core)} {core}{aged}"


def _attribute_phrases(attributes: dict[str, str]) -> list[str]:
    """The phrases of the levels the subject phrase does not already say, skin tone first."""
    parts = []
    tone = attributes.get("skin_tone")
    if tone:
        parts.append(_phrase("skin_tone", tone) or f"skin tone {tone.replace('_', ' ')}")
    for factor, level in attributes.items():
        if factor in _HANDLED or factor == "skin_tone":
            continue
        phrase = _phrase(factor, level)
        if phrase is None:
            phrase = f"{factor.replace('_', ' ')}: {level.replace('_', ' ')}"
        if phrase:
            parts.append(phrase)
    return parts


def _negative_prompt(attributes: dict[str, str], style: str, faces: int) -> str:
    """What the model should avoid: the usual defects plus what each level rules out."""
    negative = [BASE_NEGATIVE]
    negative += [extra for f, lv in attributes.items() if (extra := _negative(f, lv))]
    if faces == 1:
        negative.append("multiple people, extra faces")
    if style.startswith("photo"):
        negative.append("cartoon, illustration, painting")
    return ", ".join(negative)


def build_prompt(
    attributes: dict[str, str],
    *,
    style: str = DEFAULT_STYLE,
    faces: int = 1,
    description: str = "",
) -> tuple[str, str]:
    """(prompt, negative prompt) for one image with these attribute levels (an empty style:
    the default look, which the request did not ask for but a prompt still needs)."""
    style = style or DEFAULT_STYLE
    kind = "portrait photo" if faces == 1 else "photo"
    lead = f"{style} {kind} of {subject_phrase(attributes, faces)}".strip()
    expression = attributes.get("expression")
    if expression:
        lead += f" {_phrase('expression', expression) or f'with a {expression} expression'}"
    parts = [lead, *_attribute_phrases(attributes)]
    if description:
        parts.append(description.strip())
    parts.append("sharp focus, natural detail")
    return ", ".join(parts), _negative_prompt(attributes, style, faces)
