"""Recognisers of classes: lists after 'classes', counted lists, 'N each' lists, class
phrases, respectively-style counts and shares, and the per-class count (shapes in
`agent.language.reader.classes`)."""

from __future__ import annotations

import re

from agent.language.reader.base import _NUM, ReaderBase
from agent.language.reader.classes import (
    Item,
    parse_item,
    read_list,
    shared_factor_name,
    slashed,
    split_items,
    unseparated,
)
from agent.language.reader.words import (
    ANY_FACTOR_RX,
    ANY_LEVEL,
    ANY_LEVEL_RX,
    COUNT_NOUNS,
    FACTOR_RX,
    levels_of,
    number,
)
from agent.language.spec import SpecError
from tools.vocabulary import FACTORS

#: A count right before a class name, with up to two level words between ('250 faces of
#: elderly women'); searched in the text that ends where the name starts.
_COUNT_BEFORE = re.compile(
    rf"(?<![:/.\d])(?<!of )(?<!of the )\b(\d+)\s*(?:{COUNT_NOUNS}\s+)?(?:of\s+(?:them\s+)?)?"
    rf"(?:(?:should|will|must|would|can)\s+)?"
    rf"(?:(?:be|are|is|look|looking|show|showing|in|as)\s+)?(?:an?\s+|the\s+)?"
    rf"((?:(?:{ANY_LEVEL})\s+){{0,2}}?)$"
)


