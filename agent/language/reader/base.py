"""The reader's bookkeeping: the text, which characters are used, and span helpers.

Every recogniser marks the characters it reads (`take`); `matches` yields only matches over
free characters, so a phrase is read once, by the first rule that claims it (the order is
`Reader.run`'s).
"""

from __future__ import annotations

import re

from agent.language.reader.draft import ACCESSORY_NONE, Draft
from agent.language.reader.words import (
    ANY_FACTOR_RX,
    ANY_LEVEL_RX,
    FACTOR_RX,
    correct_spelling,
    digits,
    level_of,
    negated,
    normalised,
)
from agent.language.spec import SpecError
from tools.vocabulary import ACCESSORIES, FACTORS, WORN

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


class ReaderBase:
    """The text being read, what is used of it, and the Draft being filled."""

    def __init__(self, text: str) -> None:
        text = text.replace("\u2013", "-").replace("\u2014", ",").replace("\u00d7", "x")
        text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\r", "\n")
        self.text = digits(negated(correct_spelling(normalised(text))))
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
                if fs == ACCESSORIES:
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
            if hit is None or hit[0] not in WORN:
                raise self.fail(
                    f"'{part}' is not an accessory facetory knows (glasses, "
                    "sunglasses, hats, masks)"
                )
            out.setdefault(hit[0], []).append(hit[1])
        self.take(start, end)
        return out

    def _grid_end(self, pos: int) -> int:
        depth = 0
        for i in range(pos, len(self.low)):
            c = self.low[i]
            depth += c == "("
            depth -= c == ")"
            if depth == 0 and (c in ".;\n" or re.match(r",\s*\d", self.low[i:])):
                return i
        return len(self.low)

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
