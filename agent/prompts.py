"""Prompt and negative-prompt templates composed from a plan item's attribute levels.

Text-to-image models follow short, concrete descriptions best, and the critic later checks the
same attributes, so each level maps to one plain phrase. Levels a model tends to add unasked
(glasses, hats, smiles, extra people) go into the negative prompt when the plan says "none".
LLM enrichment (issue: prompt guidance) appends to these; it never replaces them.
"""

from __future__ import annotations

_MONK = {
    1: "very fair",
    2: "fair",
    3: "light",
    4: "light-medium",
    5: "medium",
    6: "medium-tan",
    7: "tan-brown",
    8: "brown",
    9: "dark brown",
    10: "very dark brown",
}
_ETHNICITY = {
    "african": "African",
    "asian": "East Asian",
    "white": "white",
    "south_asian": "South Asian",
    "hispanic": "Hispanic",
}
# (female, male, unspecified) nouns per age group.
_NOUN = {
    "child": ("girl", "boy", "child"),
    "teenager": ("teenage girl", "teenage boy", "teenager"),
    "young_adult": ("young woman", "young man", "young adult"),
    "middle_aged": ("middle-aged woman", "middle-aged man", "middle-aged adult"),
    "elderly": ("elderly woman", "elderly man", "elderly person"),
    "old": ("very old woman", "very old man", "very old person"),
    None: ("woman", "man", "person"),
}
_PLURAL = {
    "child": "children",
    "person": "people",
    "woman": "women",
    "man": "men",
}
_EXPRESSION = {
    "neutral": "with a neutral expression",
    "smile": "smiling",
    "surprise": "with a surprised expression",
    "sad": "with a sad expression",
    "angry": "with an angry expression",
    "fear": "with a fearful expression",
}
_PHRASES: dict[str, dict[str, str]] = {
    "hair_color": {
        "black": "black hair",
        "brown": "brown hair",
        "blond": "blond hair",
        "red": "red hair",
        "grey": "grey hair",
        "white": "white hair",
    },
    "hair_style": {
        "short": "short hair",
        "long": "long hair",
        "curly": "curly hair",
        "bald": "bald head",
        "ponytail": "hair in a ponytail",
    },
    "eye_color": {lv: f"{lv} eyes" for lv in ("brown", "blue", "green", "hazel", "grey")},
    "eyes": {"open": "eyes open", "closed": "eyes closed"},
    "head_pose": {
        "frontal": "facing the camera",
        "left": "head turned to the left",
        "right": "head turned to the right",
        "tilted": "head tilted",
    },
    "eyewear": {"none": "", "glasses": "wearing glasses", "sunglasses": "wearing sunglasses"},
    "hat": {"none": "", "hat": "wearing a hat"},
    "mask": {"none": "", "mask": "wearing a face mask"},
    "background": {
        "plain": "plain studio background",
        "gradient": "soft gradient background",
        "indoor": "indoor background",
        "outdoor": "outdoor background",
    },
    "lighting": {
        "front": "soft front lighting",
        "left": "light from the left",
        "right": "light from the right",
        "top": "light from above",
    },
}
# Attribute levels whose absence models tend to ignore: say what must not appear.
_NEGATIVE: dict[str, dict[str, str]] = {
    "eyewear": {"none": "glasses, sunglasses", "glasses": "sunglasses", "sunglasses": ""},
    "hat": {"none": "hat, cap"},
    "mask": {"none": "face mask"},
    "eyes": {"open": "closed eyes", "closed": "open eyes"},
    "expression": {"neutral": "smiling, laughing"},
    "head_pose": {"frontal": "profile view"},
}
BASE_NEGATIVE = (
    "blurry, out of focus, deformed face, distorted features, cropped face, cut-off head, "
    "watermark, text, lowres, nsfw, nudity"
)
_HANDLED = {"skin_tone", "ethnicity", "age_group", "gender", "expression", "age"}


def _noun(attributes: dict[str, str]) -> str:
    female, male, neutral = _NOUN.get(attributes.get("age_group"), _NOUN[None])
    gender = attributes.get("gender")
    return female if gender == "female" else male if gender == "male" else neutral


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
        words.append(_ETHNICITY.get(ethnicity, ethnicity.replace("_", " ")))
    if faces > 1:
        core = " ".join([*words, _plural(noun)])
        return f"{faces} {core}{aged}"
    core = " ".join([*words, noun])
    return f"{_article(core)} {core}{aged}"


def build_prompt(
    attributes: dict[str, str],
    *,
    style: str = "photorealistic",
    faces: int = 1,
    description: str = "",
) -> tuple[str, str]:
    """(prompt, negative prompt) for one image with these attribute levels."""
    parts = []
    kind = "portrait photo" if faces == 1 else "photo"
    lead = f"{style} {kind} of {subject_phrase(attributes, faces)}".strip()
    expression = attributes.get("expression")
    if expression:
        lead += f" {_EXPRESSION.get(expression, f'with a {expression} expression')}"
    parts.append(lead)
    tone = attributes.get("skin_tone", "")
    if tone.startswith("monk_") and tone[5:].isdigit():
        n = int(tone[5:])
        parts.append(f"{_MONK.get(n, 'medium')} skin (Monk skin tone {n})")
    for factor, level in attributes.items():
        if factor in _HANDLED or factor == "skin_tone":
            continue
        phrase = _PHRASES.get(factor, {}).get(level)
        if phrase is None:
            phrase = f"{factor.replace('_', ' ')}: {level.replace('_', ' ')}"
        if phrase:
            parts.append(phrase)
    if description:
        parts.append(description.strip())
    parts.append("sharp focus, natural detail")
    negative = [BASE_NEGATIVE]
    for factor, level in attributes.items():
        extra = _NEGATIVE.get(factor, {}).get(level)
        if extra:
            negative.append(extra)
    if faces == 1:
        negative.append("multiple people, extra faces")
    if style.startswith("photo"):
        negative.append("cartoon, illustration, painting")
    return ", ".join(parts), ", ".join(negative)
