"""The offline reader: plain English -> a Draft of what was asked for.

Every word the reader uses is marked. Words left over that look like a requirement (a number, a
percentage, a vocabulary word, a factor name, a visual attribute facetory cannot draw) make the
request fail with those words quoted; words that carry no requirement ("We're building a
classifier for school photos") never do. Later statements win over earlier ones ("300 faces ...
make it 600 faces"), which is how reviewer feedback is applied offline.
"""

from __future__ import annotations

import re
from typing import Any

from agent.reader.classes import Item, parse_item, read_list, shared_factor_name, split_items
from agent.reader.draft import ACCESSORY_NONE, Draft
from agent.reader.words import (
    ANY_FACTOR,
    ANY_FACTOR_RX,
    ANY_LEVEL,
    ANY_LEVEL_RX,
    COUNT_NOUNS,
    FACTOR_RX,
    FILLER,
    UNREPRESENTABLE_RX,
    correct_spelling,
    digits,
    level_of,
    number,
)
from agent.spec import SpecError
from tools.vocabulary import FACTORS, VOCABULARY

_NUM = r"\d+(?:\.\d+)?"
#: Words of a sentence, not of a title ('We're building a classifier for school photos:').
_SENTENCE = re.compile(
    r"\b(?:i|we|you|i'm|we're|we'd|i'd|need|want|make|please|could|would|let|give|create|"
    r"generate|render|produce|build|building|training|like|love|is|are|should)\b"
)
#: Level words that name people, so a count can stand on them ('300 elderly women').
_PEOPLE_LEVELS = (
    r"wom[ae]n|m[ae]n|kids?|child(?:ren)?|teen(?:ager)?s?|adults?|girls?|boys?|"
    r"seniors?|elderly|males?|females?|toddlers?|babies|adolescents?"
)
#: '... with X', '... wearing X': what follows is something the images must show.
_ASKED_FOR = re.compile(
    r"\b(?:with|wearing|having|holding|showing|sporting|who have|that have)\s+"
    r"(?:(?:a|an|the|some|their|his|her|lots of|plenty of)\s+)?(?:[a-z'-]+\s+){0,2}$"
)
#: Words after 'with' that describe the request, not the picture ('with good quality').
_MILD = {
    "good",
    "great",
    "high",
    "quality",
    "care",
    "detail",
    "details",
    "variety",
    "realism",
    "resolution",
    "labels",
    "annotations",
    "boxes",
    "metadata",
    "love",
}


