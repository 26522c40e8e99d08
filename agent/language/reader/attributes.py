"""Recognisers of factors: shares, balance, level mentions and ranges, fixed levels, age
ranges, grids, constraints and images per person."""

from __future__ import annotations

import re

from agent.language.reader.base import _NUM, ReaderBase
from agent.language.reader.words import (
    ACCOUNTING,
    ANY_FACTOR,
    ANY_LEVEL,
    ANY_LEVEL_RX,
    COUNT_NOUNS,
    FACTOR_RX,
    GAP,
    levels_of,
    number,
)
from tools.vocabulary import FACTORS

#: Words before an open age range that exclude it ('no one under 18', 'nobody over 60').
_NOBODY = (r"(?:not|no\s+(?:one|item)|no-one|nobody|none|"
           r"no\s+(?:people|persons|faces|kids|children|adults))\s+(?:(?:is|are|who\s+is|who\s+are)\s+)?")
#: One age in years said as the people's age ('16 year olds', 'a 70-year-old man').
_SINGLE_AGE = (r"(?<![\d-])\b(\d{1,3})(?:[\s-]*(?:years?|yrs?)[\s-]*olds?|\s*y/?o)\b"
               r"(?!\s*(?:and|to|or|-)\s*\d)")

#: Words between a share and its level that add nothing to it ('a fifth photographed outdoors',
#: 'a third in some sort of cap').
_EVERYDAY = (r"(?:(?:photographed|pictured|shot|taken|captured|filmed|posed|posing|seen|shown)"
             r"(?:\s+(?:in|with|wearing|against))?|(?:some|a|any)\s+(?:sort|kind|type)s?\s+of)")

#: Words that revise a share said before instead of adding to it ('make it 30%').
_REVISION = re.compile(ACCOUNTING["revision"])
#: How to ask for attributes per group, said where the reader cannot plan them.
_GROUPS_HOW = ("say it as shares of all images (e.g. '10% wear glasses'), or write the spec "
               "as YAML with one class per group and its attributes (specs/schema.json)")


