"""Recognisers of levels said in proportion to each other ('twice as many women as men',
'three times more smiling than neutral', 'women outnumber men 4 to 1', 'men to women 3 to 1',
'blond:black:red hair 1:1:1'), and of how many levels a factor has ('300 per ethnicity, five
ethnicities'). Proportions become shares of one factor's levels; names that are levels of no
one common factor, and level counts the vocabulary does not have, are asked about."""

from __future__ import annotations

import re

from agent.language.reader.base import _NUM, ReaderBase
from agent.language.reader.words import ANY_FACTOR, ANY_LEVEL, COUNT_NOUNS, levels_of, number
from tools.vocabulary import FACTORS

_THING = rf"(?:(?:with|wearing|in|having|of)\s+)?(?:an?\s+|the\s+)?({ANY_LEVEL})"
_NOUN = rf"(?:\s+(?:{COUNT_NOUNS}|ones|ones?\s+with\s+\w+))?"
#: 'twice as many X as Y', '3 times more X than Y', 'as many X as Y' (said once: 1 to 1).
_MULTIPLE = re.compile(
    rf"\b(?:(?P<n>twice|double|{_NUM}\s*(?:times?|x))\s+(?:as\s+many|more)|(?P<eq>(?:just\s+)?"
    rf"as\s+many|the\s+same\s+number\s+of))\s+(?:{COUNT_NOUNS}\s+)?{_THING}{_NOUN}\s+"
    rf"(?:as|than)\s+(?:there\s+are\s+)?{_THING}{_NOUN}(?![\w-])(?!\s+(?:as|than|and)\b)"
)  # 'twice as many men as women as children' chains two factors: asked about
#: 'women outnumber men 4 to 1', 'smiling outnumber neutral by 2:1'.
_OUTNUMBER = re.compile(
    rf"(?<![\w-])({ANY_LEVEL}){_NOUN}\s+(?:should\s+|will\s+|must\s+)?outnumbers?\s+(?:the\s+)?"
    rf"({ANY_LEVEL}){_NOUN}\s+(?:by\s+)?(?:(?:a|the)\s+)?(?:ratio\s+(?:of\s+)?)?"
    rf"({_NUM})\s*(?::|\bto\b)\s*({_NUM})(?![\d:])"
)
_PARTS = rf"({_NUM}(?:\s*(?::|\bto\b)\s*{_NUM})+)"
_FACES = rf"(?:(?:{COUNT_NOUNS})\s+(?:with\s+|in\s+|wearing\s+)?)?"  # 'faces looking left
#: 'men to women 3 to 1', 'blond:black:red hair 1:1:1', 'hat:no hat = 1:2'.
_NAMED_RATIO = re.compile(
    rf"(?<![\w-]){_FACES}({ANY_LEVEL})((?:\s*(?::|/|,|\bto\b|\bvs\.?|,?\s*\b(?:and|or)\b)"
    rf"\s*{_FACES}(?:{ANY_LEVEL}))+)"
    rf"(?:\s+(?:{ANY_FACTOR}))?\s*(?:(?:in|at|of)\s+)?(?:an?\s+)?(?:ratio\s+(?:of\s+)?)?[:=]?\s*"
    rf"{_PARTS}(?![\d:])"
)

#: 'a 2:1 split of indoor and outdoor backgrounds', 'a 60/40 mix of men and women'.
_RATIO_FIRST = re.compile(
    rf"(?<![\d:/.])({_NUM}(?:\s*[:/]\s*{_NUM})+)\s*(?:ratio|split|mix)?\s*(?:of|for|between)\s+"
    rf"(?:the\s+)?{_FACES}({ANY_LEVEL})((?:\s*(?:/|,|\bto\b|\bvs\.?|,?\s*\b(?:and|or)\b)\s*"
    rf"{_FACES}(?:{ANY_LEVEL}))+)"
)

#: 'five ethnicities', '6 different hair colours'.
_LEVEL_COUNT = re.compile(
    rf"\b(\d+)\s+(?:(?:different|distinct|separate)\s+)?({ANY_FACTOR})(?![\w-])"
)


def common_levels(names: list[str]) -> list[tuple[str, str]] | None:
    """The (factor, level) of each name, all of one factor, or None where no single factor
    has every name (an ambiguous word like 'black' takes its meaning from its neighbours)."""
    options = [levels_of(n) for n in names]
    factors = set.intersection(*({f for f, _ in o} for o in options)) if options else set()
    if len(factors) != 1:
        return None
    factor = factors.pop()
    hits = [next((f, lv) for f, lv in o if f == factor) for o in options]
    return hits if len({lv for _, lv in hits}) == len(hits) else None


class RatiosMixin(ReaderBase):
    def level_multiples(self) -> None:
        """Levels said in proportion ('twice as many women as men', 'men to women 3 to 1'):
        shares of one factor's levels, when there are no classes (those are `class_ratio`'s)."""
        if self.d.classes:
            return
        for m in self.matches(_MULTIPLE):
            n = m.group("n") or "1"
            times = 2.0 if n in ("twice", "double") else number(re.match(_NUM, n).group(0))
            self._proportion(m, [m.group(3), m.group(4)], [times, 1.0])
        for m in self.matches(_OUTNUMBER):
            parts = [float(m.group(3)), float(m.group(4))]
            if parts[0] > parts[1]:  # 'outnumber 1 to 4' says the opposite of the verb
                self._proportion(m, [m.group(1), m.group(2)], parts)
        for m in self.matches(_RATIO_FIRST):
            names = [m.group(2), *re.findall(ANY_LEVEL, re.sub(COUNT_NOUNS, " ", m.group(3)))]
            self._proportion(m, names, [float(x) for x in re.findall(_NUM, m.group(1))])
        for m in self.matches(_NAMED_RATIO):
            names = [m.group(1), *re.findall(ANY_LEVEL, re.sub(COUNT_NOUNS, " ", m.group(2)))]
            self._proportion(m, names, [float(x) for x in re.findall(_NUM, m.group(3))])

    def _proportion(self, m: re.Match[str], names: list[str], parts: list[float]) -> None:
        hits = common_levels(names)
        if hits is None or len(hits) != len(parts) or not sum(parts):
            return
        factor = hits[0][0]
        if factor in self.d.shares:
            return
        self.d.shares[factor] = {lv: p / sum(parts) for (_, lv), p in zip(hits, parts,
                                                                         strict=True)}
        self.take(m.start(), m.end())

    def level_count(self) -> None:
        """'300 per ethnicity, five ethnicities': the number of a balanced factor's levels
        agrees with the levels planned, or the person is asked which ones."""
        if self.d.classes:
            return  # 'three emotions: a, b, c' counts the classes
        for m in self.matches(_LEVEL_COUNT):
            factor = self._factor_named(m.group(2))
            if factor is None or factor not in self.d.balanced:
                continue
            levels = self.d.balanced[factor] or list(FACTORS[factor])
            if int(m.group(1)) != len(levels):
                raise self.fail(
                    f"not planned, so as not to guess: '{m.group(0)}' - facetory has "
                    f"{len(levels)} ({', '.join(levels)}): which {m.group(1)}? list them"
                )
            self.take(m.start(), m.end())