class Reader:
    def __init__(self, text: str) -> None:
        text = text.replace("\u2013", "-").replace("\u2014", ",").replace("\u00d7", "x")
        text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\r", "\n")
        self.text = digits(correct_spelling(text))
        self.low = "".join((c.lower() or c)[0] for c in self.text)
        self.used = bytearray(len(self.text))
        self.d = Draft()

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
    level_of = staticmethod(level_of)

    def fail(self, message: str) -> SpecError:
        return SpecError(message)

    # --- recognisers -------------------------------------------------------------------------
    def negatives(self) -> None:
        rx = r"(?:(?<![\w.])-|\bminus\s+|\bnegative\s+)\d[\d,]*\s*"
        rx += r"(?:images?|faces?|photos?|per|each|people|persons|"
        rx += r"identities|classes|%)"
        for m in self.matches(rx):
            raise self.fail(f"counts must be positive, got '{m.group(0).strip()}'")

    def run(self) -> Draft:
        self.negatives()
        for step in (
            self.title,
            self.seed,
            self.image_size,
            self.splits,
            self.quality,
            self.budget,
            self.generation,
            self.faces,
            self.identities,
            self.age_range,
            self.grid,
            self.hint,
            self.class_lists,
            self.classify,
            self.task,
            self.per_class,
            self.constraints,
            self.percentages,
            self.per_identity,
            self.level_ranges,
            self.balanced,
            self.same,
            self.totals,
            self.mentions,
            self.subject,
            self.context,
            self.factor_mentions,
        ):
            step()
        self.leftovers()
        return self.d

    def title(self) -> None:
        """'Crowd detection: ...' names the dataset; 'happy: 150' or 'We need: ...' does not."""
        m = re.match(r"\s*([^\n:.;]{1,80}?)\s*:\s", self.low)
        if m is None:
            return
        head = m.group(1)
        if len(head.split()) == 1 and not self.text[m.start(1)].isupper():
            return
        if (
            len(head.split()) <= 8
            and not re.search(
                r"(?<![a-z])\d|%|\b(?:class|classes|split|total|count|size|task)\b", head
            )
            and not _SENTENCE.search(head)
            and not (ANY_LEVEL_RX.fullmatch(head) or ANY_FACTOR_RX.fullmatch(head))
            and not re.fullmatch(self._WHO + r"|" + COUNT_NOUNS + r"(?:\s+per\s+\w+)?", head)
        ):
            self.d.name = " ".join(self.original(m.start(1), m.end(1)).split())
            self.take(m.start(), m.end())

    def seed(self) -> None:
        for m in self.matches(r"\b(?:random )?seed(?:\s*(?:=|:|of|is))?\s*(\d+)\b"):
            self.d.top["seed"] = int(m.group(1))
            self.take(m.start(), m.end())

    def image_size(self) -> None:
        pats = [
            r"\b(\d{2,4})\s*(?:x|by)\s*(\d{2,4})\b(?:\s*(?:px|pixels?))?"
            r"(?:\s*resolution)?",
            r"\b(?:image\s+size|resolution|size|side|image\s+side)\s*(?:of|is|:|=)?\s*(\d{2,4})"
            r"(?:\s*(?:px|pixels?))?()",
            r"\b(\d{2,4})\s*(?:-\s*)?(?:px|pixels?)\b(?:\s*(?:square|wide|resolution))?()",
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
        for m in self.matches(r"\b(?:at|in|of)\s+(?=\d{2,4}\s*(?:x|by|px|pixels))"):
            self.take(m.start(), m.end())

    _PART = r"(train(?:ing)?|val(?:idation|idate)?|dev|test(?:ing)?|holdout|held[- ]out)"

    def splits(self) -> None:
        """'80/10/10', 'train/val/test 70/15/15', 'a 75/25 train/validation split',
        '70% train, 15% val, 15% test', 'train 900, validation 300, test 0', 'no test set'."""
        names = rf"{self._PART}(?:\s*/\s*{self._PART})?(?:\s*/\s*{self._PART})?"
        ratio = r"(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)(?:\s*/\s*(\d+(?:\.\d+)?))?\s*%?"
        rx = (
            rf"(?:\b(?:(?P<pre>{names})\s*(?:split\s*)?[:=]?\s*|splits?\s*(?:of\s*|ratios?\s*|"
            rf"it\s*|them\s*)?[:=]?\s*)?)\b{ratio}(?:\s*(?P<post>{names}))?(?:\s*splits?)?"
            r"(?:\s*by\s*(?:identity|person|people|identities))?"
        )
        parts: dict[str, float] = {}
        for m in self.matches(rx):
            words = m.group("pre") or m.group("post")
            if not words and not re.search(r"split", m.group(0)) and not m.group(3):
                continue
            values = [float(v) for v in m.groups()[-3:] if False] or [
                float(x) for x in (m.group(i) for i in self._ratio_groups(m)) if x is not None
            ]
            order = [self._part_name(w) for w in re.findall(self._PART, words or "")]
            order = order or ["train", "val", "test"][: len(values)]
            if len(order) != len(values):
                continue
            parts = dict(zip(order, values, strict=True))
            self.take(m.start(), m.end())
        named = (
            rf"\b(\d+(?:\.\d+)?)\s*(%?)\s*(?:each\s+)?(?:of\s+them\s+)?(?:go(?:es)?\s+)?"
            rf"(?:for|to|in|as)?\s*(?:the\s+)?"
            rf"{self._PART}(?:\s+(?:and|&)\s+{self._PART})?(?:\s+sets?|\s+splits?)?\b"
            rf"|\b{self._PART}(?:\s+sets?|\s+splits?)?\s*[:=]?\s*(\d+(?:\.\d+)?)\s*(%?)"
        )
        for m in self.matches(named):
            g = m.groups()
            if g[0] is not None:
                for w in (g[2], g[3]):
                    if w:
                        parts[self._part_name(w)] = float(g[0])
            else:
                parts[self._part_name(g[4])] = float(g[5])
            self.take(m.start(), m.end())
        for m in self.matches(
            rf"\b(?:no|without\s+an?|nothing\s+(?:to|for))\s+{self._PART}(?:\s+(?:set|split))?"
        ):
            parts[self._part_name(m.group(1))] = 0.0
            self.take(m.start(), m.end())
        rest = None
        for m in self.matches(
            rf"\b(?:the\s+)?(?:rest|remainder)\s+(?:for\s+|to\s+|as\s+)?{self._PART}"
        ):
            rest = self._part_name(m.group(1))
            self.take(m.start(), m.end())
        if not parts:
            return
        if rest is not None:
            scale = 100 if sum(parts.values()) > 1 else 1
            parts[rest] = scale - sum(parts.values())
        self.d.split_parts = parts
        for m in self.matches(r"\b(?:use|split\s+(?:it|them)?|splits?)\b"):
            if self.free(m.start(), m.end()):
                self.take(m.start(), m.end())

    @staticmethod
    def _ratio_groups(m: re.Match[str]) -> list[int]:
        names = m.re.groupindex
        skip = set(names.values())
        groups = [i for i in range(1, m.re.groups + 1) if i not in skip]
        return [i for i in groups if m.group(i) is not None and re.fullmatch(r"[\d.]+", m.group(i))]

    @staticmethod
    def _part_name(word: str) -> str:
        word = word.lower()
        if word.startswith("train"):
            return "train"
        if word.startswith(("val", "dev")):
            return "val"
        return "test"

    def _fraction(self, text: str) -> float:
        value = number(text.rstrip("% "))
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
            r"\b(segment\w*|face parsing|keypoints?|landmark (?:detection|localisation|localization)|"
            r"pose estimation|caption\w*|depth (?:estimation|maps?)|super-?resolution|inpainting|"
            r"3d (?:models?|meshes|scans?)|meshes)\b"
        )
        for m in self.matches(unknown):
            raise self.fail(
                f"unknown task '{m.group(1)}': facetory makes still face images labelled with "
                "boxes and classes and trains YOLO to detect or classify them; say 'detect' or "
                "'classify'"
            )
        media = r"\b(videos?|video clips?|clips|footage|animations?|animated|gifs?|movies?)\b"
        for m in self.matches(media):
            raise self.fail(
                f"facetory makes still images, not '{m.group(1)}': ask for a number of face "
                "images (e.g. '300 faces, eyes open and closed')"
            )
        lookalike = (
            r"\b(?:look(?:s|ing)?\s+like|look-?alikes?|resembl\w+|in\s+the\s+style\s+of|"
            r"(?:photos?|pictures?|portraits?|images?|faces?)\s+of\s+(?:the\s+\w+\s+)?"
            r"(?=[A-Z][a-z]+\s+[A-Z][a-z]+))\s*((?:the\s+\w+\s+)?[A-Za-z]+(?:\s+[A-Z][a-z]+)?)"
        )
        for m in re.finditer(r"(?<=[a-z,] )([A-Z][a-z]+ [A-Z][a-z]+)(?:'s)?\b", self.text):
            if not self._known_phrase(m.start(1), m.end(1)):
                raise self.fail(
                    f"'{m.group(1)}' looks like a real person's name; facetory makes synthetic "
                    "people, never likenesses of a real person"
                )
        for m in re.finditer(lookalike, self.text):
            raise self.fail(
                f"facetory makes synthetic people, never likenesses of a real person "
                f"('{m.group(0).strip()}')"
            )
        for m in self.matches(
            r"\b(?:face\s+)?(?:verification|recognition|re-?identification|re-?id|matching|"
            r"identity|identities)\s*(?:set|dataset|data|benchmark|experiments?|research|"
            r"study|task|training|model|system)?\b"
        ):
            self.d.identity_intent = True
            self.take(m.start(), m.end())
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

    _WHO = (
        r"(?:(?:synthetic|distinct|unique|different|fictional|fictitious|made-up|fake|virtual|"
        r"imaginary|generated|random|artificial|individual)\s+)*"
        r"(?:people|persons|identities|ids|individuals|subjects|characters|humans)"
    )
    _ONE = r"(?:person|identity|id|individual|subject|character|human|head)"

    def identities(self) -> None:
        """People and images per person, in any order: '30 people, 8 photos per person',
        '60 identities x 10 images', '8 pictures of every person, for 30 persons in total',
        'Identities: 30. Images per identity: 8.'"""
        imgs, who, one = COUNT_NOUNS, self._WHO, self._ONE
        per_word = rf"(?:per|for each|for every|of each|of every|each of|from each|by each)\s+{one}"
        pair = [
            rf"\b({_NUM})\s+{who}\s*(?:,|:|with|and|x|each with|having|of)?\s*({_NUM})\s*"
            rf"(?:{imgs})?\s*(?:each|apiece|{per_word})?\b",
            rf"\b({_NUM})\s+(?:{imgs}\s+)?(?:each\s+(?:of|for)|(?:of|for)\s+each\s+(?:of\s+)?)"
            rf"\s*({_NUM})\s+{who}\b",
        ]
        for i, rx in enumerate(pair):
            for m in self.matches(rx):
                a, b = int(number(m.group(1))), int(number(m.group(2)))
                self.d.identities = (a, b) if i == 0 else (b, a)
                self.take(m.start(), m.end())
        people, per = None, None
        for m in self.matches(rf"\b(?:({_NUM})\s+{who}|{who}\s*[:=]?\s*({_NUM}))\b"):
            people = int(number(m.group(1) or m.group(2)))
            self.take(m.start(), m.end())
        rx = (
            rf"\b({_NUM})\s*(?:{imgs}\s*)?(?:each\s+)?{per_word}\b|"
            rf"\b(?:{imgs})\s*{per_word}\s*[:=]?\s*({_NUM})"
        )
        for m in self.matches(rx):
            per = int(number(m.group(1) or m.group(2)))
            self.take(m.start(), m.end())
        if people is not None and per is None and self.d.identities is None:
            m = next(self.matches(rf"\b({_NUM})\s*(?:{imgs})?\s*(?:each|apiece)\b"), None)
            if m is not None:
                per = int(number(m.group(1)))
                self.take(m.start(), m.end())
        if self.d.identities is not None:
            people = people if people is not None else self.d.identities[0]
            per = per if per is not None else self.d.identities[1]
        if people is not None and per is not None:
            self.d.identities = (people, per)
        elif people is not None:
            self.d.people = people
        elif per is not None:
            raise self.fail(
                f"{per} images per person, but how many people? say e.g. '50 people, {per} "
                "images each'"
            )

    def faces(self) -> None:
        who = r"(?:faces|people|persons|children|kids|subjects|heads)"
        where = r"(?:per|in each|in every|in|each|an?|in one|in 1|in the same|in a|on each|on)\s*"
        where += r"(?:image|frame|photo|picture|shot|scene)"
        many = r"(?:exactly\s+|between\s+|from\s+|up\s+to\s+)?"
        pats = [
            (rf"\b{many}(\d+)\s*(?:to|-|and)\s*(\d+)\s*{who}\s*(?:{where}|each|in each)", None),
            (rf"\b{many}(\d+)\s*{who}\s*(?:{where}|each|in each)()", None),
            (rf"\b(?:showing|containing|with|of)\s+{many}(\d+)\s*(?:to|-)\s*(\d+)\s*{who}\b", None),
            (rf"\b(?:showing|containing)\s+{many}(\d+)\s*{who}()\b", None),
            (rf"\b{who}\s+{where}\s*[:=]?\s*(\d+)(?:\s*(?:to|-)\s*(\d+))?", None),
            (rf"\b(?:several|multiple|many|a few)\s*{who}\s*{where}()()", (2, 4)),
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
            r"\b(?:ages?|aged|between the ages of|age range(?: of)?|between)\s*(\d{1,3})\s*"
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
        for rx, fs in FACTOR_RX:
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
        for rx, fs in FACTOR_RX:
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
            count = re.search(r"(?:\b(?:all|the)\s+)?\b\d+\s+$", self.low[max(0, s - 12) : s])
            if count:
                self.take(s - len(self.low[max(0, s - 12) : s]) + count.start(), s)
            for f in fs:
                chosen = levels.get(f) if levels else None
                if levels and chosen is None:
                    continue
                if chosen is not None and f in ACCESSORY_NONE and "none" not in chosen:
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
            self.d.per_cell = int(number(m.group(1)))
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

    _CLASS_INTRO = re.compile(
        r"\b(?:(?P<n>\d+)\s+)?(?:(?:equal(?:ly)?[- ]sized|equal|separate|different|distinct|"
        r"single|sole)\s+)?(?:(?P<f>[a-z-]+(?:\s+[a-z-]+)?)\s+)?"
        r"(?:(?P<kw>classes|categories|labels)\b|(?P<one>class)\b(?=\s*(?::|called|named|-))|"
        r"(?:(?<=\bthe )|(?<=\bone )|(?<=single )|(?<=\ba ))(?P<one2>class)\b(?=\s*,?\s*[a-z]))"
        r"(?:\s*(?:are|named|called|being|of|will be|should be|would be|to be|please|:|--|-|,|\())*"
        r"\s*"
    )

    def class_lists(self) -> None:
        """Lists introduced by 'classes', then lists in other shapes (see `agent.reader.classes`)."""
        for m in self.matches(self._CLASS_INTRO):
            factor = self._factor_named(m.group("f"))
            close = self.low.find(")", m.end()) if m.group(0).rstrip().endswith("(") else -1
            items, end = read_list(self.low, m.end(), close if close > 0 else len(self.low))
            if not items:
                continue
            if close > 0:
                end = close + 1
            n = int(m.group("n")) if m.group("n") else None
            if m.group("f") and factor is None:  # '30 faces in classes: ...': 30 is no count
                n = None
            if (m.group("one") or m.group("one2")) and len(items) > 1:
                items = items[:1]
            items, end = self._respectively(items, end)
            self._set_classes(items, factor, m.end())
            if m.group("f") and factor is not None:
                self.take(m.start("f"), m.end("f"))
            if n is not None:
                self.d.class_count = n
            lead = (
                m.start()
                if n is not None or not m.group("f")
                else m.start("kw")
                if m.group("kw")
                else m.start("one")
                if m.group("one")
                else m.start("one2")
            )
            if factor is not None:
                lead = m.start()
            self.take(lead, end)
        if self.d.classes and all(n is None for _, n in self.d.classes):
            self._counts_by_name()
        if not self.d.classes:
            self._for_each_of()
        if not self.d.classes:
            self._class_phrases()
        if not self.d.classes:
            self._each_lists()
        if not self.d.classes:
            self._counted_lists()
        if not self.d.classes:
            self._factor_lists()

    def hint(self) -> None:
        """'a glasses detector', 'mask detection', 'an emotion classifier': what the model
        tells apart, which becomes the class when the request names no classes."""
        rx = (
            rf"\b({ANY_LEVEL}|{ANY_FACTOR})[\s-]+(?:state\s+|status\s+)?"
            r"(?:detect(?:ion|or|ors|ing)?|classif(?:ier|ication|y)|recogni(?:tion|[sz]er|[sz]ing)|"
            r"model|checker|estimation|estimator|predictor|prediction)\b"
        )
        for m in self.matches(rx):
            hit = self.level_of(m.group(1))
            factor = hit[0] if hit else self._factor_named(m.group(1))
            if factor is None:
                continue
            self.d.hint = factor
            self.take(m.start(1), m.end(1))
            word = self.low[m.end(1) : m.end()]
            if "detect" in word:
                self.d.task = self.d.task or "detect"
            elif "classif" in word or "recogni" in word:
                self.d.task = self.d.task or "classify"
            if (
                word.strip(" -")
                in ("model", "checker", "estimation", "estimator", "predictor", "prediction")
                or "state" in word
            ):
                self.take(m.start(), m.end())

    def _known_phrase(self, start: int, end: int) -> bool:
        """A capitalised phrase facetory knows (a vocabulary phrase, a factor, YOLO, COCO)."""
        low = self.low[start:end]
        if ANY_LEVEL_RX.search(low) or ANY_FACTOR_RX.search(low):
            return True
        return bool(re.search(r"\b(?:yolo|coco|monk|stable|diffusion|hugging|face)\b", low))

    def _factor_named(self, words: str | None) -> str | None:
        if not words:
            return None
        for frx, fs in FACTOR_RX:
            fm = re.search(rf"(?:{frx.pattern})$", words)
            if fm and len(fs) == 1:
                return fs[0]
        hit = self.level_of(words)
        return None if hit is None else None

    def _counts_by_name(self) -> None:
        """'250 faces of elderly women and 250 faces of elderly men; the classes are women and
        men': a count said in front of a class name (other words between stay to be read)."""
        counts = {}
        for i, (name, _) in enumerate(self.d.classes):
            rx = (
                rf"\b(\d+)\s*(?:{COUNT_NOUNS}\s+)?(?:of\s+)?((?:(?:{ANY_LEVEL})\s+){{0,2}}?)"
                rf"({re.escape(name.lower())})\b"
            )
            m = next(self.matches(rx), None)
            if m is not None:
                counts[i] = int(m.group(1))
                self.take(m.start(1), m.start(2))
                self.take(m.start(3), m.end(3))
        if len(counts) == len(self.d.classes):
            self.d.classes = [(n, counts[i]) for i, (n, _) in enumerate(self.d.classes)]

    def _respectively(self, items: list[Item], end: int) -> tuple[list[Item], int]:
        """'neutral, smile and surprise with 50%, 25% and 25%' / '... in a 60:40 ratio'."""
        m = re.match(
            r"\s*,?\s*(?:with|at|in(?:\s+an?)?|:)?\s*(\d+(?:\.\d+)?%?(?:\s*(?:,|and|/|:)\s*"
            r"\d+(?:\.\d+)?%?)+)(?:\s*(?:ratio|split|respectively))?",
            self.low[end:],
        )
        if not m:
            return items, end
        values = re.findall(r"(\d+(?:\.\d+)?)(%?)", m.group(1))
        if len(values) != len(items) or any(it.count or it.share for it in items):
            return items, end
        if all(pct for _, pct in values) or ":" in m.group(1) or "ratio" in m.group(0):
            total = sum(float(v) for v, _ in values)
            for it, (v, _) in zip(items, values, strict=True):
                it.share = float(v) / total
        else:
            for it, (v, _) in zip(items, values, strict=True):
                it.count = int(float(v))
        return items, end + m.end()

    def _for_each_of(self) -> None:
        """'200 images for each of African, Asian and White'."""
        rx = rf"\b(\d+)\s*(?:{COUNT_NOUNS}\s*)?(?:for|of|in)\s+each\s+of\s+(?:the\s+)?"
        for m in self.matches(rx):
            items, end = read_list(self.low, m.end(), len(self.low))
            if len(items) < 2:
                continue
            self._set_classes(items, None, m.end())
            self.d.per_class = int(m.group(1))
            self.take(m.start(), end)
            return

    def _class_phrases(self) -> None:
        """'250 in the happy class and 250 in the sad class', 'a blond hair class and a black
        hair class', '60% in the masked class and the rest in the unmasked class'."""
        rx = (
            rf"(?:\b(?P<n>\d+(?:\.\d+)?)(?P<pct>%)?\s*(?:{COUNT_NOUNS}\s+)?(?:of\s+them\s+)?|"
            r"\b(?P<rest>the\s+rest|the\s+others|the\s+remainder|another\s+(?P<n2>\d+))\s+)?"
            r"(?:(?:go\s+)?(?:in|into|to|for)\s+)?(?:the|a|an)\s+"
            r"(?P<name>[a-z][\w'/-]*(?:\s+[a-z][\w'/-]*){0,3}?)\s+class\b"
        )
        found = [m for m in self.matches(rx)]
        if len(found) < 2:
            return
        items, shares = [], {}
        for m in found:
            n = m.group("n") or m.group("n2")
            count = int(n) if n and not m.group("pct") else None
            items.append(Item(m.group("name"), count))
            if m.group("pct"):
                shares[m.group("name")] = float(n) / 100
        if shares and len(shares) == len(items) - 1:
            rest = next(it.name for it in items if it.name not in shares)
            shares[rest] = max(0.0, 1 - sum(shares.values()))
        for it in items:
            if it.name in shares:
                it.share = shares[it.name]
        self._set_classes(items, None, found[0].start())
        for m in found:
            self.take(m.start(), m.end())
        for m in self.matches(r"\b(?:and|another)\b"):
            if any(f.end() <= m.start() <= f2.start() for f, f2 in zip(found, found[1:])):
                self.take(m.start(), m.end())

    def _each_lists(self) -> None:
        """'smiling and not smiling, 400 each' / 'bald, curly hair and long hair, the same count
        in each': a list of levels or short names right before a per-class count."""
        each = (
            rf"(?P<n>\d+)\s*(?:{COUNT_NOUNS}\s*)?(?:each|apiece|of each|per class|of each one)\b|"
            r"(?:the\s+)?same\s+(?:count|number|amount)\s+(?:in|for)\s+each|"
            r"(?:50%|half)\s+(?:in|for)\s+each|equal(?:ly)?\s+(?:sized|split|counts?|sizes)|"
            r"evenly\s+(?:split|divided)"
        )
        for m in self.matches(rf"[,(]\s*(?:{each})"):
            start = max(self.low.rfind(c, 0, m.start()) for c in ".;\n:(") + 1
            pieces = split_items(self.low, start, m.start())
            items = [parse_item(self.low[s:e]) for s, e in pieces]
            while items and items[0] is None:  # '2000 faces, hat and no hat, 1000 each'
                items, pieces = items[1:], pieces[1:]
            if len(items) < 2 or any(it is None for it in items):
                continue
            start = pieces[0][0]
            levels = [self.level_of(it.name) for it in items]
            known = [lv for lv in levels if lv is not None]
            if (
                len({f for f, _ in known}) > 1
                or len(known) < len(items) - 1
                and not re.search(r"\bvs\.?\b|\bversus\b|/", self.low[start : m.start()])
            ):
                continue
            self._set_classes(items, None, start)
            self.take(pieces[0][0], m.end())
            if m.group("n"):
                self.d.per_class = int(m.group("n"))
            return

    def _counted_lists(self) -> None:
        """'open eyes 320, closed eyes 320' / 'no glasses (300), sunglasses (300)'."""
        for m in re.finditer(r"(?:[^.\n-]|-(?!-))+", self.low):
            start = m.start() + len(m.group(0)) - len(m.group(0).lstrip())
            pieces = split_items(self.low, start, m.end())
            run: list[tuple[int, int, Item]] = []
            for s, e in pieces:
                several = re.findall(r"[a-z][a-z' -]*?\s*\(?\d+\)?(?=\s+[a-z]|$)", self.low[s:e])
                if len(several) > 1 and all(
                    (it := parse_item(x)) and self.level_of(it.name) for x in several
                ):
                    run += [(s, e, parse_item(x)) for x in several]  # 'hat 1000 no hat 1000'
                    continue
                item = parse_item(self.low[s:e])
                intro = self.low.rfind(": ", s, e)
                if item is None and intro > 0:  # '500 images: glasses 300'
                    s = intro + 2
                    item = parse_item(self.low[s:e])
                counted = item is not None and (
                    item.count is not None
                    or item.share is not None
                    and self.d.hint is not None
                    and (self.level_of(item.name) or ("", ""))[0] == self.d.hint
                )
                if counted and self.free(s, e) and not re.search(COUNT_NOUNS + r"\s*$", item.name):
                    run.append((s, e, item))
                elif len(run) >= 2:
                    break
                else:
                    run = []
            if len(run) >= 2:
                self._set_classes([it for _, _, it in run], None, run[0][0])
                self.take(run[0][0], run[-1][1])
                return

    def _factor_lists(self) -> None:
        """'4 hair colours (black, brown, blond, red)', '200 faces per expression for happy,
        sad and neutral', 'Three expression classes' already handled above."""
        if self.d.identities is not None:
            return  # 'one image per age group (...)': every person at every level
        for frx, fs in FACTOR_RX:
            if len(fs) != 1:
                continue
            rx = rf"\b(?:(?P<n>\d+)\s+)?(?:{frx.pattern})\s*(?:\(|:|for\s+)\s*"
            for m in self.matches(rx):
                head = self.low[max(0, m.start() - 30) : m.start()]
                per = re.search(rf"\b(\d+)\s*(?:{COUNT_NOUNS})?\s*(?:per|for each|each)\s*$", head)
                if not (m.group("n") or per) or re.search(
                    r"(?:balanced|across|over|by|between|among|vary|varied|of)\s*$", head
                ):
                    continue
                items, end = read_list(self.low, m.end(), len(self.low))
                levels = [self.level_of(it.name, fs[0]) for it in items]
                known = next((i for i, lv in enumerate(levels) if lv is None), len(levels))
                if known < 2:
                    continue
                if known < len(items):  # '... happy, sad and neutral, and include kids'
                    items, end = read_list(self.low, m.end(), len(self.low), max_items=known)
                if m.group("n") and int(m.group("n")) != len(items):
                    continue
                self._set_classes(items, fs[0], m.end())
                self.take(m.start(), end)
                if per:
                    self.d.per_class = int(per.group(1))
                    self.take(m.start() - len(head) + per.start(), m.start())
                return

    def _set_classes(self, items: list[Item], factor: str | None, start: int = 0) -> None:
        items = shared_factor_name(items)
        names, pos = [], start
        for it in items:  # the person's spelling and case, from the original text
            at = self.low.find(it.name, pos)
            names.append(self.text[at : at + len(it.name)] if at >= 0 else it.name)
            pos = at + len(it.name) if at >= 0 else pos
        self.d.classes = [(n, it.count) for n, it in zip(names, items, strict=True)]
        self.d.class_shares = {
            n: it.share for n, it in zip(names, items, strict=True) if it.share is not None
        }
        if factor:
            self.d.class_factor = factor

    def classify(self) -> None:
        for m in self.matches(r"\bclassify\s*(?:by\s*)?"):
            rest = self.low[m.end() :]
            for frx, fs in FACTOR_RX:
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
        each = (
            r"(?:per|for each|in each|for every|in every|of each|each)\s*(?:class|category|group)"
            r"|(?:of\s+)?each|apiece|a piece|per piece|in each|each one|each item"
        )
        rx = rf"\b({_NUM})\s*(?:{COUNT_NOUNS}\s*)?(?:{each})\b"
        for m in self.matches(rx):
            if not (self.d.classes or re.search(r"class", m.group(0))):
                continue
            self.d.per_class = int(number(m.group(1)))
            if self.d.per_class < 1:
                raise self.fail(f"each class needs at least 1 image, got {self.d.per_class}")
            self.take(m.start(), m.end())
        if self.d.classes:  # the classes are equal anyway: 'evenly split', 'half in each'
            rx = (
                r"\b(?:(?:split|divided|shared|spread|distributed)\s+)?(?:evenly|equally)"
                r"(?:\s+(?:split|divided|sized|shared|distributed))?(?:\s+between\s+them)?|"
                r"(?:in\s+)?(?:equal|even|the same)\s+(?:sizes?|counts?|numbers?|shares?|split|"
                r"count\s+in\s+each|number\s+in\s+each)|equal(?:ly)?[- ]sized|"
                r"(?:50%|half)\s+(?:in|for)\s+each|same\s+number\s+in\s+each|of\s+equal\s+size"
            )
            for m in self.matches(rx):
                self.take(m.start(), m.end())

    def constraints(self) -> None:
        rx = (
            rf"\b(?:but\s*)?(?:no|never|not)\s+(?:any\s*)?({ANY_LEVEL})\s+(?:with|when|while|"
            rf"and|for|on|if)\s+(?:the\s*)?(?:their\s*)?({ANY_LEVEL})\b"
        )
        for m in self.matches(rx):
            a = self.level_of(m.group(1))
            b = self.level_of(m.group(2))
            if a is None or b is None or a[0] == b[0]:
                raise self.fail(f"cannot read the constraint '{m.group(0).strip()}'")
            self.d.constraints.append({"when": {b[0]: b[1]}, "forbid": {a[0]: [a[1]]}})
            self.take(m.start(), m.end())

    _OF_WHOM = (
        r"(?:of\s+(?:the\s+|all\s+|these\s+)?(?:(?P<tot>\d+)\s+)?(?:[a-z-]+\s+)?"
        r"(?:images?|faces?|people|persons|photos?|pictures?|portraits?|them|subjects|children|"
        r"kids|the\s+people|the\s+faces|the\s+images)\s*)?"
    )
    _VERBS = (
        r"(?:(?:should|will|must|shall|to|would|need\s+to)\s+)?(?:(?:be|are|is)\s+)?"
        r"(?:wear(?:ing|s)?|with|have|having|has|in|show(?:ing|s)?|look(?:ing|s)?|get|gets|"
        r"on|put\s+on|sporting|being|are|is|be)?\s*(?:a\s+|an\s+|their\s+|the\s+)?"
    )

    def percentages(self) -> None:
        rx = rf"\b(\d+(?:\.\d+)?)\s*%\s*{self._OF_WHOM}{self._VERBS}({ANY_LEVEL}|[a-z][\w-]*)"
        rx += r"(?![\w-])(?:\s+on)?(?:\s+class)?"
        for m in self.matches(rx):
            if self._share_of(m.span(m.lastindex), float(m.group(1)) / 100, m):
                if m.group("tot"):
                    self.d.total = int(m.group("tot"))
        rx2 = (
            rf"(?<![\w-])({ANY_LEVEL}|[a-z][\w-]*)\s*(?:share|on|in)?\s*(?::\s*|at\s*|=\s*)?"
            rf"\(?\s*(\d+(?:\.\d+)?)\s*%\s*\)?(?:\s*{self._OF_WHOM})?"
        )
        for m in self.matches(rx2):
            if self._share_of(m.span(1), float(m.group(2)) / 100, m) and m.group("tot"):
                self.d.total = int(m.group("tot"))
        rx3 = rf"\b(?:mostly|mainly|largely|predominantly|primarily)\s+(?:in\s+|with\s+|wearing\s+)?({ANY_LEVEL})\b"
        for m in self.matches(rx3):  # a majority, read as three quarters (shown in the plan)
            self._share_of(m.span(1), 0.75, m)
        for m in self.matches(r"\b(\d+(?:\.\d+)?)\s*%"):
            raise self.fail(
                f"cannot tell what '{self.original(m.start(), min(len(self.text), m.end() + 30))}"
                "...' applies to; write e.g. '20% wear glasses'"
            )

    def _share_of(self, span: tuple[int, int], value: float, m: re.Match[str]) -> bool:
        """A share of a class (by name or level) or of a factor level; False if neither."""
        phrase = self.low[span[0] : span[1]]
        names = {n.lower(): n for n, _ in self.d.classes}
        if phrase in names:
            self.d.class_shares[names[phrase]] = value
            self.take(m.start(), m.end())
            return True
        hit = self.level_of(phrase)
        if hit is None:
            return False
        for n, _ in self.d.classes:
            if self.level_of(n) == hit:
                self.d.class_shares[n] = value
                self.take(m.start(), m.end())
                return True
        if hit[0] == self.d.class_factor or (self.d.hint == hit[0] and not self.d.classes):
            self.d.hinted_shares.append((self.original(*span).strip(), value))
            self.take(m.start(), m.end())
            return True
        named = re.search(
            rf"(?:{ANY_FACTOR})\s*:?\s*$", self.low[max(0, m.start() - 30) : m.start()]
        )
        if named is None:
            self.d.share_words.setdefault(hit[0], []).append((self.original(*span).strip(), value))
        self._share(hit, value, m)
        return True

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
        rx = (
            r"\b(?:(?:1|one)\s*(?:image|photo|picture|shot)?|once)\s*(?:for each of|in each of|"
            r"per|for each|in each|at each|for every|in every|at every)\s*(?:the\s+)?(?:\d+\s+)?"
        )
        for m in self.matches(rx):
            spans = self._factor_spans(m.end(), self._clause_end(m.end()))
            if not spans or spans[0][1] != m.end():
                continue
            fs, s, e = spans[0]
            self.take(m.start(), m.end())
            names = self._factors_in(s, self._grid_end(s), scope_image=True)
            self.d.per_person_levels = 1
            for f in names:
                chosen = self.d.balanced.get(f)
                self.d.per_person_levels *= len(chosen) if chosen else len(FACTORS[f])
            for f in fs:
                self.d.image_scope.add(f)

    def balanced(self) -> None:
        trig = (
            r"\b(?:(?:an?\s+)?(?:even|equal|balanced|random|good|wide|broad)\s+(?:mix|spread|split|"
            r"numbers?|shares?|distribution|range|variety)(?:\s+of)?|balanced|balance|evenly|"
            r"equally(?:\s+represented)?|uniformly|spread(?: evenly)?|distributed|varied|"
            r"var(?:y|ies|ying)|changes?|changing|different|various|diverse|assorted|mixed|even|equal|"
            r"(?:a\s+)?(?:range|mix|variety)\s+of|all|every|each|(?:the\s+)?same\s+number\s+"
            r"(?:of|in)|as\s+many)\b(?:\s*(?:across|over|by|between|in|among|for|of|from)\b)?"
            r"(?:\s*(?:the|all|every|each|their)\b)?"
        )
        weak = re.compile(
            r"(?:all|every|each|different|various|diverse|assorted|mixed|as\s+many|even|equal)\b"
        )
        for m in self.matches(trig):
            clause_s = self._clause_start(m.start())
            if re.match(r"\s*:\s", self.low[m.end() :]):  # 'Balance: gender, expression.'
                clause_e = self._clause_end(self.low.index(":", m.end()) + 1)
            else:
                clause_e = self._clause_end(m.end())
            if weak.match(self.low, m.start()):
                near = self._factor_spans(m.end(), min(clause_e, m.end() + 25))
                if not near and self._levels_balanced(m.end(), clause_e):
                    self.take(m.start(), m.end())  # 'as many girls as boys'
                    continue
                if not near or not self.free(m.start(), m.end()):
                    continue
            head = self.low[clause_s : m.start()]
            per_person = bool(
                re.search(r"\b(?:each|every|per)\s*(?:person|identity|individual)\b", head)
            )
            if per_person:
                pm = re.search(r"\b(?:each|every|per)\s*(?:person|identity|individual)\b", head)
                self.take(clause_s + pm.start(), clause_s + pm.end())
            self.take(m.start(), m.end())
            after = self._factor_spans(m.end(), clause_e)
            gap = self.low[m.end() : after[0][1]] if after else ""
            if after and (
                len(gap) <= 25
                or len(gap) <= 60
                and not ANY_LEVEL_RX.search(gap)
                and re.search(r"\b(?:across|over|by|between|among)\s+(?:the\s+)?(?:\d+\s+)?$", gap)
            ):
                self._factors_in(m.end(), clause_e, scope_image=per_person)
                continue
            if self._levels_balanced(m.end(), clause_e) or self._levels_balanced(
                clause_s, m.start(), last=True
            ):
                continue
            before = self._factor_spans(clause_s, m.start())
            colon = re.search(rf"({ANY_FACTOR})\s*:\s*$", self.low[: m.start()])
            if not before and colon and self.free(colon.start(1), colon.end(1)):
                self._factors_in(colon.start(1), colon.end(1), scope_image=per_person)
                self.take(colon.start(), m.start())
                continue
            if not before and (
                self.d.classes
                or self.d.class_factor
                or self._said_factor(clause_s, clause_e)
                or any(self.used[clause_s : m.start()])
            ):
                continue  # 'equal split', 'evenly divided': the classes are equal already
            if not before:
                if re.fullmatch(
                    r"\s*(?:all|every|each|different|various|as many|the same.*)\s*",
                    self.low[m.start() : m.end()],
                ):
                    self.used[m.start() : m.end()] = b"\x00" * (m.end() - m.start())
                    continue
                raise self.fail(
                    f"'{self.original(clause_s, clause_e).strip()}': balanced across what? "
                    "name factors such as skin tone, age group or expression"
                )
            last = before[-1]
            tail = self._free_text(m.end(), clause_e).strip(" ,")
            if tail and not re.search(r"(?:across|over|between|among|in)\s*$", m.group(0)):
                tail = ""  # 'gender balanced, split 70/20/10': nothing after is a level list
            if tail and len(before) == 1 and len(last[0]) == 1:
                # "age group balanced across young adult, middle-aged and elderly"
                levels = self._level_list(m.end(), clause_e, last[0][0])
                self.d.balanced[last[0][0]] = levels
                self.take(last[1], last[2])
                if per_person:
                    self.d.image_scope.add(last[0][0])
            else:
                self._factors_in(clause_s, m.start(), scope_image=per_person)

    def _free_text(self, start: int, end: int) -> str:
        chars = zip(self.low[start:end], self.used[start:end], strict=True)
        return "".join(c if not u else " " for c, u in chars)

    def _said_factor(self, start: int, end: int) -> bool:
        """A factor named in [start, end) and already read ('keep every skin tone equally
        common': 'every skin tone' was read, 'equally' adds nothing)."""
        return any(
            not self.free(fm.start(), fm.end())
            for fm in ANY_FACTOR_RX.finditer(self.low, start, end)
        )

    def _levels_balanced(self, start: int, end: int, last: bool = False) -> bool:
        """'an even mix of men and women': the levels named next to a balance word."""
        found: dict[str, list[tuple[str, int, int]]] = {}
        for lm in ANY_LEVEL_RX.finditer(self.low, start, end):
            if not self.free(lm.start(), lm.end()):
                continue
            hit = self.level_of(lm.group(0))
            if hit is not None and hit[0] != self.d.class_factor:
                found.setdefault(hit[0], []).append((hit[1], lm.start(), lm.end()))
        groups = [g for g in found.values() if len({lv for lv, _, _ in g}) >= 2]
        if not groups:
            return False
        for g in groups:
            factor = next(f for f, v in found.items() if v is g)
            levels = list(dict.fromkeys(lv for lv, _, _ in g))
            self.d.balanced[factor] = levels if len(levels) < len(FACTORS[factor]) else None
            for _, s, e in g:
                self.take(s, e)
        for cm in re.finditer(r",|\band\b|\bor\b|/|&|\bas\b|\bhalf\b", self.low[start:end]):
            self.take(start + cm.start(), start + cm.end())
        return True

    def mentions(self) -> None:
        """Levels named on their own: one fixes it for every image ('300 elderly women',
        'men only'), several restrict the factor to them, equally ('young adults and
        middle-aged')."""
        found: dict[str, list[str]] = {}
        for lm in self.matches(ANY_LEVEL_RX):
            hit = self.level_of(lm.group(0))
            if hit is None or hit[0] == self.d.class_factor:
                continue
            f, lv = hit
            others = [
                x
                for x in ANY_LEVEL_RX.finditer(self.low)
                if (self.level_of(x.group(0)) or ("", ""))[0] == "age_group"
                and self.level_of(x.group(0)) != ("age_group", "child")
                and self.free(x.start(), x.end())
            ]
            if hit == ("age_group", "child") and "age_group" not in self.d.balanced and not others:
                self.d.children = True  # 'child faces', 'kids': the subject, read as today
                self.take(lm.start(), lm.end())
                continue
            if f in self.d.shares or f in self.d.balanced or f in self.d.fixed:
                continue
            if any(self.level_of(n) == hit for n, _ in self.d.classes):
                continue
            found.setdefault(f, [])
            if lv not in found[f]:
                found[f].append(lv)
            self.take(lm.start(), lm.end())
        for f, levels in found.items():
            if f == "age_group" and self.d.age is not None:
                continue
            if len(levels) == 1:
                self.d.fixed[f] = levels[0]
            else:
                self.d.balanced[f] = levels
        for m in self.matches(r"\b(?:only|exclusively|solely|just)\b"):
            self.take(m.start(), m.end())

    def level_ranges(self) -> None:
        """'from child to old', 'Monk skin tones 7 to 10', 'skin tones 7, 8, 9 and 10'."""
        rx = rf"\b(?:from\s+)?(?:an?\s+)?({ANY_LEVEL})\s+(?:to|through|until|up to)\s+(?:an?\s+)?({ANY_LEVEL})\b"
        for m in self.matches(rx):
            a, b = self.level_of(m.group(1)), self.level_of(m.group(2))
            if a is None or b is None or a[0] != b[0] or a == b:
                continue
            order = list(FACTORS[a[0]])
            i, j = sorted((order.index(a[1]), order.index(b[1])))
            self.d.balanced[a[0]] = order[i : j + 1] if j - i + 1 < len(order) else None
            self.take(m.start(), m.end())
        monk = r"(?:monk\s+)?(?:skin\s*tones?|monk(?:\s+scale)?)"
        rx = (
            rf"\b{monk}\s*(?:levels?\s*)?(\d+\s*(?:to|-|through)\s*\d+|\d+(?:\s*(?:,|and|&)\s*\d+)*)"
            r"(?:\s+on\s+the\s+monk\s+(?:skin\s+tone\s+)?scale)?"
        )
        for m in self.matches(rx):
            spec = m.group(1)
            r = re.match(r"(\d+)\s*(?:to|-|through)\s*(\d+)", spec)
            nums = (
                list(range(int(r.group(1)), int(r.group(2)) + 1))
                if r
                else [int(x) for x in re.findall(r"\d+", spec)]
            )
            if not nums or not all(1 <= n <= 10 for n in nums):
                raise self.fail(f"Monk skin tones run from 1 to 10, got '{m.group(0).strip()}'")
            levels = [f"monk_{n}" for n in nums]
            self.d.balanced["skin_tone"] = levels if len(levels) < 10 else None
            self.take(m.start(), m.end())

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
            for lm in re.finditer(rf"(?<![\w-])(?:{ANY_LEVEL})(?![\w-])", self.low[m.end() : stop]):
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
        people = r"(?:people|persons|individuals|subjects|humans|" + _PEOPLE_LEVELS + ")"
        if self.d.identities is None:
            for m in self.matches(rf"\b({_NUM})\s+(?:[a-z-]+\s+){{0,2}}?{people}\b"):
                if self.d.total is None and not re.match(
                    r"\s*(?:%|x|per|each)", self.low[m.end() :]
                ):
                    self.d.total = int(number(m.group(1)))
                    self.take(m.start(1), m.end(1))
        nouns = COUNT_NOUNS
        rx = rf"\b({_NUM}(?:\s*(?:k|thousand|million|m))?)(?:\s*-\s*|\b)((?:\s+[a-z-]+){{0,4}}?)\s*({nouns})\b"
        masked = "".join(" " if u else c for c, u in zip(self.low, self.used, strict=True))
        for m in re.finditer(rx, masked):
            # the words in between (e.g. 'photorealistic child') are read by other rules
            if not (self.free(m.start(1), m.end(1)) and self.free(m.start(3), m.end(3))):
                continue
            between = m.group(2).split()
            if any(w in ("per", "each", "with", "of", "in") for w in between):
                continue
            self.d.total = int(number(m.group(1)))
            self.take(m.start(1), m.end(1))
            self.take(m.start(3), m.end(3))
        for m in self.matches(
            rf"\b(?:total(?: of)?|in total|overall|altogether|count|images|faces)\s*[:=]?\s*({_NUM})\b"
            rf"|\b({_NUM})\s*(?:{COUNT_NOUNS}\s*)?(?:in\s+total|total|in\s+all|altogether|overall)\b"
        ):
            self.d.total = int(number(m.group(1) or m.group(2)))
            self.take(m.start(), m.end())
        for m in self.matches(rf"(?<![\w.])-({_NUM})\b"):
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
        planned |= {hit[0] for n, _ in self.d.classes if (hit := self.level_of(n))}
        if self.d.hint:
            planned.add(self.d.hint)
        if self.d.class_factor:
            planned.add(self.d.class_factor)
        if self.d.age:
            planned.add("age_group")
        for rx, fs in FACTOR_RX:
            for m in self.matches(rx):
                if any(f in planned for f in fs):
                    self.take(m.start(), m.end())

    def leftovers(self) -> None:
        """Fail on leftover words that look like a requirement; let the rest go.

        A requirement-looking word is a number, a percentage, a vocabulary level or factor name,
        or a visual attribute facetory cannot draw. Runs of such words are quoted together with
        the words between them, so the person sees the phrase they wrote.
        """
        runs: list[tuple[int, int]] = []
        for m in re.finditer(r"[^\s,;:()]+", self.low):
            s, e = m.start(), m.end()
            if not self.free(s, e) or not self._asks(s, e):
                continue
            if (
                runs
                and not re.search(r"[.;\n]", self.low[runs[-1][1] : s])
                and all(not self.used[i] for i in range(runs[-1][1], s))
                and len(self.low[runs[-1][1] : s].split()) <= 3
            ):
                runs[-1] = (runs[-1][0], e)
            else:
                runs.append((s, e))
        if not runs:
            return
        quoted = "; ".join(f"'{self.original(s, e).strip(' .,')}'" for s, e in runs[:5])
        unknown = [self.original(s, e) for s, e in runs if self._unrepresentable(s, e)]
        if unknown:
            raise SpecError(
                f"facetory cannot draw or check {quoted} as an attribute: it varies "
                f"{', '.join(fw.title for fw in VOCABULARY.values())}. Make it a class "
                "('classes: with X and without X') to have it in the prompts, or leave it out"
            )
        raise SpecError(
            f"could not place these words offline: {quoted}. Say what they apply to (e.g. "
            "'20% wear glasses', 'balanced across gender', 'classes: a and b'), set "
            "OPENAI_BASE_URL for LLM mode, or write the spec as YAML (specs/schema.json)"
        )

    def _asks(self, start: int, end: int) -> bool:
        """Does the word at [start, end) look like a requirement?"""
        word = self.low[start:end].strip(".'\"!?")
        if not word or word in FILLER:
            return False
        if re.fullmatch(r"[\d.,/:x%-]*\d[\d.,/:x%-]*", word) or "%" in word:
            return True
        if self._unrepresentable(start, end):
            return True
        before = self.low[max(0, start - 40) : start]
        asked = _ASKED_FOR.search(before)
        if asked and self.free(start - len(before) + asked.start(), start) and word not in _MILD:
            return True  # 'faces with purple unicorns': something the images must show
        line = self.low
        for rx in (ANY_LEVEL_RX, ANY_FACTOR_RX):
            for m in rx.finditer(line, max(0, start - 40), min(len(line), end + 40)):
                if m.start() <= start and m.end() >= end and self.free(m.start(), m.end()):
                    return True
        return False

    def _unrepresentable(self, start: int, end: int) -> bool:
        return bool(UNREPRESENTABLE_RX.fullmatch(self.low[start:end].strip(".'\"!?")))