class ClassListsMixin(ReaderBase):
    _CLASS_INTRO = re.compile(
        r"\b(?:(?P<n>\d+)\s+)?(?:(?:equal(?:ly)?[- ]sized|equal|separate|different|distinct|"
        r"single|sole)\s+)?(?:(?P<f>[a-z-]+(?:\s+[a-z-]+)?)\s+)?"
        r"(?:(?P<kw>classes|categories|labels)\b|"
        r"(?<=\d )(?P<kw2>emotions|expressions|moods|kinds|types)"
        r"(?=\s*(?:x|of)\s*\d+[^:.;\n]{0,20}:)|(?P<one>class)\b(?=\s*(?::|called|named|-))|"
        r"(?:(?<=\bthe )|(?<=\bone )|(?<=\b1 )|(?<=single )|(?<=\ba ))"
        r"(?P<one2>class)\b(?=\s*,?\s*[a-z]))"
        rf"(?:\s*(?:x|of)\s*(?P<each>\d+)\s*(?:{COUNT_NOUNS}\s*)?(?:each\s*)?)?"
        r"(?:\s*(?:are|named|called|being|of|will be|should be|would be|to be|please|:|--|-|,|\())*"
        r"\s*"
    )

    def class_lists(self) -> None:
        """Lists introduced by 'classes', then lists of other shapes
        (`agent.language.reader.classes`)."""
        for m in self.matches(self._CLASS_INTRO):
            self._introduced_list(m)
        if self.d.classes and all(n is None for _, n in self.d.classes):
            self._counts_by_name()
        shapes = (self._for_each_of, self._list_then_classes, self._class_phrases, self._each_lists,
                  self._counted_lists, self._factor_lists)
        for shape in shapes:
            if self.d.classes:
                break
            shape()

    def _introduced_list(self, m: re.Match[str]) -> None:
        """The list after 'classes', 'N classes', 'one class', 'expression classes' ..."""
        factor = self._factor_named(m.group("f"))
        close = self.low.find(")", m.end()) if m.group(0).rstrip().endswith("(") else -1
        items, end = read_list(self.low, m.end(), close if close > 0 else len(self.low))
        if not items:
            return
        if close > 0:
            end = close + 1
        n = int(m.group("n")) if m.group("n") else None
        if m.group("f") and factor is None:  # '30 faces in classes: ...': 30 is no count
            n = None
        if (m.group("one") or m.group("one2")) and len(items) > 1 and n in (None, 1):
            items = items[:1]
        elif n != 1:
            items = unseparated(slashed(items))
        items, end = self._respectively(items, end)
        self._set_classes(items, factor, m.end())
        if m.group("f") and factor is not None:
            self.take(m.start("f"), m.end("f"))
        if n is not None:
            self.d.class_count = n
        if m.group("each"):  # '3 classes x 200: a, b, c', '2 classes of 350: a, b'
            self.d.per_class = int(m.group("each"))
        self.take(self._list_lead(m, n, factor), end)

    @staticmethod
    def _list_lead(m: re.Match[str], n: int | None, factor: str | None) -> int:
        """Where the words introducing a class list start."""
        if factor is not None or n is not None or not m.group("f"):
            return m.start()
        for group in ("kw", "one"):
            if m.group(group):
                return m.start(group)
        return m.start("one2")

    def times_per_class(self) -> None:
        """'6 x 150 images' with six classes: 150 each."""
        if not self.d.classes:
            return
        rx = rf"\b(\d+)\s*x\s*({_NUM})\s*(?:{COUNT_NOUNS})?\b"
        for m in self.matches(rx):
            if int(m.group(1)) == len(self.d.classes):
                self.d.per_class = int(number(m.group(2)))
                self.take(m.start(), m.end())

    def class_ratio(self) -> None:
        """'in a 3:1 ratio', 'two to one in favour of smiling', 'ratio 1:2 masked to unmasked':
        class shares in the order the classes (or the names after the ratio) were said."""
        if len(self.d.classes) < 2 or any(n is not None for _, n in self.d.classes):
            return
        rx = (
            r"\b(?:(?:in\s+)?(?:a|the)\s+)?(?:ratio\s+(?:of\s+)?)?(\d+(?:\.\d+)?)\s*(?::|to)\s*"
            r"(\d+(?:\.\d+)?)(?:\s*(?::|to)\s*(\d+(?:\.\d+)?))?(?:\s+ratio)?"
            r"(?:\s+(?:in\s+favou?r\s+of|for)\s+(?P<fav>[\w' -]+?)(?=[,.;]|$))?"
        )
        names = [n for n, _ in self.d.classes]
        if self._times_as_many(names):
            return
        for m in self.matches(rx):
            values = [float(v) for v in m.groups()[:3] if v is not None]
            if len(values) != len(names):
                continue
            order = list(names)
            after = re.match(
                r"\s*(?:of\s+)?([\w' -]+?)\s+(?:to|vs\.?|versus|:)\s+([\w' -]+?)(?=[,.;\n]|$)",
                self.low[m.end() :],
            )
            lows = [n.lower() for n in names]
            if after and {after.group(1).strip(), after.group(2).strip()} <= set(lows):
                order = [names[lows.index(after.group(i).strip())] for i in (1, 2)]
                self.take(m.end(), m.end() + after.end())
            fav = (m.group("fav") or "").strip()
            if fav and fav in lows and len(values) == 2:
                big = names[lows.index(fav)]
                order = [big] + [n for n in names if n != big]
                values = sorted(values, reverse=True)
            total = sum(values)
            self.d.class_shares = {n: v / total for n, v in zip(order, values, strict=True)}
            self.take(m.start(), m.end())
            return

    def _times_as_many(self, names: list[str]) -> bool:
        """'twice as many unmasked as masked', '3 times as many A as B': two class shares."""
        rx = (
            r"\b(?:(?P<n>\d+(?:\.\d+)?)\s+times|twice)\s+as\s+many\s+(?P<a>[\w' -]+?)\s+as\s+"
            rf"(?P<b>[\w' -]+?)(?:\s+{COUNT_NOUNS})?(?=[,.;\n]|$)"
        )
        lows = [n.lower() for n in names]
        for m in self.matches(rx):
            a, b = m.group("a").strip(), m.group("b").strip()
            if len(names) != 2 or {a, b} != set(lows):
                continue
            times = float(m.group("n") or 2)
            self.d.class_shares = {
                names[lows.index(a)]: times / (times + 1), names[lows.index(b)]: 1 / (times + 1)
            }
            self.take(m.start(), m.end())
            return True
        return False

    def _counts_by_name(self) -> None:
        """'250 faces of elderly women and 250 faces of elderly men; the classes are women and
        men': a count said in front of a class name (other words between stay to be read)."""
        counts = {}
        for i, (name, _) in enumerate(self.d.classes):
            for at in (x.start() for x in re.finditer(rf"\b{re.escape(name.lower())}\b", self.low)):
                end = at + len(name)
                window = max(0, at - 80)
                m = _COUNT_BEFORE.search(self.low, window, at)
                if m is None or not self.free(m.start(), end):
                    continue
                counts[i] = int(m.group(1))
                self.take(m.start(1), m.start(2))
                self.take(at, end)
                break
        if len(counts) < len(self.d.classes):  # 'neutral gets 500, happy gets 300'
            for i, (name, _) in enumerate(self.d.classes):
                said = re.escape(name.lower())
                rx = rf"\b{said}\s+(?:gets|get|has|have|with|takes|:|=|-)\s*({_NUM})\b"
                m = next(self.matches(rx), None)
                if m is not None and i not in counts:
                    counts[i] = int(number(m.group(1)))
                    self.take(m.start(), m.end())
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

    _CLASSES_AFTER = re.compile(
        r"\s+(?:(?:as|are)\s+(?:(?:the|my|our)\s+)?)?(?:(?P<n>\d+)\s+)?(?:classes|categories)\b"
    )

    def _list_then_classes(self) -> None:
        """'happy/sad/angry classes', 'neutral, smile and angry as the classes': a list
        said before the word 'classes' (names that are factors, 'gender and age classes',
        are left to the accounting to ask about)."""
        for m in self.matches(self._CLASSES_AFTER):
            clause = max(self.low.rfind(c, 0, m.start()) for c in ".;\n:(") + 1
            each = re.search(rf",\s*(\d+)\s*(?:{COUNT_NOUNS}\s*)?(?:of\s+each|each|apiece|per\s+"
                             r"class)\s*,?\s*$", self.low[clause : m.start()])
            end = clause + each.start() if each else m.start()  # 'a and b, 300 of each, 2 classes'
            for w in re.finditer(r"(?<![\w'-])[a-z]", self.low[clause:end]):
                items = self._names_before(clause + w.start(), end)
                if items:  # the longest list of names right before 'classes'
                    items, end = self._respectively(items, m.end())
                    self._set_classes(items, None, clause + w.start())
                    if m.group("n"):  # 'happy and sad, 3 classes': checked against the list
                        self.d.class_count = int(m.group("n"))
                    if each:
                        self.d.per_class = int(each.group(1))
                    self.take(clause + w.start(), end)
                    return

    def _names_before(self, start: int, end: int) -> list[Item]:
        """The items of [start, end) if it is a list of two or more class names whose
        vocabulary levels are of one factor (else it holds other words of the request)."""
        items = unseparated([parse_item(self.low[s:e]) for s, e in
                             split_items(self.low, start, end)])
        if len(items) < 2 or any(it is None or ANY_FACTOR_RX.fullmatch(it.name) for it in items):
            return []
        kinds = [frozenset(f for lv in ANY_LEVEL_RX.findall(it.name) for f, _ in levels_of(lv))
                 for it in items]  # 'old men, young women': every name of the same factors
        same = len(set(kinds)) == 1 or len(frozenset().union(*kinds)) <= 1
        return items if same and self.free(start, end) else []

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
            if any(
                f.end() <= m.start() <= f2.start() for f, f2 in zip(found, found[1:], strict=False)
            ):
                self.take(m.start(), m.end())

    def _each_lists(self) -> None:
        """'smiling and not smiling, 400 each' / 'bald, curly hair and long hair, the same count
        in each': a list of levels or short names right before a per-class count."""
        each = (
            rf"(?P<n>\d+)\s*(?:{COUNT_NOUNS}\s*)?(?:each|apiece|of each|per class|of each one)\b|"
            r"(?:the\s+)?same\s+(?:count|number|amount)\s+(?:in|for)\s+each|"
            r"(?:50%|half)\s+(?:in|for)\s+each|equal(?:ly)?\s+(?:sized|split|counts?|sizes)|"
            r"evenly\s+(?:split|divided)|(?P<ratio>\d+(?:\s*:\s*\d+)+)(?=\s*(?:ratio|,|$|\.))"
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
            self.take(pieces[0][0], m.start("ratio") if m.group("ratio") else m.end())
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

    def per_level(self) -> None:
        """'skin tones 7, 8, 9 and 10, 200 each': a count per level of the factor just listed
        (no classes): it must agree with the total, which it sets when none was said."""
        if self.d.classes:
            return
        for m in self.matches(rf"\b({_NUM})\s*(?:{COUNT_NOUNS}\s*)?(?:each|apiece|per level)\b"):
            self._per_level(m)

    def _per_level(self, m: re.Match[str]) -> None:
        start = max(self.low.rfind(c, 0, m.start()) for c in ".;\n") + 1
        listed = [
            f
            for f, levels in self.d.balanced.items()
            if levels
            and any(
                not self.free(x.start(), x.end())
                and self.level_of(x.group(0)) in ((f, lv) for lv in levels)
                for x in ANY_LEVEL_RX.finditer(self.low, start, m.start())
            )
        ] or [f for f, levels in self.d.balanced.items() if levels and f == "skin_tone"]
        if len(listed) != 1:
            return
        each, levels = int(m.group(1)), self.d.balanced[listed[0]]
        if self.d.total is not None and self.d.total != each * len(levels):
            raise SpecError(
                f"{each} each over {len(levels)} levels of {listed[0]} is {each * len(levels)}, "
                f"but the request says {self.d.total} images"
            )
        self.d.total = each * len(levels)
        self.take(m.start(), m.end())

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
            r"|for\s+each(?=\s*(?:[.;,!\n]|$))"
        )
        rx = (
            rf"\b({_NUM})\s*(?:{COUNT_NOUNS}\s*)?(?:{each})\b|\b(?:each|every|per)\s+"
            rf"(?:class|category)\s*(?:has|gets|of|with|:|=)?\s*({_NUM})\b"
        )
        for m in self.matches(rx):
            if not (self.d.classes or re.search(r"class", m.group(0))):
                continue
            self.d.per_class = int(number(m.group(1) or m.group(2)))
            if self.d.per_class < 1:
                raise self.fail(f"each class needs at least 1 image, got {self.d.per_class}")
            self.take(m.start(), m.end())
        if self.d.classes:  # the classes are equal anyway: 'evenly split', 'half in each'
            rx = (
                r"\b(?:(?:split|divided|shared|spread|distributed)\s+)?(?:evenly|equally)"
                r"(?:\s+(?:split|divided|sized|shared|distributed))?(?:\s+between\s+them)?|"
                r"(?:in\s+)?(?:equal|even|the same)\s+(?:sizes?|counts?|numbers?|shares?|split|"
                r"count\s+in\s+each|number\s+in\s+each)|equal(?:ly)?[- ]sized|"
                r"(?:50%|half)\s+(?:in|for)?\s*each|same\s+number\s+in\s+each|of\s+equal\s+size|"
                r"between\s+the\s+(?:2|two)|(?:split\s+)?equally|for\s+both"
            )
            for m in self.matches(rx):
                self.take(m.start(), m.end())