class AttributesMixin(ReaderBase):
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
        self._open_ages()

    _DECADES = {
        "teens": (13, 19), "twenties": (20, 29), "thirties": (30, 39), "forties": (40, 49),
        "fifties": (50, 59), "sixties": (60, 69), "seventies": (70, 79), "eighties": (80, 89),
    }  # fmt: skip

    def _open_ages(self) -> None:
        """'over 65', 'under 12', 'younger than 10', 'in their twenties': an age range too."""
        said = []
        for m in self.matches(
            rf"\b(?P<neg>{_NOBODY})?(?:aged\s+)?"
            r"(over|above|older than|past|under|below|younger than|less than)\s+"
            r"(?:the\s+age\s+of\s+)?(\d{1,3})(?:\s*(?:years?(?:\s*old)?|yrs?|y/?o))?\b"
            r"(?!\s*(?:[a-z-]+\s+){0,2}?(?:%|images?|faces?|photos?|pictures?|people|persons|"
            r"classes|categories|groups|identities|levels|kinds|types|emotions|expressions)\b)"
        ):
            n = int(m.group(3))
            older = m.group(2) in ("over", "above", "older than", "past")
            if m.group("neg"):  # 'no one under 18': everyone from 18 on
                said.append(((0, n) if older else (n, 100), m))
            else:
                said.append(((n, min(n + 25, 100)) if older else (min(3, n - 1), n), m))
        for m in self.matches(_SINGLE_AGE):  # '16 year olds', 'a 70-year-old': that age
            if not any(o.start() <= m.start() < o.end() for _, o in said):
                said.append(((int(m.group(1)), int(m.group(1)) + 1), m))
        for m in self.matches(rf"\bin\s+(?:their|his|her)\s+(?:(early|mid|late)[\s-]*)?"
                              rf"({'|'.join(self._DECADES)}|[1-9]0'?s)\b"):
            said.append((self._decade(m.group(2), m.group(1)), m))
        if len(said) == 1 and self.d.age is None:  # two open ranges belong to two classes
            (lo, hi), m = said[0]
            if not 0 <= lo < hi <= 120:
                raise self.fail(f"cannot read the age '{m.group(0).strip()}'")
            self.d.age = (lo, hi, None)
            self.take(m.start(), m.end())

    _GROUP = rf"({ANY_LEVEL}|adults?|grown-?ups?)(?![\w-])"
    _WITHIN = re.compile(
        rf"\b\d+(?:\.\d+)?\s*%\s+of\s+(?:the\s+|all\s+|these\s+|those\s+)?(?:\d+\s+)?"
        rf"{_GROUP}(?!\s+(?:\w+\s+)?(?:images?|faces?|photos?))"
        rf"|\bthe\s+{_GROUP}\s+(?:with|without|wearing|in|having|who)\b"
        rf"|\b(?:among|amongst|within|for)\s+(?:the\s+|all\s+)?{_GROUP},?\s+\d+(?:\.\d+)?\s*%"
        rf"|\b\d+(?:\.\d+)?\s*%\s+(?:are\s+)?{_GROUP}\s*,?\s*(?:and\s+)?(?:\d+(?:\.\d+)?\s*%\s+"
        rf"of\s+(?:them|these|those|whom)|of\s+(?:which|whom)\s+\d+(?:\.\d+)?\s*%)"
    )
    #: A share of a combination ('30% women with glasses', 'glasses and hats 20% each').
    _JOINT = re.compile(
        rf"\b\d+(?:\.\d+)?\s*%\s+(?:are\s+|of\s+them\s+)?({ANY_LEVEL})\s+(?:(?:with|wearing|in|"
        rf"having|and|&)\s+)?(?:an?\s+)?({ANY_LEVEL})(?![\w-])(?!\s*(?:[:=]\s*)?\d)"
        rf"|(?<![\w-])({ANY_LEVEL})\s+(?:and|&)\s+({ANY_LEVEL})\s+(?:at\s+)?\d+(?:\.\d+)?\s*%"
    )
    _CONTRAST = re.compile(rf"(?<![\w-]){_GROUP}\s+(?:with|without|wearing|having|in|not)\b")

    def scoped_shares(self) -> None:
        """'half of the women wear glasses', 'the children with glasses': a share or a level
        within one group, which a plan (shares of all images) cannot state unless that group
        is every image ('300 men, half of the men bearded'); asked, never planned overall."""
        self._contrasts()
        self._joint_shares()
        for m in self._WITHIN.finditer(self.low):
            group = next(g for g in m.groups() if g)
            hit = self.level_of(group)
            if hit is not None and self._everyone(hit) and self._said_apart(m, hit):
                continue
            if hit is None and self.d.adults and "age_group" not in self.d.shares:
                continue
            words = self.original(m.start(), min(len(self.text), m.end() + 20)).strip(" ,.")
            raise self.fail(
                f"'{words}...' asks for something within the {group} only; the reader's shares "
                f"are of all images: {_GROUPS_HOW}"
            )

    def _contrasts(self) -> None:
        """'men with beards and women without': levels of one factor, each with its own
        attribute, are classes the request did not name; asked, never planned as one."""
        if self.d.classes:
            return
        seen: dict[str, list[re.Match[str]]] = {}
        for m in self._CONTRAST.finditer(self.low):
            hit = self.level_of(m.group(1)) or ("age_group", "adult")
            seen.setdefault(hit[0], [])
            if all(self.level_of(x.group(1)) != self.level_of(m.group(1)) for x in seen[hit[0]]):
                seen[hit[0]].append(m)
        for found in seen.values():
            if len(found) > 1:
                words = self.original(found[0].start(), found[-1].end()).strip(" ,.")
                raise self.fail(
                    f"'{words}' gives each group its own attributes, which the offline reader "
                    f"cannot plan: {_GROUPS_HOW}"
                )

    def _joint_shares(self) -> None:
        """'30% women with glasses', '20% glasses and hats': a share of a combination of two
        factors' levels (or of both at once), which a plan of one class cannot state unless
        one of them is every image ('1000 men, 25% bearded men')."""
        for m in self._JOINT.finditer(self.low):
            a, b = (self.level_of(x) for x in m.groups() if x)
            whole = [x for x in (a, b) if x and self._everyone(x) and self._said_apart(m, x)]
            if a and b and a[0] != b[0] and not whole:
                words = self.original(m.start(), m.end()).strip(" ,.")
                raise self.fail(
                    f"'{words}' is a share of two things at once; the offline reader cannot plan "
                    f"it: say each share on its own (e.g. '30% women, 30% with glasses'), or "
                    f"{_GROUPS_HOW.split(', or ')[1]}"
                )

    def _everyone(self, hit: tuple[str, str]) -> bool:
        """Is every image at this level ('300 men', '400 faces of kids')?"""
        if hit == ("age_group", "child") and self.d.children and self.d.age is None:
            return not any("age_group" in x for x in (self.d.shares, self.d.balanced, self.d.fixed))
        return self.d.fixed.get(hit[0]) == hit[1]

    def _said_apart(self, m: re.Match[str], hit: tuple[str, str]) -> bool:
        """Is the group named outside the scoped phrase ('300 men, ... half of the men')?"""
        end = m.end() + len(re.match(r"(?:\s+only)?", self.low[m.end() :]).group(0))
        rest = self.low[: m.start()] + " " * (end - m.start()) + self.low[end:]
        return any(hit in levels_of(x.group(0)) for x in ANY_LEVEL_RX.finditer(rest))

    def _decade(self, word: str, part: str | None) -> tuple[int, int]:
        """'forties' -> (40, 49); '60s' -> (60, 69); 'late twenties' -> (26, 29)."""
        lo, hi = self._DECADES.get(word) or (int(word[0]) * 10, int(word[0]) * 10 + 9)
        first = {"early": 0, "mid": 3, "late": 6}.get(part or "")
        return (lo, hi) if first is None or word == "teens" else (lo + first, lo + first + 3)

    def grid(self) -> None:
        for m in self.matches(r"\b(?:every|each|all)\s*combinations?\s*of\b"):
            end = self._grid_end(m.end())
            self.take(m.start(), m.end())
            names = self._factors_in(m.end(), end)
            if not names:
                raise self.fail("'every combination of' needs factors, e.g. gender and age group")
            self._count_before_grid(m.start())
        rx = (
            rf"\b({_NUM})\s*(?:images?|faces?|photos?)?\s*(?:per|for each|in each|each)\s*"
            r"(?:combination|cell|group|combo)\b"
        )
        for m in self.matches(rx):
            self.d.per_cell = int(number(m.group(1)))
            self.take(m.start(), m.end())

    def _count_before_grid(self, start: int) -> None:
        """'100 faces for every combination of ...': the count is per combination, not the
        total."""
        before = re.search(rf"\b({_NUM})\s*(?:{COUNT_NOUNS}\s*)?(?:for|in|per)?\s*$",
                           self.low[max(0, start - 30) : start])
        if before and self.d.per_cell is None:
            self.d.per_cell = int(number(before.group(1)))
            self.take(start - len(self.low[max(0, start - 30) : start]) + before.start(), start)

    def constraints(self) -> None:
        rx = (
            rf"\b(?:but\s*)?(?:no|never|not)\s+(?:any\s*)?({ANY_LEVEL})\s+(?:with|when|while|"
            rf"and|for|on|if)\s+(?:the\s*)?(?:their\s*)?({ANY_LEVEL})\b"
        )
        for m in self.matches(rx):
            if re.match(r"(?:no|not|without|never)\b", m.group(2)):
                continue  # 'no hats and no masks': two exclusions, not a pair
            a = self.level_of(m.group(1))
            b = self.level_of(m.group(2))
            if a is None or b is None or a[0] == b[0]:
                raise self.fail(f"cannot read the constraint '{m.group(0).strip()}'")
            self.d.constraints.append({"when": {b[0]: b[1]}, "forbid": {a[0]: [a[1]]}})
            self.take(m.start(), m.end())

    _OF_WHOM = (
        r"(?:(?:of\s+(?:the\s+|all\s+|these\s+)?|(?:the|these)\s+)(?:(?P<tot>\d+)\s+)?"
        r"(?:[a-z-]+\s+)?(?:images?|faces?|people|persons?|items?|photos?|pictures?|portraits?|them|"
        r"subjects|identities|individuals|children|"
        r"kids|the\s+people|the\s+faces|the\s+images)\s*)?"
    )

    _VERBS = (
        r"(?:(?:should|will|must|shall|to|would|need\s+to)\s+)?(?:(?:be|are|is)\s+)?"
        r"(?:(?:wear(?:ing|s)?|with|have|having|has|in|show(?:ing|s)?|look(?:ing|s)?|get|gets|"
        r"on|put\s+on|sporting|being|are|is|be)\b)?\s*(?:a\s+|an\s+|their\s+|the\s+)?"
        rf"(?:{_EVERYDAY}\s+)?(?:a\s+|an\s+|the\s+)?"
    )

    def percentages(self) -> None:
        rx = rf"\b(\d+(?:\.\d+)?)\s*%\s*{self._OF_WHOM}{self._VERBS}({ANY_LEVEL}|[a-z][\w-]*)"
        rx += r"(?![\w-])(?:\s+on)?(?:\s+class)?"
        for m in self.matches(rx):
            if self._share_of(m.span(m.lastindex), float(m.group(1)) / 100, m) and m.group("tot"):
                self.d.total = int(m.group("tot"))
        rx2 = (
            rf"(?<![\w-])({ANY_LEVEL}|[a-z][\w-]*){GAP}*(?:share|on|in)?{GAP}*(?::\s*|at{GAP}*|"
            rf"={GAP}*)?\(?{GAP}*(\d+(?:\.\d+)?)\s*%\s*\)?(?:\s*{self._OF_WHOM})?"
        )
        for m in self.matches(rx2):
            if self._share_of(m.span(1), float(m.group(2)) / 100, m) and m.group("tot"):
                self.d.total = int(m.group("tot"))
        self._decimal_shares()
        rx3 = (
            r"\b(?:mostly|mainly|largely|predominantly|primarily)\s+(?:in\s+|with\s+|wearing\s+)?"
            rf"({ANY_LEVEL})\b"
        )
        for m in self.matches(rx3):  # a majority, read as three quarters (shown in the plan)
            self._share_of(m.span(1), 0.75, m)
        for m in self.matches(r"\b(\d+(?:\.\d+)?)\s*%"):
            raise self.fail(
                f"cannot tell what '{self.original(m.start(), min(len(self.text), m.end() + 30))}"
                "...' applies to; write e.g. '20% wear glasses'"
            )

    def _decimal_shares(self) -> None:
        """'sunglasses 0.3', 'glasses: .25', '0.1 sunglasses': a fraction beside a level is
        its share (a level only: a fraction beside other words may be a threshold)."""
        frac = r"(0?\.\d+)(?![\d%.])"
        after = rf"(?<![\w-])({ANY_LEVEL})(?![\w-])\s*(?::|=|at)?\s*{frac}"
        for m in self.matches(after):
            self._share_of(m.span(1), float(m.group(2)), m)
        before = rf"(?<![\w.]){frac}\s+(?:(?:with|wearing|in)\s+)?({ANY_LEVEL})(?![\w-])"
        for m in self.matches(before):
            self._share_of(m.span(2), float(m.group(1)), m)

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
            rf"(?<![\w-])(?:{ANY_FACTOR})\s*:?\s*$", self.low[max(0, m.start() - 30) : m.start()]
        )
        if named is None:
            self.d.share_words.setdefault(hit[0], []).append((self.original(*span).strip(), value))
        self._share(hit, value + self._summed(hit, phrase, m), m)
        return True

    def _summed(self, hit: tuple[str, str], phrase: str, m: re.Match[str]) -> float:
        """The share a level already has from another of its words ('5% sun hats and 15%
        caps' is 20% hat), which this one adds to; 0 for the same word or after a revision
        ('20% hats ... make it 30% hats')."""
        said = self.__dict__.setdefault("_said", {}).setdefault(hit, [])
        word = re.sub(r"e?s$", "", phrase)
        before = self.d.shares.get(hit[0], {}).get(hit[1], 0.0)
        revised = said and _REVISION.search(self.low, said[-1][1], m.start())
        said.append((word, m.end()))
        fresh = word not in {w for w, _ in said[:-1]}
        return before if said[:-1] and not revised and fresh else 0.0

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

    _BALANCE = (
        r"\b(?:(?:an?\s+)?(?:even|equal|balanced|random|good|wide|broad)\s+(?:mix|spread|split|"
        r"numbers?|shares?|distribution|range|variety)(?:\s+of)?|balanced|balance|evenly|"
        r"equally(?:\s+represented)?|uniformly|spread(?: evenly)?|distributed|varied|"
        r"var(?:y|ies|ying)|changes?|changing|different|various|diverse|assorted|mixed|even|equal|"
        r"(?:a\s+)?(?:range|mix|variety)\s+of|all|every|each|(?:the\s+)?same\s+number\s+"
        r"(?:of|in)|as\s+many)\b(?:\s*(?:across|over|by|between|in|among|for|of|from)\b)?"
        r"(?:\s*(?:the|all|every|each|their)\b)?"
    )
    _WEAK = re.compile(
        r"(?:all|every|each|different|various|diverse|assorted|mixed|as\s+many|even|equal)\b"
    )
    _PER_PERSON = re.compile(r"\b(?:each|every|per)\s*(?:person|identity|individual)\b")

    def balanced(self) -> None:
        """Balance words and the factors or levels they balance ('balanced across gender',
        'gender balanced', 'an even mix of men and women')."""
        for m in self.matches(self._BALANCE):
            self._balanced_at(m)

    def _balanced_at(self, m: re.Match[str]) -> None:
        clause_s = self._clause_start(m.start())
        if re.match(r"\s*:\s", self.low[m.end() :]):  # 'Balance: gender, expression.'
            clause_e = self._clause_end(self.low.index(":", m.end()) + 1)
        else:
            clause_e = self._clause_end(m.end())
        if self._WEAK.match(self.low, m.start()) and self._weak_skipped(m, clause_e):
            return
        pm = self._PER_PERSON.search(self.low[clause_s : m.start()])
        if pm:
            self.take(clause_s + pm.start(), clause_s + pm.end())
        self.take(m.start(), m.end())
        per_person = bool(pm)
        if self._balanced_after(m, clause_e, per_person):
            return
        if self._balanced_before(m, clause_s, clause_e, per_person):
            return
        if self._levels_balanced(m.end(), clause_e) or self._levels_balanced(
            clause_s, m.start(), last=True
        ):
            return
        self._balanced_named_before(m, clause_s, clause_e, per_person)

    def _weak_skipped(self, m: re.Match[str], clause_e: int) -> bool:
        """'all', 'every', 'as many' balance only with a factor right after them."""
        near = self._factor_spans(m.end(), min(clause_e, m.end() + 25))
        if not near and self._levels_balanced(m.end(), clause_e):
            self.take(m.start(), m.end())  # 'as many girls as boys'
            return True
        return not near or not self.free(m.start(), m.end())

    def _balanced_after(self, m: re.Match[str], clause_e: int, per_person: bool) -> bool:
        """'balanced across gender and age': the factors named after the trigger."""
        after = self._factor_spans(m.end(), clause_e)
        gap = self.low[m.end() : after[0][1]] if after else ""
        if after and (
            len(gap) <= 25
            or len(gap) <= 60
            and not ANY_LEVEL_RX.search(gap)
            and re.search(r"\b(?:across|over|by|between|among)\s+(?:the\s+)?(?:\d+\s+)?$", gap)
        ):
            self._factors_in(m.end(), clause_e, scope_image=per_person)
            return True
        return False

    def _balanced_before(
        self, m: re.Match[str], clause_s: int, clause_e: int, per_person: bool
    ) -> bool:
        """'gender balanced', 'the lighting and the head angle change': the factors named
        before the trigger, the last one right before it."""
        adjacent = self._factor_spans(max(clause_s, m.start() - 30), m.start())
        follows = [
            self.level_of(x.group(0))
            for x in ANY_LEVEL_RX.finditer(self._free_text(m.end(), clause_e))
        ]
        if (
            adjacent
            and not self.low[adjacent[-1][2] : m.start()].strip(" :")
            and not any(hit and hit[0] in adjacent[-1][0] for hit in follows)
        ):
            self._factors_in(clause_s, adjacent[-1][2], scope_image=per_person)
            return True
        return False

    def _balanced_named_before(
        self, m: re.Match[str], clause_s: int, clause_e: int, per_person: bool
    ) -> None:
        """A factor named earlier in the clause, or a 'Factor:' heading; else the classes are
        what is balanced, or the request fails asking across what."""
        before = self._factor_spans(clause_s, m.start())
        if not before:
            self._balanced_nothing_before(m, clause_s, clause_e, per_person)
            return
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

    def _balanced_nothing_before(
        self, m: re.Match[str], clause_s: int, clause_e: int, per_person: bool
    ) -> None:
        colon = re.search(rf"(?<![\w-])({ANY_FACTOR})\s*:\s*$", self.low[: m.start()])
        if colon and self.free(colon.start(1), colon.end(1)):
            self._factors_in(colon.start(1), colon.end(1), scope_image=per_person)
            self.take(colon.start(), m.start())
            return
        if (
            self.d.classes
            or self.d.class_factor
            or self._said_factor(clause_s, clause_e)
            or any(self.used[clause_s : m.start()])
        ):
            return  # 'equal split', 'evenly divided': the classes are equal already
        if re.fullmatch(
            r"\s*(?:all|every|each|different|various|as many|the same.*)\s*",
            self.low[m.start() : m.end()],
        ):
            self.used[m.start() : m.end()] = b"\x00" * (m.end() - m.start())
            return
        raise self.fail(
            f"'{self.original(clause_s, clause_e).strip()}': balanced across what? "
            "name factors such as skin tone, age group or expression"
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
            hit = self._level_in_context(lm)
            if hit is None or hit[0] == self.d.class_factor or not self._new_mention(lm, hit):
                continue
            f, lv = hit
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

    def _level_in_context(self, lm: re.Match[str]) -> tuple[str, str] | None:
        """A word several factors share is read by the factor its clause names ('lighting from
        the left' is the light, not the head turned left); else its first reading."""
        hits = levels_of(lm.group(0))
        if len({f for f, _ in hits}) < 2:
            return self.level_of(lm.group(0))
        lo = max([0] + [s.end() for s in re.finditer(r"[,;.\n]", self.low[: lm.start()])])
        hi = re.compile(r"[,;.\n]|$").search(self.low, lm.end()).start()
        named = {f for rx, fs in FACTOR_RX for _ in rx.finditer(self.low, lo, hi) for f in fs}
        near = [h for h in hits if h[0] in named]
        return near[0] if len(near) == 1 else self.level_of(lm.group(0))

    def _new_mention(self, lm: re.Match[str], hit: tuple[str, str]) -> bool:
        """A level not said already: children as the subject, a factor already shared,
        balanced or fixed, or a class said again are taken (or left) here."""
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
            return False
        f = hit[0]
        if f in self.d.shares or f in self.d.balanced or f in self.d.fixed:
            return False
        if any(self.level_of(n) == hit for n, _ in self.d.classes):
            self.take(lm.start(), lm.end())  # the class, said again
            return False
        return True

    def level_ranges(self) -> None:
        """'from child to old', 'Monk skin tones 7 to 10', 'skin tones 7, 8, 9 and 10'."""
        rx = (
            rf"\b(?:from\s+)?(?:an?\s+)?({ANY_LEVEL})\s+(?:to|through|until|up to)\s+"
            rf"(?:an?\s+)?({ANY_LEVEL})\b"
        )
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
