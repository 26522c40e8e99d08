"""Recognisers of counts and settings: totals, identities, faces per image, splits, image
size, seed, thresholds, budget, generation, task and the model a request is for."""

from __future__ import annotations

import re
from typing import Any

from agent.language.reader.base import _NUM, _PEOPLE_LEVELS, _SENTENCE, ReaderBase
from agent.language.reader.words import (
    ANY_FACTOR,
    ANY_FACTOR_RX,
    ANY_LEVEL,
    ANY_LEVEL_RX,
    COUNT_NOUNS,
    number,
)
from tools.config import MAX_FACES_PER_IMAGE, DiffusersConfig, ProceduralConfig


class CountsMixin(ReaderBase):
    # --- recognisers -------------------------------------------------------------------------
    def negatives(self) -> None:
        rx = r"(?:(?<![\w.])-|\bminus\s+|\bnegative\s+)\d[\d,]*\s*"
        rx += r"(?:images?|faces?|photos?|per|each|people|persons|"
        rx += r"identities|classes|%)"
        for m in self.matches(rx):
            raise self.fail(f"counts must be positive, got '{m.group(0).strip()}'")

    def title(self) -> None:
        """'Crowd detection: ...' names the dataset; 'happy: 150' or 'We need: ...' does not."""
        m = re.match(r"\s*([^\n:.;]{1,80}?)\s*:\s", self.low)
        if m is None:
            return
        head = m.group(1)
        if len(head.split()) == 1 and not self.text[m.start(1)].isupper() or "," in head:
            return
        if ANY_LEVEL_RX.search(head) and re.match(r"\s*0?\.\d", self.low[m.end() :]):
            return  # 'faces with glasses: 0.25': a level and its number, not a name
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
            if re.search(rf"\b(?:{COUNT_NOUNS}|{self._WHO})$", head):  # 'Blurry faces:' says
                self.take(m.end(1), m.end())  # what the faces are: its words are checked
            else:
                self.take(m.start(), m.end())

    def seed(self) -> None:
        for m in self.matches(r"\b(?:random )?seed(?:\s*(?:=|:|of|is))?\s*(\d+)\b"):
            self.d.top["seed"] = int(m.group(1))
            self.take(m.start(), m.end())

    def image_size(self) -> None:
        pats = [
            r"\b(\d{2,4})\s*(?:x|by)\s*(\d{2,4})\b(?:\s*(?:px|pixels?))?"
            r"(?:\s*resolution)?",
            r"\b(?<!batch )(?<!batch_)(?<!batch-)"  # a batch size is not an image size
            r"(?:image\s+size|resolution|size|side|image\s+side)\s*(?:of|is|:|=)?\s*(\d{2,4})"
            r"(?:\s*(?:px|pixels?))?()",
            r"\b(\d{2,4})\s*(?:-\s*)?(?:px|pixels?)\b(?:\s*(?:square|wide|resolution))?()",
        ]
        for rx in pats:
            for m in self.matches(rx):
                w = int(m.group(1))
                h = int(m.group(2)) if m.group(2) else w
                if min(w, h) < 32:  # '12 x 50 images' is a multiplication, not a size
                    continue
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
        sep = r"(?:\s*[/,-]\s*|\s+(?:and\s+)?)"  # 'train/val/test', 'train val test'
        names = rf"{self._PART}(?:{sep}{self._PART})?(?:{sep}{self._PART})?"
        ratio = r"(\d+(?:\.\d+)?)\s*[/:]\s*(\d+(?:\.\d+)?)(?:\s*[/:]\s*(\d+(?:\.\d+)?))?\s*%?"
        rx = (
            rf"(?:\b(?:(?P<pre>{names})\s*(?:split\s*)?[:=]?\s*|splits?\s*(?:of\s*|ratios?\s*|"
            rf"it\s*|them\s*)?[:=]?\s*)?)\b{ratio}(?:\s*(?P<post>{names}))?(?:\s*splits?)?"
            r"(?:\s*by\s*(?:identity|person|people|identities))?"
        )
        parts = self._split_ratio(rx)
        parts.update(self._split_named())
        rest = None
        for m in self.matches(
            rf"\b(?:the\s+)?(?:rest|remainder|everything\s+else)\s+(?:for\s+|to\s+|as\s+)?"
            rf"(?:the\s+)?{self._PART}"
        ):
            rest = self._part_name(m.group(1))
            self.take(m.start(), m.end())
        for m in self.matches(rf"\b(?:the\s+)?(?:rest|remainder)\s+(?:split\s+|divided\s+)?"
                              rf"(?:evenly|equally)\s+(?:between|among|across)\s+(?:the\s+)?"
                              rf"{self._PART}\s+(?:and|&)\s+(?:the\s+)?{self._PART}\b"):
            if parts and sum(parts.values()) <= 100:  # '80% train, rest split evenly between
                left = (100 if sum(parts.values()) > 1 else 1) - sum(parts.values())  # val, test'
                parts.update({self._part_name(m.group(i)): left / 2 for i in (1, 2)})
                self.take(m.start(), m.end())
        if not parts:
            return
        if rest is not None and sum(parts.values()) <= 100:
            scale = 100 if sum(parts.values()) > 1 else 1
            parts[rest] = scale - sum(parts.values())  # over 100: images; the rest is settled
            # against the total (`draft._splits` gives the one part left the rest)
        self.d.split_parts = parts
        for m in self.matches(r"\b(?:use|split\s+(?:it|them)?|splits?)\b"):
            if self.free(m.start(), m.end()) and not self._levels_after(m.start()):
                self.take(m.start(), m.end())

    def _split_ratio(self, rx: str) -> dict[str, float]:
        """'80/10/10', 'train/val 85/15': parts in the order named (or train, val, test)."""
        parts: dict[str, float] = {}
        for m in self.matches(rx):
            words = m.group("pre") or m.group("post")
            values = [
                float(x) for x in (m.group(i) for i in self._ratio_groups(m)) if x is not None
            ]
            if not words and not re.search(r"split", m.group(0)) and len(values) < 3:
                continue  # '75/25' alone could be anything; '80/10/10' is a split
            if not words and (":" in m.group(0) or self._levels_after(m.end())):
                continue  # '1:1:1', '60/40 split of men and women': a ratio of levels
            order = [self._part_name(w) for w in re.findall(self._PART, words or "")]
            order = order or ["train", "val", "test"][: len(values)]
            if len(order) != len(values):
                continue
            if ":" in m.group(0) and sum(values):  # 'train/val/test = 8:1:1': proportions
                values = [100 * v / sum(values) for v in values]
            parts = dict(zip(order, values, strict=True))
            self.take(m.start(), m.end())
        return parts

    _LEVELS_AFTER = re.compile(rf"\s*(?:split\s+|mix\s+)?(?:of|between)\s+(?:the\s+)?"
                               rf"(?:{COUNT_NOUNS}\s+(?:with\s+)?)?(?:{ANY_LEVEL})")

    def _levels_after(self, pos: int) -> bool:
        """'a 60/40 split of men and women': levels follow the ratio, so it is no split."""
        return bool(self._LEVELS_AFTER.match(self.low, pos))

    def _split_named(self) -> dict[str, float]:
        """'70% train', 'test 200', 'no test set': parts each named with its number."""
        parts: dict[str, float] = {}
        named = (
            rf"\b(\d+(?:\.\d+)?)\s*(%?)\s*(?P<unit>{COUNT_NOUNS}\s+)?(?:each\s+)?"
            rf"(?:of\s+them\s+)?(?:go(?:es)?\s+)?"
            rf"(?:for|to|in|as)?\s*(?:the\s+)?"
            rf"{self._PART}(?:\s+(?:and|&)\s+{self._PART})?(?:\s+sets?|\s+splits?)?\b"
            rf"|\b{self._PART}(?:\s+sets?|\s+splits?)?(?:\s+of)?\s*[:=]?\s*(\d+(?:\.\d+)?)\s*(%?)"
        )
        for m in self.matches(named):
            g = m.groups()
            if g[0] is not None:
                parts.update({self._part_name(w): float(g[0]) for w in (g[3], g[4]) if w})
            else:
                parts[self._part_name(g[5])] = float(g[6])
            if "%" in (g[1], g[7]) or m.group("unit"):  # said as a share or as images
                self.d.split_unit = "%" if "%" in (g[1], g[7]) else "images"
            self.take(m.start(), m.end())
        for m in self.matches(
            rf"\b(?:no|without\s+an?|nothing\s+(?:to|for))\s+{self._PART}(?:\s+(?:set|split))?"
        ):
            parts[self._part_name(m.group(1))] = 0.0
            self.take(m.start(), m.end())
        return parts

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
        for m in self.matches(r"\bbatch(?:es)?[\s_-]*(?:size\s*)?(?:of\s*|=\s*|:\s*)?(\d+)\b"):
            self.d.top.setdefault("budget", {})["batch_size"] = int(m.group(1))
            self.take(m.start(), m.end())

    def generation(self) -> None:
        gen: dict[str, Any] = {}
        rx = (
            r"\b(?:(?:using|with|on|via)\s*)?(?:the\s*)?diffusers(?:\s*backend)?"
            r"(?:\s*(?:and|with)?\s*(?:the\s*)?(?:model|checkpoint)\s*([\w./:\\~-]+))?"
        )
        for m in self.matches(rx):
            gen["backend"] = DiffusersConfig.backend
            if m.group(1):
                gen["model"] = self.original(m.start(1), m.end(1)).rstrip(".,")
            self.take(m.start(), m.end())
        for m in self.matches(
            r"\b(?:(?:using|with)\s*(?:the\s*)?)?procedural\s*(?:renderer|"
            r"backend|generator)?"
        ):
            gen["backend"] = ProceduralConfig.backend
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
        """What the images are for: refused media and tasks, likenesses, identity and
        detect/classify words."""
        self._refused_media()
        self._no_likeness()
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

    def _refused_media(self) -> None:
        """Videos, audio, 3D and tasks facetory does not make fail, naming the words."""
        media = (
            r"\b(videos?|video clips?|clips|footage|animations?|animated|gifs?|movies?|audio|"
            r"voices?|sound|speech|3d(?: face)?(?: meshes| models?| scans?| avatars?)?)\b"
        )
        found = [m.group(1) for m in self.matches(media)]
        if found:
            raise self.fail(
                f"facetory makes still images, not {', '.join(repr(w) for w in found)}: ask for "
                "a number of face images (e.g. '300 faces, eyes open and closed')"
            )
        unknown = (
            r"\b(segment\w*|face parsing|keypoints?|"
            r"landmark (?:detection|localisation|localization)|"
            r"pose estimation|caption\w*|depth (?:estimation|maps?)|super-?resolution|inpainting|"
            r"3d (?:models?|meshes|scans?)|meshes)\b"
        )
        tasks = [m.group(1) for m in self.matches(unknown)]
        if tasks:
            raise self.fail(
                f"unknown task {', '.join(repr(w) for w in tasks)}: facetory makes still face "
                "images labelled with boxes and classes and trains YOLO to detect or classify "
                "them; say 'detect' or 'classify'"
            )

    def _no_likeness(self) -> None:
        """A real person's name or a look-alike request fails."""
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

    _WHO = (
        r"(?:(?:synthetic|distinct|unique|different|fictional|fictitious|made-up|fake|virtual|"
        r"imaginary|generated|random|artificial|individual)\s+)*"
        r"(?:people|persons|identities|ids|individuals|subjects|characters|humans|employees|"
        r"staff members|users|customers|students|patients|participants|volunteers|workers|"
        r"members|visitors|passengers|residents)"
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
        self._level_people(imgs)
        people, per = None, None
        for m in self.matches(rf"\b(?:({_NUM})\s+{who}|{who}\s*[:=]?\s*({_NUM}))\b"):
            people = int(number(m.group(1) or m.group(2)))
            self.take(m.start(), m.end())
        per = self._per_person(per_word, people)
        self._settle_people(people, per)

    def _level_people(self, imgs: str) -> None:
        """'100 adults, 20 photos of each': people named by a level word, each photographed
        that many times (the level word is left to be read as the level)."""
        rx = (rf"\b({_NUM})\s+(?:[a-z]+\s+)?(?:{_PEOPLE_LEVELS})\s*(?:,|and|with|-)?\s*({_NUM})"
              rf"\s*(?:{imgs})\s*(?:of|for|per)\s+each(?:\s+(?:one|of\s+them))?\b"
              r"(?=\s*(?:[,.;:!\n)]|$|\s+(?:and|with|wearing)\b))")  # not 'for each class'
        for m in self.matches(rx):
            self.d.identities = (int(number(m.group(1))), int(number(m.group(2))))
            self.take(m.start(1), m.end(1))
            self.take(m.start(2), m.end())

    def _per_person(self, per_word: str, people: int | None) -> int | None:
        """Images per person: '8 photos per person', 'photographed 5 times', '10 each'."""
        imgs, per = COUNT_NOUNS, None
        rx = (
            rf"\b({_NUM})\s*(?:{imgs}\s*)?(?:each\s+)?{per_word}\b|"
            rf"\b(?:{imgs})\s*{per_word}\s*[:=]?\s*({_NUM})"
        )
        times = (
            rf"\b(?:each\s+)?(?:photographed|pictured|shot|captured|imaged|rendered|drawn|shown|"
            rf"seen|appearing)\s+({_NUM})\s+times\b|\b({_NUM})\s+times\s+each\b"
        )
        for pattern in (rx, times):
            for m in self.matches(pattern):
                per = int(number(m.group(1) or m.group(2)))
                self.take(m.start(), m.end())
        if people is not None and per is None and self.d.identities is None:
            m = next(self.matches(rf"\b({_NUM})\s*(?:{imgs})?\s*(?:each|apiece)\b"), None)
            if m is not None:
                per = int(number(m.group(1)))
                self.take(m.start(), m.end())
        return per

    def _settle_people(self, people: int | None, per: int | None) -> None:
        """People and images each -> identities; people alone wait for the total."""
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
        heads = r"(?:faces|heads)"
        where = r"(?:per|in each|in every|in|each|an?|in one|in 1|in the same|in a|on each|on)\s*"
        where += r"(?:image|frame|photo|picture|pic|img|shot|scene|selfie)s?\b"
        many = r"(?:exactly\s+|between\s+|from\s+|up\s+to\s+)?"
        pats = [
            (rf"\b{many}(\d+)\s*(?:to|-|and)\s*(\d+)\s*{who}\s*(?:{where}|each|in each)", None),
            (rf"\b{many}(\d+)\s*{who}\s*{where}()", None),
            (rf"\b{many}(\d+)\s*{heads}\s*(?:each|in each|apiece)()", None),
            (
                rf"\b(?:each|every\s+(?:image|picture|photo|frame))\s+(?:with|showing|containing|"
                rf"has|having|of)\s+{many}(\d+)(?:\s*(?:to|-|and)\s*(\d+))?\s*{who}\b",
                None,
            ),
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
                if (
                    hi > 20
                    and preset is None
                    and not re.search(r"per|in each|in every", m.group(0))
                ):
                    continue  # '150 faces apiece' counts images, not faces in one
                if not 1 <= lo <= hi <= MAX_FACES_PER_IMAGE:
                    raise self.fail(f"faces per image must be between 1 and "
                                    f"{MAX_FACES_PER_IMAGE}, got {lo}-{hi}")
                self.d.faces = lo if lo == hi else (lo, hi)
                self.d.children |= bool(re.search(r"\b(?:children|kids)\b", m.group(0)))
                self.take(m.start(), m.end())

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
        rx = (
            rf"\b({_NUM}(?:\s*(?:k|thousand|million|m))?)(?:\s*-\s*|\b)((?:\s+[a-z-]+){{0,4}}?)"
            rf"\s*({nouns})\b"
        )
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
            r"\b(?:total(?: of)?|in total|overall|altogether|count|images|faces)\s*[:=]?\s*"
            rf"({_NUM})\b"
            rf"|\b({_NUM})\s*(?:{COUNT_NOUNS}\s*)?(?:in\s+total|total|in\s+all|altogether|overall)\b"
        ):
            self.d.total = int(number(m.group(1) or m.group(2)))
            self.take(m.start(), m.end())
        self._times_at_end()
        self._bare_total()
        for m in self.matches(rf"(?<![\w.])-({_NUM})\b"):
            raise self.fail(f"counts must be positive, got '{m.group(0).strip()}'")
        if self.d.total is not None and self.d.total < 1:
            raise self.fail(f"the number of images must be at least 1, got {self.d.total}")

    def _times_at_end(self) -> None:
        """'... women with long hair x 350': that many images of what was described."""
        for m in self.matches(rf"(?<![\w.])[x\u00d7]\s*({_NUM})\s*[.!]?\s*$"):
            if self.d.total is None:
                self.d.total = int(number(m.group(1)))
                self.take(m.start(), m.end())

    def _bare_total(self) -> None:
        """'Women with glasses. 1200.': a number that is a sentence of its own is the total."""
        rx = (rf"(?:^|(?<=[.!?\n]))\s*({_NUM})\s*(?:[.!]\s*|$)(?P<more>\s+[a-z])?"
              r"(?=\s*$|\s*\n|\s+[a-z])")
        for m in self.matches(rx, re.MULTILINE):
            if m.group("more") and number(m.group(1)) < 50:
                continue  # '1. women with glasses': an item of a numbered list
            if self.d.total is None:
                self.d.total = int(number(m.group(1)))
                self.take(m.start(1), m.end(1))

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
