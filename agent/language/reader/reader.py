"""The offline reader: plain English -> a Draft of what was asked for.

Every word the reader uses is marked. Words left over that look like a requirement (a number, a
percentage, a vocabulary word, a factor name, a visual attribute facetory cannot draw) make the
request fail with those words quoted; words that carry no requirement ("We're building a
classifier for school photos") never do. Later statements win over earlier ones ("300 faces ...
make it 600 faces"), which is how reviewer feedback is applied offline.
"""

from __future__ import annotations

import re

from agent.language.reader.attributes import AttributesMixin
from agent.language.reader.base import _NUM
from agent.language.reader.class_lists import ClassListsMixin
from agent.language.reader.content import unexplained_words
from agent.language.reader.counts import CountsMixin
from agent.language.reader.draft import Draft
from agent.language.reader.ratios import RatiosMixin
from agent.language.reader.words import (
    ACCOUNTING,
    ANY_FACTOR,
    ANY_FACTOR_RX,
    ANY_LEVEL,
    ANY_LEVEL_RX,
    COUNT_NOUNS,
    EXCLUDABLE,
    FILLER,
    UNREPRESENTABLE_RX,
    levels_of,
    number,
)
from agent.language.spec import SpecError
from tools.vocabulary import VOCABULARY

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


class Reader(CountsMixin, ClassListsMixin, RatiosMixin, AttributesMixin):
    """Reads one request: `Reader(text).run()` -> Draft, or a SpecError naming the words."""

    def run(self) -> Draft:
        self._excluded: list[tuple[str, str, int, int]] = []
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
            self.per_factor_cell,
            self.hint,
            self.class_lists,
            self.classify,
            self.task,
            self.per_class,
            self.times_per_class,
            self.class_ratio,
            self.constraints,
            self.negated_levels,
            self.level_multiples,
            self.level_ratio,
            self.percentages,
            self.level_counts,
            self.rest_level,
            self.per_identity,
            self.level_ranges,
            self.balanced,
            self.exclusions,
            self.same,
            self.per_level,
            self.level_count,
            self.totals,
            self.mentions,
            self.subject,
            self.context,
            self.factor_mentions,
            self.scoped_shares,
        ):
            step()
        self.leftovers()
        return self.d

    def per_factor_cell(self) -> None:
        """'50 images for each gender and age group', '100 per age group': a count per
        combination of the factors named, which are balanced."""
        rx = (rf"\b({_NUM})\s*(?:{COUNT_NOUNS}\s*)?(?:per|for\s+each|for\s+every|in\s+each|"
              rf"each)\s+(?:(?:of\s+)?the\s+)?{ACCOUNTING['cell_words']}?(?=(?:{ANY_FACTOR})\b)")
        for m in self.matches(rx):
            end = self._grid_end(m.end())
            if "(" in self.low[m.end() : end] or ANY_LEVEL_RX.search(self.low, m.end(), end):
                continue  # '250 per ethnicity (a, b, c)', 'per expression for a, b': classes
            if self.d.identities or self.d.people or self.d.identity_intent:
                return  # 'one photo per age group' of each person: images per person
            if self.d.per_cell is None and self._factors_in(m.end(), end):
                self.d.per_cell = int(number(m.group(1)))
                self.take(m.start(), m.end())

    _LEVEL_COUNT = re.compile(
        rf"\b(\d+)\s*(?:{COUNT_NOUNS}\s*)?(?:of\s+them\s+)?(?:(?:should|will|must|to|shall)\s+)?"
        rf"(?:(?:be|are)\s+)?(?:(?:with|wearing|wear|in|having|have|has|showing|show|who\s+have|"
        rf"that\s+have)\s+)?(?:(?:a|an|the|their)\s+)?({ANY_LEVEL})(?![\w-])"
    )
    _COUNT = re.compile(rf"\b(\d+)\s*{COUNT_NOUNS}\b")

    def level_counts(self) -> None:
        """'1000 faces, 250 with sunglasses', '700 with blue eyes and 300 with brown eyes':
        counts of a level's images are its share of the total said apart, or of their sum."""
        if self.d.classes:
            return
        found = [m for m in self.matches(self._LEVEL_COUNT)
                 if len({f for f, _ in levels_of(m.group(2))}) == 1]
        if not found:
            return
        said = [c for c in self.matches(self._COUNT)
                if not any(c.start() == m.start() for m in found)]
        if self.d.total is None and len(said) == 1:
            total = int(said[0].group(1))
        elif self.d.total is None and len(said) == 0 and len(found) > 1:
            total = sum(int(m.group(1)) for m in found)
            self.d.total = total
        else:
            return
        for m in found:
            if self._share_of(m.span(2), int(m.group(1)) / total, m):
                self.take(m.start(), m.span(2)[0])

    _NEGATED_LEVEL = re.compile(
        ACCOUNTING["negations"].removesuffix("$") + rf"({ANY_LEVEL})(?![\w-])"
    )

    def negated_levels(self) -> None:
        """'no men', 'nobody with eyes closed': of a factor with two levels, the other one in
        every image (a factor with more levels is left to `exclusions` and the accounting)."""
        for m in self.matches(self._NEGATED_LEVEL):
            hits = {(f, lv) for f, lv in levels_of(m.group(1))}
            if len(hits) != 1 or ANY_LEVEL_RX.match(self.low, m.start()):
                continue  # 'no hat' is a level itself
            factor, level = hits.pop()
            others = [lv for lv in VOCABULARY[factor].levels if lv != level]
            if len(others) == 1 and self.d.fixed.get(factor, others[0]) == others[0]:
                self.d.fixed[factor] = others[0]
                self.take(m.start(), m.end())
            elif factor in EXCLUDABLE and factor not in self.d.shares | self.d.fixed:
                self._excluded.append((factor, level, m.start(), m.end()))
                self.take(m.start(), m.end())  # kept from `mentions`; `exclusions` decides

    _AND_NOT = re.compile(rf"\s*(?:,|/|\bor\b|\bnor\b|\band\b)\s*(?:no\s+)?({ANY_LEVEL})(?![\w-])")

    def exclusions(self) -> None:
        """'every age except children', 'balanced ethnicities, no white people': a level said
        after a negation leaves the factor's other levels, equally, where the request balances
        the factor (else the accounting asks: 'no kids' says nothing of the other ages)."""
        for factor, level, start, end in self._excluded:
            if factor in self.d.balanced:
                self._exclude(factor, level, start, end)
            else:
                self.used[start:end] = bytes(end - start)

    def _exclude(self, factor: str, level: str, start: int, end: int) -> None:
        """Leave out `level` and the levels of its factor listed after it ('no kids or teens')."""
        out = {level}
        while (more := self._AND_NOT.match(self.low, end)) and len(
                hits := {h for h in levels_of(more.group(1)) if h[0] == factor}) == 1:
            out.add(hits.pop()[1])
            end = more.end()
        kept = self.d.balanced.get(factor) or list(VOCABULARY[factor].levels)
        self.d.balanced[factor] = [lv for lv in kept if lv not in out]
        self.take(start, end)

    _RATIO = r"(\d+(?:\.\d+)?(?:\s*:\s*\d+(?:\.\d+)?)+)"
    _LEVELS = rf"({ANY_LEVEL})((?:\s*(?:,|/|\bto\b|\band\b|\bvs\.?)\s*(?:{ANY_LEVEL}))+)"
    _LEVEL_RATIOS = (
        re.compile(rf"(?<![\w-]){_LEVELS}\s*(?:(?:in|at|of)\s+)?(?:an?\s+)?(?:ratio\s+(?:of\s+)?)?"
                   rf"{_RATIO}(?![\d:])"),
        re.compile(rf"(?<![\d:]){_RATIO}\s*(?:ratio\s+)?(?:(?:of|for|between)\s+)?{_LEVELS}"),
    )

    def level_ratio(self) -> None:
        """'men and women 2:1', 'a 4:1 ratio of smiling to neutral': shares of one factor's
        levels in proportion (with no classes; a ratio of classes is `class_ratio`)."""
        if self.d.classes:
            return
        for rx in self._LEVEL_RATIOS:
            for m in self.matches(rx):
                texts = m.groups()
                ratio = texts[0] if rx is self._LEVEL_RATIOS[1] else texts[-1]
                names = [texts[1 if ratio == texts[0] else 0]]
                names += [x.group(0) for x in ANY_LEVEL_RX.finditer(texts[-1 if ratio == texts[0]
                                                                          else 1])]
                self._ratio_shares(m, names, [float(x) for x in re.findall(_NUM, ratio)])

    def _ratio_shares(self, m: re.Match[str], names: list[str], parts: list[float]) -> None:
        hits = [self.level_of(n) for n in names]
        if len(hits) != len(parts) or None in hits or len({h[0] for h in hits}) != 1 \
                or len(set(hits)) != len(hits) or not sum(parts):
            return
        for (factor, level), part in zip(hits, parts, strict=True):
            self.d.shares.setdefault(factor, {})[level] = part / sum(parts)
        self.take(m.start(), m.end())

    _REST = re.compile(
        ACCOUNTING["rest_words"] + r"\s+(?:(?:is|are|goes|go|to|as|get|gets|with|have|has)\s+)*"
    )

    def rest_level(self) -> None:
        """'blue eyes 20%, green eyes 10%, everything else brown', 'the remainder white': the
        level after a rest word takes what the shares of its factor leave."""
        for m in self.matches(self._REST):
            lm = ANY_LEVEL_RX.match(self.low, m.end()) or re.compile(r"none\b").match(
                self.low, m.end())  # 'the others with none': the rest level of the factor
            if lm is None or not self.free(lm.start(), lm.end()):
                continue
            shared = [o for o in levels_of(lm.group(0)) if o[0] in self.d.shares] or [
                (f, "none") for f in self.d.shares if VOCABULARY[f].rest == "none"]
            if len(shared) != 1 or shared[0][1] in self.d.shares[shared[0][0]]:
                continue
            f, lv = shared[0]
            left = 1 - sum(self.d.shares[f].values())
            if left <= 1e-9:
                continue
            self.d.shares[f][lv] = left
            self.take(m.start(), lm.end())

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
            if words := unexplained_words(self.low, self.used):
                raise SpecError(
                    "not planned, so as not to guess: "
                    + "; ".join(f"'{w}' - {why}" for w, why in words[:5])
                    + ". Say it another way (e.g. '25% wear hats', 'classes: a, b and c')"
                )
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
