"""Plain language (or YAML) -> DatasetSpec.

Two modes, chosen by configuration (`agent.llm`): with an OpenAI-compatible endpoint the LLM
writes the spec as JSON, validated by pydantic with repair rounds; offline (the default when no
endpoint is set, or with `--offline`) a deterministic rule-based reader handles the plain English
of `specs/*.txt`: totals and per-class counts, class lists, percentages per level, "balanced
across ...", age ranges, image size, task words, faces per image, identities, constraints,
splits, thresholds, budget and seed.

The offline reader marks every word it uses. Whatever meaningful words are left over make the
request fail with those words quoted: it never silently drops a requirement. Later statements
win over earlier ones ("300 faces ... make it 600 faces"), which is how reviewer feedback is
applied offline. Safety (`agent.safety`) is checked on the words and on the parsed spec.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from agent.safety import check_request
from agent.spec import MAX_IMAGES, DatasetSpec, SpecError, validation_message
from tools.vocabulary import AGE_GROUP_YEARS, FACTORS

# --- vocabulary: words -> factors and levels -------------------------------------------------

_B, _E = r"(?<![\w-])", r"(?![\w-])"

#: (regex, factor, level), most specific first. Bare vocabulary names are added per factor.
_LEVELS: list[tuple[str, str, str]] = [
    (r"no (?:glasses|eyewear|spectacles)|without (?:glasses|eyewear)", "eyewear", "none"),
    (r"sun ?glasses|shades", "eyewear", "sunglasses"),
    (r"(?:eye ?|clear |prescription )?glasses|spectacles", "eyewear", "glasses"),
    (r"no hats?|without (?:a )?hats?|bare-?headed", "hat", "none"),
    (r"hats?|caps?|beanies?", "hat", "hat"),
    (r"no (?:face )?masks?|without (?:a )?(?:face )?masks?|unmasked", "mask", "none"),
    (r"(?:face |surgical )?masks?|masked", "mask", "mask"),
    (r"eyes? closed|closed eyes|eyes shut|blinking", "eyes", "closed"),
    (r"eyes? open|open eyes", "eyes", "open"),
    (r"neutral(?: expressions?| faces?)?|expressionless", "expression", "neutral"),
    (r"smil(?:e|es|ing)|happy|happiness|laughing", "expression", "smile"),
    (r"surprised?", "expression", "surprise"),
    (r"sad|sadness|unhappy", "expression", "sad"),
    (r"angry|anger", "expression", "angry"),
    (r"fear|fearful|afraid|scared|frightened", "expression", "fear"),
    (r"frontal|front-facing|facing (?:the )?camera", "head_pose", "frontal"),
    (
        r"(?:head )?turned (?:to the )?left|looking left|facing left|left profile",
        "head_pose",
        "left",
    ),
    (
        r"(?:head )?turned (?:to the )?right|looking right|facing right|right profile",
        "head_pose",
        "right",
    ),
    (r"tilted(?: heads?)?|head tilts?", "head_pose", "tilted"),
    (r"females?|wom[ae]n|feminine", "gender", "female"),
    (r"males?|m[ae]n|masculine", "gender", "male"),
    (r"south asian/indian|south asians?|indian", "ethnicity", "south_asian"),
    (r"(?:east )?asians?", "ethnicity", "asian"),
    (r"african(?: american)?s?|black(?! hair)", "ethnicity", "african"),
    (r"white(?! (?:hair|background))|caucasian|european", "ethnicity", "white"),
    (r"hispanic|latin[oax]s?|latine", "ethnicity", "hispanic"),
    (r"young adults?", "age_group", "young_adult"),
    (r"middle[- ]aged(?: adults?)?", "age_group", "middle_aged"),
    (r"elderly|seniors?", "age_group", "elderly"),
    (r"teen(?:ager)?s?|adolescents?", "age_group", "teenager"),
    (r"very old|old", "age_group", "old"),
    (r"black hair(?:ed)?", "hair_color", "black"),
    (r"brown hair(?:ed)?|brunettes?", "hair_color", "brown"),
    (r"blonde?s?(?: hair(?:ed)?)?", "hair_color", "blond"),
    (r"red ?heads?|red hair(?:ed)?|ginger", "hair_color", "red"),
    (r"gr[ae]y hair(?:ed)?", "hair_color", "grey"),
    (r"white hair(?:ed)?", "hair_color", "white"),
    (r"short hair", "hair_style", "short"),
    (r"long hair", "hair_style", "long"),
    (r"curly hair", "hair_style", "curly"),
    (r"bald", "hair_style", "bald"),
    (r"ponytails?", "hair_style", "ponytail"),
    (r"brown eyes", "eye_color", "brown"),
    (r"blue eyes", "eye_color", "blue"),
    (r"green eyes", "eye_color", "green"),
    (r"hazel eyes", "eye_color", "hazel"),
    (r"gr[ae]y eyes", "eye_color", "grey"),
    (r"plain(?: backgrounds?)?", "background", "plain"),
    (r"gradient(?: backgrounds?)?", "background", "gradient"),
    (r"indoors?(?: backgrounds?| scenes?)?", "background", "indoor"),
    (r"outdoors?(?: backgrounds?| scenes?)?", "background", "outdoor"),
    (r"front(?:al)? lighting|lit from the front", "lighting", "front"),
    (r"lit from (?:the )?left|left lighting", "lighting", "left"),
    (r"lit from (?:the )?right|right lighting", "lighting", "right"),
    (r"lit from above|top lighting|overhead lighting", "lighting", "top"),
]
_LEVELS += [(rf"monk(?: skin tone)? ?{i}", "skin_tone", f"monk_{i}") for i in range(10, 0, -1)]

#: (regex, factors) for factor names.
_FACTOR_NAMES: list[tuple[str, tuple[str, ...]]] = [
    (r"skin ?tones?|skin colou?rs?|monk(?: skin tone)? scale|skin", ("skin_tone",)),
    (r"age ?groups?|age bands?|ages?", ("age_group",)),
    (r"genders?(?: presentations?)?|sex(?:es)?", ("gender",)),
    (r"ethnicit(?:y|ies)|ethnic (?:groups?|backgrounds?)|races?", ("ethnicity",)),
    (r"hair colou?rs?", ("hair_color",)),
    (r"hair ?styles?|haircuts?", ("hair_style",)),
    (r"eye colou?rs?", ("eye_color",)),
    (r"(?:facial |micro[- ]?)?expressions?|emotions?", ("expression",)),
    (r"eye state|eyes open or closed", ("eyes",)),
    (r"head ?poses?|poses?|head orientations?|head angles?", ("head_pose",)),
    (r"eyewear", ("eyewear",)),
    (r"headwear", ("hat",)),
    (r"backgrounds?", ("background",)),
    (r"lighting|illumination", ("lighting",)),
    (r"accessories", ("eyewear", "hat")),
]
#: When percentages name only some levels, the rest goes to this level (else: spread equally).
_REST = {
    "eyewear": "none",
    "hat": "none",
    "mask": "none",
    "eyes": "open",
    "expression": "neutral",
    "head_pose": "frontal",
}
_ACCESSORY_NONE = {"eyewear": "none", "hat": "none", "mask": "none"}
_INTRINSIC = ("skin_tone", "gender", "ethnicity", "eye_color", "age_group")
_ADULT = ("young_adult", "middle_aged", "elderly", "old")

_FILLER_WORDS = """a an the of in into on at to for with and or but so that this these those
    each every all
    any as by from is are be being been will should must would can could please i we you want
    need make create generate build produce give me us our my it its them their they there here
    some also then just about around approximately roughly total overall altogether in-all
    dataset datasets data set images image photos photo pictures picture faces face portraits
    portrait samples sample people persons person headshots headshot shots frames frame synthetic
    artificial high quality diverse variety various mix different distinct unique new yolo model
    models train training trained using use one ones per both while where which who have has
    having wear wearing show showing look looking appear appearing kind sort like such than
    across over between among within plus only including include includes"""
_FILLER = set(_FILLER_WORDS.split())

_NUM = r"\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?"
_WORDNUM = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "dozen": 12,
}  # fmt: skip


def _compile(rx: str) -> re.Pattern[str]:
    return re.compile(_B + "(?:" + rx + ")" + _E)


_LEVEL_RX = [(_compile(rx), f, lv) for rx, f, lv in _LEVELS]
_FACTOR_RX = [(_compile(rx), fs) for rx, fs in _FACTOR_NAMES]
_ANY_LEVEL = "|".join(rx for rx, _, _ in _LEVELS)


def _number(text: str) -> float:
    text = text.replace(",", "").strip()
    mult = 1
    for suffix, m in (("million", 1_000_000), ("thousand", 1000), ("k", 1000), ("m", 1_000_000)):
        if text.endswith(suffix):
            text, mult = text[: -len(suffix)].strip(), m
            break
    return float(text) * mult


def _words_to_digits(text: str) -> str:
    """'three hundred' -> '300', 'five' -> '5' (so the rules only need digits)."""
    units = "|".join(sorted(_WORDNUM, key=len, reverse=True))
    rx = re.compile(
        rf"\b(?:(?:{units})(?:[ -](?:{units}))*)(?:\s+(thousand|million))?\b", re.IGNORECASE
    )

    def value(m: re.Match[str]) -> str:
        words = re.split(r"[ -]", m.group(0).lower())
        total, current = 0, 0
        for w in words:
            if w in ("thousand", "million"):
                total += max(current, 1) * (1000 if w == "thousand" else 1_000_000)
                current = 0
            elif w == "hundred":
                current = max(current, 1) * 100
            else:
                current += _WORDNUM[w]
        return str(total + current)

    return rx.sub(value, text)


# --- the offline reader ----------------------------------------------------------------------


@dataclass
class _Draft:
    """What the words asked for, before it becomes a DatasetSpec."""

    name: str | None = None
    task: str | None = None
    total: int | None = None
    per_class: int | None = None
    per_cell: int | None = None
    class_factor: str | None = None
    classes: list[tuple[str, int | None]] = field(default_factory=list)
    class_count: int | None = None
    balanced: dict[str, list[str] | None] = field(default_factory=dict)
    shares: dict[str, dict[str, float]] = field(default_factory=dict)
    fixed: dict[str, str] = field(default_factory=dict)
    image_scope: set[str] = field(default_factory=set)
    age: tuple[int, int, int | None] | None = None
    identities: tuple[int, int] | None = None
    faces: int | tuple[int, int] | None = None
    constraints: list[dict[str, Any]] = field(default_factory=list)
    children: bool = False
    adults: bool = False
    top: dict[str, Any] = field(default_factory=dict)


class _Reader:
    def __init__(self, text: str) -> None:
        text = text.replace("\u2013", "-").replace("\u2014", ",").replace("\u00d7", "x")
        text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\r", "\n")
        self.text = _words_to_digits(text)
        self.low = "".join((c.lower() or c)[0] for c in self.text)
        self.used = bytearray(len(self.text))
        self.d = _Draft()

    # span bookkeeping
    def free(self, start: int, end: int) -> bool:
        return not any(self.used[start:end])

    def take(self, start: int, end: int) -> None:
        self.used[start:end] = b"\x01" * (end - start)

    def matches(self, rx: str | re.Pattern[str], flags: int = 0):
        pattern = re.compile(rx, flags) if isinstance(rx, str) else rx
        pos = 0
        while pos <= len(self.low):
            m = pattern.search(self.low, pos)
            if m is None:
                return
            if self.free(m.start(), m.end()):
                yield m
                pos = max(m.end(), m.start() + 1)
            else:  # overlaps words already used: look for a later or shorter match
                pos = m.start() + 1

    def original(self, start: int, end: int) -> str:
        return self.text[start:end]

    # vocabulary lookups
    @staticmethod
    def level_of(phrase: str, factor: str | None = None) -> tuple[str, str] | None:
        phrase = " ".join(phrase.lower().replace("_", " ").split()).strip(" .,:;()")
        if factor is not None:
            for lv in FACTORS.get(factor, ()):
                if phrase in (lv, lv.replace("_", " "), lv.replace("_", "-")):
                    return factor, lv
        for rx, f, lv in _LEVEL_RX:
            if (factor is None or f == factor) and rx.fullmatch(phrase):
                return f, lv
        if factor == "eyewear" and phrase in ("none", "no eyewear"):
            return "eyewear", "none"
        if factor in _ACCESSORY_NONE and phrase == "none":
            return factor, "none"
        return None

    def fail(self, message: str) -> SpecError:
        return SpecError(message)

    # --- recognisers -------------------------------------------------------------------------
    def negatives(self) -> None:
        rx = r"(?<![\w.])-\s*\d[\d,]*\s*(?:images?|faces?|photos?|per|each|people|persons|"
        rx += r"identities|classes|%)"
        for m in self.matches(rx):
            raise self.fail(f"counts must be positive, got '{m.group(0).strip()}'")

    def run(self) -> _Draft:
        self.negatives()
        for step in (
            self.title,
            self.seed,
            self.image_size,
            self.splits,
            self.quality,
            self.budget,
            self.generation,
            self.identities,
            self.faces,
            self.age_range,
            self.grid,
            self.class_lists,
            self.classify,
            self.task,
            self.per_class,
            self.constraints,
            self.percentages,
            self.per_identity,
            self.balanced,
            self.same,
            self.totals,
            self.subject,
            self.context,
            self.factor_mentions,
        ):
            step()
        self.leftovers()
        return self.d

    def title(self) -> None:
        m = re.match(r"\s*([^\n:.;]{1,80}?)\s*:\s", self.low)
        if m and len(m.group(1).split()) <= 8 and "class" not in m.group(1):
            self.d.name = " ".join(self.original(m.start(1), m.end(1)).split())
            self.take(m.start(), m.end())

    def seed(self) -> None:
        for m in self.matches(r"\b(?:random )?seed(?:\s*(?:=|:|of|is))?\s*(\d+)\b"):
            self.d.top["seed"] = int(m.group(1))
            self.take(m.start(), m.end())

    def image_size(self) -> None:
        pats = [
            r"\b(\d{2,4})\s*x\s*(\d{2,4})(?:\s*(?:px|pixels?))?",
            r"\b(?:image size|resolution)\s*(?:of\s*)?(\d{2,4})(?:\s*(?:px|pixels?))?()",
            r"\b(\d{2,4})\s*(?:-\s*)?(?:px|pixels?)\b()",
        ]
        for rx in pats:
            for m in self.matches(rx):
                w = int(m.group(1))
                h = int(m.group(2)) if m.group(2) else w
                if w != h:
                    raise self.fail(
                        f"image size {w}x{h} is not square; facetory makes square images "
                        "(e.g. 512x512)"
                    )
                self.d.top["image_size"] = w
                self.take(m.start(), m.end())
        for m in self.matches(r"\b(?:at|in)\s+(?=\d{2,4}\s*(?:x|px|pixels))"):
            self.take(m.start(), m.end())

    def splits(self) -> None:
        rx = (
            r"(?:\b(?:train\s*/\s*val(?:idation)?\s*/\s*test|split(?:s)?)\s*(?:split\s*)?"
            r"(?:of\s*|ratios?\s*)?)?\b(\d{1,2}(?:\.\d+)?)\s*/\s*(\d{1,2}(?:\.\d+)?)\s*/\s*"
            r"(\d{1,2}(?:\.\d+)?)\s*%?(?:\s*(?:train\s*/\s*val(?:idation)?\s*/\s*test))?"
            r"(?:\s*splits?)?(?:\s*by\s*(?:identity|person|people|identities))?"
        )
        for m in self.matches(rx):
            parts = [float(m.group(i)) for i in (1, 2, 3)]
            total = sum(parts)
            if abs(total - 100) < 1e-6:
                parts = [p / 100 for p in parts]
            elif abs(total - 1) > 1e-6:
                raise self.fail(
                    f"split '{self.original(m.start(), m.end()).strip()}' adds up to "
                    f"{total:g}, not 100"
                )
            self.d.top["splits"] = dict(zip(("train", "val", "test"), parts, strict=True))
            self.take(m.start(), m.end())

    def _fraction(self, text: str) -> float:
        value = _number(text.rstrip("% "))
        if text.strip().endswith("%") or value > 1:
            value /= 100
        if not 0 <= value <= 1:
            raise self.fail(f"'{text}' must be between 0 and 1 (or a percentage)")
        return value

    def quality(self) -> None:
        val = r"(\d*\.\d+|\d+\s*%|[01])"
        pats = {
            "min_critic_score": rf"\b(?:min(?:imum)?\s*)?critic score\s*(?:of\s*|at least\s*|"
            rf"above\s*|>=?\s*)?{val}",
            "duplicate_similarity": rf"\bduplicates?\s*(?:similarity\s*)?(?:limit\s*|threshold\s*|"
            rf"above\s*|over\s*|at\s*)?(?:of\s*)?{val}",
            "identity_similarity": rf"\bidentity similarity\s*(?:threshold\s*|limit\s*|"
            rf"at least\s*|above\s*)?(?:of\s*)?{val}",
            "min_faithfulness": rf"\b(?:min(?:imum)?\s*)?faithfulness\s*(?:threshold\s*|"
            rf"at least\s*|above\s*)?(?:of\s*)?{val}",
        }
        for key, rx in pats.items():
            for m in self.matches(rx):
                self.d.top.setdefault("quality", {})[key] = self._fraction(m.group(1))
                self.take(m.start(), m.end())

    def budget(self) -> None:
        pats = [
            r"\b(?:attempt\s*)?budget\s*(?:of\s*)?(\d+(?:\.\d+)?)\s*(?:x|times)?"
            r"(?:\s*(?:the\s*)?(?:target|attempts?))?",
            r"\b(?:at most|up to|max(?:imum)?)\s*(\d+(?:\.\d+)?)\s*(?:x|times)\s*(?:as many\s*)?"
            r"(?:the\s*)?(?:target\s*)?attempts?(?:\s*per image)?",
            r"\b(\d+(?:\.\d+)?)\s*attempts?\s*per image",
        ]
        for rx in pats:
            for m in self.matches(rx):
                self.d.top.setdefault("budget", {})["max_attempts_factor"] = float(m.group(1))
                self.take(m.start(), m.end())
        for m in self.matches(r"\bbatch(?:es)?\s*(?:size\s*)?(?:of\s*)?(\d+)\b"):
            self.d.top.setdefault("budget", {})["batch_size"] = int(m.group(1))
            self.take(m.start(), m.end())

    def generation(self) -> None:
        gen: dict[str, Any] = {}
        rx = (
            r"\b(?:(?:using|with|on|via)\s*)?(?:the\s*)?diffusers(?:\s*backend)?"
            r"(?:\s*(?:and|with)?\s*(?:the\s*)?(?:model|checkpoint)\s*([\w./:\\~-]+))?"
        )
        for m in self.matches(rx):
            gen["backend"] = "diffusers"
            if m.group(1):
                gen["model"] = self.original(m.start(1), m.end(1)).rstrip(".,")
            self.take(m.start(), m.end())
        for m in self.matches(
            r"\b(?:(?:using|with)\s*(?:the\s*)?)?procedural\s*(?:renderer|"
            r"backend|generator)?"
        ):
            gen["backend"] = "procedural"
            self.take(m.start(), m.end())
        for m in self.matches(r"\b(?:procedural\s*)?fault rate\s*(?:of\s*)?(\d*\.\d+|\d+\s*%)"):
            gen["fault_rate"] = self._fraction(m.group(1))
            self.take(m.start(), m.end())
        for m in self.matches(r"\b(\d+)\s*(?:inference\s*|denoising\s*|sampling\s*)?steps\b"):
            gen["steps"] = int(m.group(1))
            self.take(m.start(), m.end())
        for m in self.matches(r"\bguidance(?:\s*scale)?\s*(?:of\s*)?(\d+(?:\.\d+)?)"):
            gen["guidance_scale"] = float(m.group(1))
            self.take(m.start(), m.end())
        styles = r"photo-?realistic|realistic|photographic|cartoon|anime|illustrated|painted"
        for m in self.matches(rf"\b(?:in\s*(?:a\s*)?)?({styles})(?:\s*style)?\b"):
            word = m.group(1)
            gen["style"] = "photorealistic" if "real" in word or "photo" in word else word
            self.take(m.start(), m.end())
        if gen:
            self.d.top.setdefault("generation", {}).update(gen)

    def task(self) -> None:
        unknown = (
            r"\b(segment\w*|keypoints?|landmark (?:detection|localisation|localization)|"
            r"pose estimation|caption\w*|depth estimation|super-?resolution|verification|"
            r"recogni[sz]\w*)\b"
        )
        for m in self.matches(unknown):
            raise self.fail(
                f"unknown task '{m.group(1)}': facetory trains YOLO models to detect or "
                "classify faces; say 'detect' or 'classify'"
            )
        found = []
        for m in self.matches(
            r"\b(?:(?:train|fine-?tune)\s*(?:an?\s*)?(?:yolo\s*)?(?:face\s*)?(?:model\s*)?"
            r"(?:to\s*)?)?(detect(?:s|ion|or|ing)?|classif(?:y|ies|ication|ier|ying))"
            r"(?:\s*model)?\b"
        ):
            found.append("detect" if m.group(1).startswith("detect") else "classify")
            self.take(m.start(1), m.end())
            if m.start(1) > m.start():
                self.take(m.start(), m.start(1))
        if found:
            self.d.task = "detect" if "detect" in found else "classify"
        for m in self.matches(r"\byolo(?:v?\d+\w*)?\b"):
            self.take(m.start(), m.end())

    def identities(self) -> None:
        who = r"(?:synthetic\s*|distinct\s*|unique\s*|different\s*|fictional\s*)*"
        who += r"(?:people|persons|identities|individuals|subjects)"
        imgs = r"(?:images?|photos?|pictures?|samples?)"
        pats = [
            rf"\b({_NUM})\s*{who}\s*(?:,\s*|with\s*|and\s*|x\s*|each with\s*|)\s*"
            rf"({_NUM})\s*{imgs}\s*(?:each|per\s*(?:person|identity|individual|subject))?",
            rf"\b({_NUM})\s*{imgs}\s*(?:each\s*)?(?:of|for)\s*(?:each\s*(?:of\s*)?)?"
            rf"({_NUM})\s*{who}",
        ]
        for i, rx in enumerate(pats):
            for m in self.matches(rx):
                a, b = int(_number(m.group(1))), int(_number(m.group(2)))
                self.d.identities = (a, b) if i == 0 else (b, a)
                self.take(m.start(), m.end())
        for m in self.matches(rf"\b({_NUM})\s*{imgs}\s*per\s*(?:person|identity|individual)\b"):
            if self.d.identities is not None:
                self.d.identities = (self.d.identities[0], int(_number(m.group(1))))
                self.take(m.start(), m.end())

    def faces(self) -> None:
        who = r"(?:faces|people|persons|children|kids|subjects)"
        where = r"(?:per|in each|in every|each|an?|in one|in 1|in the same|in a)\s*"
        where += r"(?:image|frame|photo|picture)"
        pats = [
            (rf"\b(\d+)\s*(?:to|-)\s*(\d+)\s*{who}\s*(?:{where}|each)", None),
            (rf"\b(\d+)\s*{who}\s*{where}()", None),
            (rf"\b(?:several|multiple|many)\s*{who}\s*{where}()()", (2, 4)),
        ]
        for rx, preset in pats:
            for m in self.matches(rx):
                if preset is not None:
                    lo, hi = preset
                else:
                    lo = int(m.group(1))
                    hi = int(m.group(2)) if m.group(2) else lo
                if lo > hi:
                    lo, hi = hi, lo
                if not 1 <= lo <= hi <= 20:
                    raise self.fail(f"faces per image must be between 1 and 20, got {lo}-{hi}")
                self.d.faces = lo if lo == hi else (lo, hi)
                self.take(m.start(), m.end())

    def age_range(self) -> None:
        pats = [
            r"\b(?:ages?|aged|between the ages of|age range(?: of)?)\s*(\d{1,3})\s*"
            r"(?:to|-|and|through)\s*(\d{1,3})(?:\s*(?:years?(?:\s*old)?|yrs?|y/?o))?",
            r"\b(\d{1,3})\s*(?:to|-)\s*(\d{1,3})[\s-]*(?:years?|yrs?)[\s-]*(?:old|olds)?\b",
        ]
        for rx in pats:
            for m in self.matches(rx):
                lo, hi = int(m.group(1)), int(m.group(2))
                if lo >= hi:
                    raise self.fail(f"age range {lo} to {hi} is empty")
                if hi > 120:
                    raise self.fail(f"age {hi} is beyond 120")
                bins = None
                tail = re.match(
                    r"\s*(?:in|into|with)\s*(\d+)\s*(?:bins|buckets|bands|groups|levels)",
                    self.low[m.end() :],
                )
                if tail:
                    bins = int(tail.group(1))
                    self.take(m.end(), m.end() + tail.end())
                self.d.age = (lo, hi, bins)
                self.take(m.start(), m.end())

    def _factor_at(self, m: re.Match[str]) -> tuple[str, ...] | None:
        for rx, fs in _FACTOR_RX:
            if rx.fullmatch(m.group(0)):
                return fs
        return None

    def _level_list(self, start: int, end: int, factor: str) -> list[str]:
        """Levels of `factor` named between start and end (a list like 'a, b and c')."""
        chunk = self.low[start:end]
        levels = []
        for part in re.split(r",|\band\b|\bor\b|;", chunk):
            part = part.strip()
            if not part:
                continue
            hit = self.level_of(part, factor)
            if hit is None:
                raise self.fail(
                    f"'{part}' is not a level of {factor} ({', '.join(FACTORS[factor])})"
                )
            levels.append(hit[1])
        self.take(start, end)
        return levels

    def _factor_spans(self, start: int, end: int) -> list[tuple[tuple[str, ...], int, int]]:
        """Factor names between start and end, each with its span (longest match first)."""
        out = []
        sub = self.low[start:end]
        taken = bytearray(len(sub))
        for rx, fs in _FACTOR_RX:
            for m in rx.finditer(sub):
                if any(taken[m.start() : m.end()]) or not self.free(
                    start + m.start(), start + m.end()
                ):
                    continue
                taken[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
                out.append((fs, start + m.start(), start + m.end()))
        return sorted(out, key=lambda t: t[1])

    def _clause_end(self, pos: int) -> int:
        m = re.compile(r"[.;\n]|,\s*but\b|:\s").search(self.low, pos)
        return m.start() if m else len(self.low)

    def _clause_start(self, pos: int) -> int:
        cut = max(self.low.rfind(c, 0, pos) for c in ".;\n:")
        return cut + 1

    def _factors_in(self, start: int, end: int, scope_image: bool = False) -> list[str]:
        """Balanced factors named in a span, with '(levels)' lists; returns their names."""
        names = []
        for fs, s, e in self._factor_spans(start, end):
            levels = None
            paren = re.match(r"\s*\(([^)]*)\)", self.low[e:end])
            if paren:
                inner_s, inner_e = e + paren.start(1), e + paren.end(1)
                if fs == ("eyewear", "hat"):
                    levels = self._accessory_levels(inner_s, inner_e)
                else:
                    levels = {fs[0]: self._level_list(inner_s, inner_e, fs[0])}
                self.take(e, e + paren.end())
            for f in fs:
                chosen = levels.get(f) if levels else None
                if levels and chosen is None:
                    continue
                if chosen is not None and f in _ACCESSORY_NONE and "none" not in chosen:
                    chosen = ["none", *chosen]
                self.d.balanced[f] = chosen
                names.append(f)
                if scope_image:
                    self.d.image_scope.add(f)
            self.take(s, e)
        for m in re.finditer(r",|\band\b|\bor\b|\(|\)", self.low[start:end]):
            self.take(start + m.start(), start + m.end())
        return names

    def _accessory_levels(self, start: int, end: int) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for part in re.split(r",|\band\b|\bor\b", self.low[start:end]):
            part = part.strip()
            if not part:
                continue
            hit = self.level_of(part)
            if hit is None or hit[0] not in ("eyewear", "hat", "mask"):
                raise self.fail(
                    f"'{part}' is not an accessory facetory knows (glasses, "
                    "sunglasses, hats, masks)"
                )
            out.setdefault(hit[0], []).append(hit[1])
        self.take(start, end)
        return out

    def grid(self) -> None:
        for m in self.matches(r"\b(?:every|each|all)\s*combinations?\s*of\b"):
            end = self._grid_end(m.end())
            self.take(m.start(), m.end())
            names = self._factors_in(m.end(), end)
            if not names:
                raise self.fail("'every combination of' needs factors, e.g. gender and age group")
        rx = (
            rf"\b({_NUM})\s*(?:images?|faces?|photos?)?\s*(?:per|for each|in each|each)\s*"
            r"(?:combination|cell|group|combo)\b"
        )
        for m in self.matches(rx):
            self.d.per_cell = int(_number(m.group(1)))
            self.take(m.start(), m.end())

    def _grid_end(self, pos: int) -> int:
        depth = 0
        for i in range(pos, len(self.low)):
            c = self.low[i]
            depth += c == "("
            depth -= c == ")"
            if depth == 0 and (c in ".;\n" or re.match(r",\s*\d", self.low[i:])):
                return i
        return len(self.low)

    def class_lists(self) -> None:
        for m in self.matches(r"\bclasses\b\s*(?:[:(,-]|are|named|called)?\s*"):
            # look back: '[N] [factor name] classes'
            head = self.low[: m.start()]
            factor, start_used, count = None, m.start(), None
            for frx, fs in _FACTOR_RX:
                fm = re.search(rf"(?:{frx.pattern})\s*$", head)
                if fm and len(fs) == 1 and self.free(fm.start(), fm.end()):
                    factor, start_used = fs[0], fm.start()
                    break
            cm = re.search(r"\b(\d+)\s*$", self.low[:start_used])
            if cm and self.free(cm.start(), cm.end()):
                count, start_used = int(cm.group(1)), cm.start()
            start = m.end()
            closing = self.low[m.end() - 1] == "("
            end = self.low.find(")", start) if closing else self._list_end(start)
            if end < 0:
                end = self._list_end(start)
            self.take(start_used, m.end())
            if closing and end < len(self.low) and self.low[end] == ")":
                self.take(end, end + 1)
            if count is not None:
                self.d.class_count = count
            if factor:
                self.d.class_factor = factor
            self._read_classes(start, end)

    def _list_end(self, pos: int) -> int:
        m = re.compile(r"\.(?=\s|$)|[;\n]|,\s*\d|\s\d").search(self.low, pos)
        return m.start() if m else len(self.low)

    def _read_classes(self, start: int, end: int) -> None:
        classes: list[tuple[str, int | None]] = []
        for piece in re.finditer(r"[^,]+", self.text[start:end]):
            raw = piece.group(0)
            for part in re.split(r"\band\b|\bor\b", raw, flags=re.IGNORECASE):
                part = part.strip().strip("()\"'").strip()
                if not part:
                    continue
                count = None
                cm = re.match(rf"^({_NUM})\s+(.+)$", part) or re.match(
                    rf"^(.+?)\s*[:(]\s*({_NUM})\s*\)?$", part
                )
                if cm:
                    a, b = cm.group(1), cm.group(2)
                    if re.fullmatch(_NUM, a):
                        count, part = int(_number(a)), b
                    else:
                        part, count = a, int(_number(b))
                classes.append((part.strip(), count))
        self.take(start, end)
        if not classes:
            raise self.fail("a class list is empty")
        self.d.classes = classes

    def classify(self) -> None:
        for m in self.matches(r"\bclassify\s*(?:by\s*)?"):
            rest = self.low[m.end() :]
            for frx, fs in _FACTOR_RX:
                fm = frx.match(rest)
                if fm and len(fs) == 1:
                    self.take(m.start(), m.end() + fm.end())
                    self.d.task = self.d.task or "classify"
                    if self.d.class_factor is None and not self.d.classes:
                        self.d.class_factor = fs[0]
                        paren = re.match(r"\s*\(([^)]*)\)", rest[fm.end() :])
                        if paren:
                            s = m.end() + fm.end() + paren.start(1)
                            e = m.end() + fm.end() + paren.end(1)
                            levels = self._level_list(s, e, fs[0])
                            self.take(m.end() + fm.end(), m.end() + fm.end() + paren.end())
                        else:
                            levels = list(FACTORS[fs[0]])
                        self.d.classes = [(lv, None) for lv in levels]
                    elif self.d.class_factor != fs[0]:
                        raise self.fail(
                            f"the classes are {self.d.class_factor or 'named'}, but the "
                            f"request also says classify {fs[0]}"
                        )
                    break

    def per_class(self) -> None:
        rx = rf"\b({_NUM})\s*(?:images?|faces?|photos?|samples?)?\s*"
        rx += r"(?:per|for each|in each)\s*class\b"
        for m in self.matches(rx):
            self.d.per_class = int(_number(m.group(1)))
            if self.d.per_class < 1:
                raise self.fail(f"each class needs at least 1 image, got {self.d.per_class}")
            self.take(m.start(), m.end())
        if self.d.classes:
            for m in self.matches(rf"\b({_NUM})\s*each\b"):
                self.d.per_class = int(_number(m.group(1)))
                self.take(m.start(), m.end())

    def constraints(self) -> None:
        rx = (
            rf"\b(?:but\s*)?(?:no|never|not)\s+(?:any\s*)?({_ANY_LEVEL})\s+(?:with|when|while|"
            rf"and|for|on|if)\s+(?:the\s*)?(?:their\s*)?({_ANY_LEVEL})\b"
        )
        for m in self.matches(rx):
            a = self.level_of(m.group(1))
            b = self.level_of(m.group(2))
            if a is None or b is None or a[0] == b[0]:
                raise self.fail(f"cannot read the constraint '{m.group(0).strip()}'")
            self.d.constraints.append({"when": {b[0]: b[1]}, "forbid": {a[0]: [a[1]]}})
            self.take(m.start(), m.end())

    def percentages(self) -> None:
        verbs = (
            r"(?:of\s*(?:the\s*)?(?:images|faces|people|photos|them|children|kids)\s*)?"
            r"(?:(?:should\s*|will\s*)?(?:wear(?:ing)?|with|have|having|has|are|is|be|in|"
            r"show(?:ing)?|look(?:ing)?|get|gets)\s*)?(?:a\s*|an\s*|their\s*)?"
        )
        rx = rf"\b(\d+(?:\.\d+)?)\s*%\s*{verbs}({_ANY_LEVEL})(?![\w-])"
        for m in self.matches(rx):
            hit = self.level_of(m.group(2))
            if hit is None:
                continue
            self._share(hit, float(m.group(1)) / 100, m)
        rx2 = rf"(?<![\w-])({_ANY_LEVEL})\s*(?::\s*|at\s*|=\s*)?\(?\s*(\d+(?:\.\d+)?)\s*%\s*\)?"
        for m in self.matches(rx2):
            hit = self.level_of(m.group(1))
            if hit is None:
                continue
            self._share(hit, float(m.group(2)) / 100, m)
        for m in self.matches(r"\b(\d+(?:\.\d+)?)\s*%"):
            raise self.fail(
                f"cannot tell what '{self.original(m.start(), min(len(self.text), m.end() + 30))}"
                "...' applies to; write e.g. '20% wear glasses'"
            )

    def _share(self, hit: tuple[str, str], value: float, m: re.Match[str]) -> None:
        factor, level = hit
        if factor == self.d.class_factor:
            raise self.fail(
                f"{factor} is already the class; a share like "
                f"'{self.original(m.start(), m.end()).strip()}' cannot also apply"
            )
        self.d.shares.setdefault(factor, {})[level] = value
        self.take(m.start(), m.end())

    def per_identity(self) -> None:
        """'one image per age group' (identity datasets): every person at every level."""
        rx = r"\b(?:1|one)\s*(?:image|photo|picture)?\s*(?:per|for each|in each|at each)\s*"
        for m in self.matches(rx):
            spans = self._factor_spans(m.end(), self._clause_end(m.end()))
            if not spans or spans[0][1] != m.end():
                continue
            fs, s, e = spans[0]
            self.take(m.start(), m.end())
            self._factors_in(s, self._grid_end(s), scope_image=True)
            for f in fs:
                self.d.image_scope.add(f)

    def balanced(self) -> None:
        trig = (
            r"\b(?:balanced|evenly|equally|uniformly|spread(?: evenly)?|distributed|varied|"
            r"var(?:y|ies|ying)|changes?|changing)\b(?:\s*(?:across|over|by|between|in|among|"
            r"for)\b)?(?:\s*the\b)?"
        )
        for m in self.matches(trig):
            clause_s = self._clause_start(m.start())
            clause_e = self._clause_end(m.end())
            head = self.low[clause_s : m.start()]
            per_person = bool(
                re.search(r"\b(?:each|every|per)\s*(?:person|identity|individual)\b", head)
            )
            if per_person:
                pm = re.search(r"\b(?:each|every|per)\s*(?:person|identity|individual)\b", head)
                self.take(clause_s + pm.start(), clause_s + pm.end())
            self.take(m.start(), m.end())
            after = self._factor_spans(m.end(), clause_e)
            if after:
                self._factors_in(m.end(), clause_e, scope_image=per_person)
                continue
            before = self._factor_spans(clause_s, m.start())
            if not before:
                raise self.fail(
                    f"'{self.original(clause_s, clause_e).strip()}': balanced across what? "
                    "name factors such as skin tone, age group or expression"
                )
            last = before[-1]
            tail = self.low[m.end() : clause_e].strip()
            if tail and len(before) == 1 and len(last[0]) == 1:
                # "age group balanced across young adult, middle-aged and elderly"
                levels = self._level_list(m.end(), clause_e, last[0][0])
                self.d.balanced[last[0][0]] = levels
                self.take(last[1], last[2])
                if per_person:
                    self.d.image_scope.add(last[0][0])
            else:
                self._factors_in(clause_s, m.start(), scope_image=per_person)

    def same(self) -> None:
        rx = r"\b(?:same|all|only|always|fixed)\b"
        for m in self.matches(rx):
            end = self._clause_end(m.end())
            span = self.low[m.end() : end]
            tail = re.search(
                r"\b(?:in|for|across)\s*(?:every|each|all)\s*(?:the\s*)?images?\b", span
            )
            stop = m.end() + (tail.start() if tail else len(span))
            found = False
            for lm in re.finditer(
                rf"(?<![\w-])(?:{_ANY_LEVEL})(?![\w-])", self.low[m.end() : stop]
            ):
                s, e = m.end() + lm.start(), m.end() + lm.end()
                if not self.free(s, e):
                    continue
                hit = self.level_of(lm.group(0))
                if hit is None:
                    continue
                self.d.fixed[hit[0]] = hit[1]
                self.take(s, e)
                found = True
            if found:
                self.take(m.start(), m.end())
                for fs, s, e in self._factor_spans(m.end(), stop):
                    if all(f in self.d.fixed for f in fs):
                        self.take(s, e)
                if tail:
                    self.take(m.end() + tail.start(), m.end() + tail.end())
                for cm in re.finditer(r",|\band\b", self.low[m.end() : stop]):
                    self.take(m.end() + cm.start(), m.end() + cm.end())

    def totals(self) -> None:
        nouns = r"(?:images|faces|photos|pictures|portraits|samples|headshots|frames)"
        rx = rf"\b({_NUM}(?:\s*(?:k|thousand|million|m))?)\b((?:\s+[a-z-]+){{0,4}}?)\s+({nouns})\b"
        for m in re.finditer(rx, self.low):
            # the words in between (e.g. 'photorealistic child') are read by other rules
            if not (self.free(m.start(1), m.end(1)) and self.free(m.start(3), m.end(3))):
                continue
            between = m.group(2).split()
            if any(w in ("per", "each", "with", "of", "in") for w in between):
                continue
            self.d.total = int(_number(m.group(1)))
            self.take(m.start(1), m.end(1))
            self.take(m.start(3), m.end(3))
        for m in self.matches(rf"\b(?:total of|in total|overall|altogether)\s*({_NUM})\b"):
            self.d.total = int(_number(m.group(1)))
            self.take(m.start(), m.end())
        for m in self.matches(rf"(?<![\w.])-\s*({_NUM})\b"):
            raise self.fail(f"counts must be positive, got '{m.group(0).strip()}'")
        if self.d.total is not None and self.d.total < 1:
            raise self.fail(f"the number of images must be at least 1, got {self.d.total}")

    def subject(self) -> None:
        for m in self.matches(r"\b(?:child|children|kids?|child's|children's)\b"):
            self.d.children = True
            self.take(m.start(), m.end())
        for m in self.matches(r"\b(?:adults?|grown-?ups?)\b"):
            self.d.adults = True
            self.take(m.start(), m.end())

    def context(self) -> None:
        """Phrases that only frame what follows ('demographic target: ...')."""
        rx = r"\b(?:demographic (?:targets?|distributions?)|target (?:demographic )?"
        rx += r"distributions?|demographics)\b"
        for m in self.matches(rx):
            self.take(m.start(), m.end())

    def factor_mentions(self) -> None:
        """Factor names left over are context when the factor was planned ('gender 50% ...')."""
        planned = set(self.d.balanced) | set(self.d.shares) | set(self.d.fixed)
        if self.d.class_factor:
            planned.add(self.d.class_factor)
        if self.d.age:
            planned.add("age_group")
        for rx, fs in _FACTOR_RX:
            for m in self.matches(rx):
                if any(f in planned for f in fs):
                    self.take(m.start(), m.end())

    def leftovers(self) -> None:
        runs: list[str] = []
        current: list[str] = []
        for m in re.finditer(r"[^\s]+", self.text):
            s, e = m.start(), m.end()
            chunk = "".join(
                c if not self.used[s + i] else " " for i, c in enumerate(self.text[s:e])
            )
            words = [w for w in re.findall(r"[\w'/+-]+", chunk.lower()) if w.strip("-'/")]
            meaningful = [w for w in words if w.strip("-'") not in _FILLER]
            if meaningful:
                current.append(" ".join(re.findall(r"[\w'/+-]+", chunk)))
            elif current and any(self.used[s:e]) or (current and not words):
                runs.append(" ".join(current))
                current = []
        if current:
            runs.append(" ".join(current))
        runs = [r for r in runs if r]
        if runs:
            quoted = "; ".join(f"'{r}'" for r in runs[:5])
            raise SpecError(
                f"could not place these words offline: {quoted}. Rephrase, set "
                "OPENAI_BASE_URL for LLM mode, or write the spec as YAML (specs/schema.json)"
            )


# --- draft -> spec ---------------------------------------------------------------------------


def _age_factor(lo: int, hi: int, bins: int | None) -> dict[str, Any]:
    bounds = sorted({b for lo_b, _ in AGE_GROUP_YEARS.values() for b in (lo_b,) if lo < b <= hi})
    numeric: dict[str, Any] = {"low": lo, "high": hi, "unit": "years"}
    if bins is not None:
        numeric["bins"] = bins
    elif bounds and bounds[-1] <= hi - 1:
        numeric["edges"] = [lo, *[b for b in bounds if b < hi], hi]
    else:
        numeric["bins"] = max(1, min(3, hi - lo))
    return {"name": "age", "numeric": numeric, "balanced": True}


def _class_name_level(name: str, factor: str | None) -> tuple[str, str] | None:
    hit = _Reader.level_of(name, factor)
    if hit is None and "/" in name:
        for part in name.split("/"):
            hit = _Reader.level_of(part, factor)
            if hit is not None:
                break
    return hit


def _build(d: _Draft) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": d.name or "dataset"}
    spec.update(d.top)
    if d.task:
        spec["task"] = d.task
    factors: dict[str, dict[str, Any]] = {}
    # grid / balanced / shares / fixed
    for f, levels in d.balanced.items():
        names = levels or list(FACTORS[f])
        if f == "age_group" and levels is None and d.adults:
            names = list(_ADULT)
        factors[f] = {"name": f, "balanced": True, "levels": [{"name": n} for n in names]}
    for f, shares in d.shares.items():
        total = sum(shares.values())
        if total > 1 + 1e-6:
            parts = ", ".join(f"{lv} {v * 100:g}%" for lv, v in shares.items())
            raise SpecError(f"{f} shares add up to {total * 100:g}% ({parts}), over 100%")
        levels = [{"name": lv, "proportion": v} for lv, v in shares.items()]
        if total < 1 - 1e-6:
            allowed = d.balanced.get(f) or list(FACTORS[f])
            rest = (
                [_REST[f]]
                if f in _REST and _REST[f] not in shares
                else [lv for lv in allowed if lv not in shares]
            )
            if not rest:
                raise SpecError(f"{f} shares add up to {total * 100:g}%, not 100%")
            levels += [{"name": lv} for lv in rest]
        factors[f] = {"name": f, "levels": levels}
    for f, level in d.fixed.items():
        if f in factors:
            raise SpecError(f"{f} is both fixed to {level} and varied")
        factors[f] = {"name": f, "levels": [{"name": level}]}
    if d.age is not None:
        if "age_group" in factors:
            raise SpecError("give either an age range or age groups, not both")
        factors["age"] = _age_factor(*d.age)
    elif d.adults and "age_group" not in factors:
        factors["age_group"] = {
            "name": "age_group",
            "balanced": True,
            "levels": [{"name": n} for n in _ADULT],
        }
    if d.identities is not None:
        for f, body in factors.items():
            if f in _INTRINSIC and f not in d.image_scope:
                body["scope"] = "identity"
    # classes
    fixed_child = d.children and d.age is None and "age_group" not in factors
    if d.class_factor and d.class_factor in factors:
        raise SpecError(f"{d.class_factor} is the class and also balanced; drop one of the two")
    classes = []
    for name, count in d.classes:
        attrs: dict[str, str] = {}
        hit = _class_name_level(name, d.class_factor)
        if d.class_factor and hit is None:
            raise SpecError(
                f"class '{name}' is not a level of {d.class_factor} "
                f"({', '.join(FACTORS[d.class_factor])})"
            )
        if hit is not None and (d.class_factor or hit[0] not in factors):
            attrs[hit[0]] = hit[1]
        if fixed_child:
            attrs["age_group"] = "child"
        classes.append({"name": name, "quota": count, "attributes": attrs})
    if d.class_count is not None and d.classes and d.class_count != len(d.classes):
        raise SpecError(f"{d.class_count} classes announced but {len(d.classes)} listed")
    if not classes:
        n = d.class_count or 1
        if n != 1:
            raise SpecError(f"{n} classes announced but none named; list them after 'classes:'")
        classes = [
            {
                "name": "face",
                "quota": None,
                "attributes": ({"age_group": "child"} if fixed_child else {}),
            }
        ]
        if d.children:
            spec["subject"] = "children"
    elif d.children:
        spec["subject"] = "children"
    _quotas(d, classes, factors)
    spec["classes"] = classes
    spec["factors"] = list(factors.values())
    if d.constraints:
        for con in d.constraints:
            for f in [*con["when"], *con["forbid"]]:
                if f not in factors:
                    raise SpecError(
                        f"a constraint names {f}, which the request does not plan; "
                        f"add it (e.g. '20% {f.replace('_', ' ')} ...') or drop the constraint"
                    )
        spec["constraints"] = d.constraints
    if d.identities is not None:
        spec["identities"] = {"count": d.identities[0], "images_per_identity": d.identities[1]}
    if d.faces is not None:
        spec["faces_per_image"] = d.faces
    return spec


def _quotas(d: _Draft, classes: list[dict[str, Any]], factors: dict[str, Any]) -> None:
    total = d.total
    if d.per_cell is not None:
        cells = 1
        for body in factors.values():
            if body.get("balanced"):
                cells *= len(body["levels"])
        grid_total = d.per_cell * cells * len(classes)
        if total is not None and total != grid_total:
            raise SpecError(
                f"{d.per_cell} per combination x {cells} combinations = {grid_total}, "
                f"but the request says {total} images"
            )
        total = grid_total
    if d.identities is not None:
        people_total = d.identities[0] * d.identities[1]
        if total is not None and total != people_total:
            raise SpecError(
                f"{d.identities[0]} people x {d.identities[1]} images = {people_total}, "
                f"but the request says {total} images"
            )
        total = people_total
    given = [c["quota"] for c in classes if c["quota"] is not None]
    for c in classes:
        if c["quota"] is None and d.per_class is not None:
            c["quota"] = d.per_class
    missing = [c for c in classes if c["quota"] is None]
    if missing:
        if total is None:
            raise SpecError("how many images? say e.g. '300 faces' or '100 per class'")
        rest = total - sum(given)
        if rest < len(missing):
            raise SpecError(f"{total} images cannot cover {len(classes)} classes")
        base, extra = divmod(rest, len(missing))
        for i, c in enumerate(missing):
            c["quota"] = base + (1 if i < extra else 0)
    quota_total = sum(c["quota"] for c in classes)
    if total is not None and quota_total != total:
        raise SpecError(
            f"the class counts add up to {quota_total}, but the request says {total} images"
        )
    for c in classes:
        if c["quota"] < 1:
            raise SpecError(f"class '{c['name']}' needs at least one image, got {c['quota']}")
        if c["quota"] > MAX_IMAGES:
            raise SpecError(f"{c['quota']:,} images is over the limit of {MAX_IMAGES:,}")


def parse_offline(text: str) -> DatasetSpec:
    """The rule-based reader: plain English -> DatasetSpec, or a SpecError naming the words."""
    draft = _Reader(text).run()
    data = _build(draft)
    try:
        return DatasetSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(validation_message(exc)) from None


# --- LLM mode --------------------------------------------------------------------------------

_SYSTEM = """You turn a plain-language description of a synthetic face dataset into a DatasetSpec.
Rules:
- Use these factor names and levels exactly (the renderer and the critic understand them):
{vocab}
- A numeric age range is a factor named "age" with
  "numeric": {{"low": .., "high": .., "unit": "years"}} and no age_group factor.
- Classes may fix levels in "attributes" (an eyewear class "glasses" ->
  {{"eyewear": "glasses"}}; children -> {{"age_group": "child"}}). Class quotas must add up
  to the requested total.
- "balanced" factors spread images equally; otherwise give each level a proportion (0..1).
- Identity datasets set "identities" (count x images_per_identity = total); factors fixed per
  person get "scope": "identity".
- Never drop a requirement; if something cannot be expressed, put it in a class description.
"""


def _vocab_text() -> str:
    return "\n".join(f"  {f}: {', '.join(levels)}" for f, levels in FACTORS.items())


def parse_llm(text: str, model: Any) -> DatasetSpec:
    """LLM mode: the model writes the spec; pydantic validation errors go back for repair."""
    from agent.llm import structured_call

    messages = [
        ("system", _SYSTEM.format(vocab=_vocab_text())),
        ("user", text),
    ]
    return structured_call(model, DatasetSpec, messages)


# --- entry points ----------------------------------------------------------------------------


def _yaml_spec(text: str) -> DatasetSpec | None:
    """A spec written as YAML (a mapping with `classes`), else None."""
    if not re.search(r"^\s*classes\s*:", text, re.MULTILINE):
        return None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("classes"), list):
        return None
    return DatasetSpec.from_data(data, where="YAML spec")


def parse_spec(text: str, *, offline: bool | None = None) -> DatasetSpec:
    """Words (or YAML spec text) -> a validated DatasetSpec; refused or bad input raises a
    SpecError with one line for the person."""
    if text is None or not text.strip():
        raise SpecError("the description is empty: say what faces you want, e.g. '300 faces'")
    if len(text) > 100_000:
        raise SpecError("the description is over 100,000 characters")
    check_request(text)
    spec = _yaml_spec(text)
    if spec is None:
        from agent.llm import chat_model

        model = chat_model(offline=offline)
        spec = parse_offline(text) if model is None else parse_llm(text, model)
    check_request(text, spec)
    return spec


def load_spec_source(text_or_path: str, *, offline: bool | None = None) -> tuple[str, DatasetSpec]:
    """A file path (.txt words, .yaml/.yml spec) or the words themselves -> (text, spec)."""
    if text_or_path is None or not str(text_or_path).strip():
        raise SpecError("the description is empty: say what faces you want, e.g. '300 faces'")
    source = str(text_or_path)
    text = source
    if len(source) < 4096 and "\n" not in source:
        path = Path(source).expanduser()
        looks_like_path = path.suffix.lower() in (".txt", ".yaml", ".yml", ".md") or "/" in source
        try:
            is_file = path.is_file()
        except OSError:
            is_file = False
        if is_file:
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise SpecError(f"cannot read {path}: {exc}") from None
        elif looks_like_path and len(source.split()) == 1:
            raise SpecError(f"no such file: {source}")
    return text, parse_spec(text, offline=offline)
