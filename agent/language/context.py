"""The words around numbers and levels that the accounting must also explain.

A level word is checked against the factor its neighbours name ('eye colour: ... brown 70%' is
eye colour, not hair), a share written beside a level must be that level's share, 'the rest'
gives a factor's whole remainder to one level, a quoted name must be a name of the spec, a class
name holds no counting words, and a hedge ('maybe angry') leaves the request open. Each rule's
words are data in `tools/vocabulary/accounting.yaml`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from agent.language.reader.words import ANY_FACTOR_RX, ANY_LEVEL_RX, FACTOR_RX, GAP
from agent.language.rules import RULES, Unexplained, levels_of
from agent.language.spec import DatasetSpec, SpecError

_HEDGE = re.compile(RULES["hedges"])
_CLASSES = re.compile(RULES["several_classes"])
_REST = re.compile(RULES["rest_words"] + r"\s+(?:(?:is|are|goes|go|to|as|in|with|get|gets)\s+)*")
_NOT_NAME = re.compile(RULES["not_in_class_names"])
_NOT_PEOPLE = re.compile(RULES["not_people"])
_UNFOUNDED = re.compile(RULES["unfounded_traits"])
_QUOTED = re.compile(r"(?<![\w])['\"‘“]([^'\"’”\n]{1,40})['\"’”](?![\w])")
_PCT_AFTER = re.compile(rf"{GAP}*:?{GAP}*(\d+(?:\.\d+)?){GAP}*%")
_PCT_BEFORE = re.compile(rf"(\d+(?:\.\d+)?){GAP}*%{GAP}*(?:of{GAP}+them{GAP}+)?$")
_SENTENCE = re.compile(r"[.;\n]")
_ASK_SPREAD = frozenset(RULES["ask_spread_factors"])


def check_subject(low: str) -> None:
    """Refuse, naming the word, faces facetory does not draw and traits no face shows."""
    if m := _NOT_PEOPLE.search(low):
        raise SpecError(f"not planned: '{m.group(0)}' - facetory draws human faces only")
    if m := _UNFOUNDED.search(low):
        raise SpecError(
            f"not planned: '{m.group(0)}' - a face does not show this, so no dataset can label it"
        )


def _sentence(low: str, start: int, end: int) -> tuple[int, int]:
    """The bounds of the sentence (or list item after ';') around low[start:end]."""
    before = [m.end() for m in _SENTENCE.finditer(low, 0, start)]
    after = _SENTENCE.search(low, end)
    return (before[-1] if before else 0), (after.start() if after else len(low))


def factors_named(phrase: str) -> tuple[str, ...]:
    for rx, fs in FACTOR_RX:
        if rx.fullmatch(phrase):
            return fs
    return ()


def context_factors(low: str, m: re.Match[str]) -> set[str]:
    """Factors the sentence around a level word names: by factor nouns and by level words
    that name one factor only ('blue' and 'green' beside 'brown': eye colour)."""
    lo, hi = _sentence(low, m.start(), m.end())
    found = {f for n in ANY_FACTOR_RX.finditer(low, lo, hi) for f in factors_named(n.group(0))}
    for n in ANY_LEVEL_RX.finditer(low, lo, hi):
        readings = {f for f, _ in levels_of(n.group(0))}
        if n.start() != m.start() and len(readings) == 1:
            found |= readings
    return found


def in_context(low: str, m: re.Match[str], hit: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The readings of an ambiguous level word that its sentence's factors allow."""
    if len({f for f, _ in hit}) < 2:
        return hit
    ctx = context_factors(low, m)
    return [o for o in hit if o[0] in ctx] or hit


def written_share(low: str, m: re.Match[str]) -> float | None:
    """A percentage written right beside a level word ('brown 70%', '70% brown'), or None."""
    after = _PCT_AFTER.match(low, m.end())
    if after:
        return float(after.group(1))
    before = _PCT_BEFORE.search(low, max(0, m.start() - 20), m.start())
    return float(before.group(1)) if before else None


def summed_shares(low: str, shares: dict[tuple[str, str], float]) -> dict[int, float]:
    """Shares written beside different words of one level that add up to its share in the
    plan ('5% sun hats and 15% caps': hat 20%): where each word starts, and its share."""
    said: dict[tuple[str, str], dict[str, tuple[int, float]]] = {}
    for m in ANY_LEVEL_RX.finditer(low):
        hits, pct = levels_of(m.group(0)), written_share(low, m)
        if len(hits) == 1 and pct is not None:
            said.setdefault(hits[0], {})[re.sub(r"e?s$", "", m.group(0))] = (m.start(), pct)
    out: dict[int, float] = {}
    for hit, words in said.items():
        total = sum(p for _, p in words.values())
        if len(words) > 1 and abs(total - 100 * shares.get(hit, 0.0)) <= 0.5:
            out.update(words.values())
    return out


def share_problem(
    low: str, m: re.Match[str], hit: list[tuple[str, str]], shares: dict[tuple[str, str], float]
) -> Unexplained | None:
    """A share written beside a level that the plan does not give that level."""
    pct = written_share(low, m)
    if pct is None or any(abs(100 * shares.get(o, 0.0) - pct) <= 0.5 for o in hit):
        return None
    return Unexplained(f"{m.group(0)} {pct:g}%", "the plan gives this level another share")


def rest_problems(
    low: str, spec: DatasetSpec, shares: dict[tuple[str, str], float]
) -> Iterator[Unexplained]:
    """'everything else brown': the level after a rest word takes its factor's whole rest, so
    every other level of that factor in the plan is one the request names."""
    named = {o for n in ANY_LEVEL_RX.finditer(low) for o in levels_of(n.group(0))}
    for r in _REST.finditer(low):
        m = ANY_LEVEL_RX.match(low, r.end())
        if m is None:
            continue
        hit = in_context(low, m, [o for o in levels_of(m.group(0)) if shares.get(o, 0.0) > 0])
        if not hit or not any(_takes_rest(f, lv, named, shares) for f, lv in hit):
            yield Unexplained(
                low[r.start() : m.end()], "the plan does not give all of the rest to this level"
            )


def _takes_rest(
    factor: str, level: str, named: set[tuple[str, str]], shares: dict[tuple[str, str], float]
) -> bool:
    present = [(f, lv) for (f, lv), s in shares.items() if f == factor and s > 1e-9]
    return len(present) > 1 and all(o in named or o == (factor, level) for o in present)


def wording_problems(
    low: str, spec: DatasetSpec, words: str, have: set[tuple[str, str]]
) -> Iterator[Unexplained]:
    """Hedges, quoted names that are no name of the spec, class names holding counting words."""
    for m in _HEDGE.finditer(low):
        tail = low[m.start() : m.end() + 30].split(",")[0].split(".")[0]
        yield Unexplained(tail.strip(), "in the plan or not?")
    for m in _QUOTED.finditer(low):
        quoted = m.group(1).strip().lower()
        if quoted and quoted not in words and not set(levels_of(quoted)) & have:
            yield Unexplained(quoted, "the plan has nothing by this name")
    if len(spec.classes) < 2 and (m := _CLASSES.search(low)):
        yield Unexplained(m.group(0), "the plan has a single class")
    for c in spec.classes:
        if _NOT_NAME.search(c.name.lower()):
            yield Unexplained(c.name, "a class name with a counting word in it")


def spread_problems(spec: DatasetSpec) -> Iterator[Unexplained]:
    """'a third are kids': an age share whose unnamed remainder would be spread over several
    groups (teenagers too, or adults only?) is asked about, not guessed; so is what shares of
    several levels leave ('60% smiling, 30% neutral': the other 10% where?)."""
    for f in spec.factors:
        said = [lv for lv in f.levels if lv.proportion is not None]
        left = [lv.name for lv in f.levels if lv.proportion is None]
        if said and len(left) > 1 and (f.name in _ASK_SPREAD or len(said) > 1):
            rest = 1 - sum(lv.proportion or 0.0 for lv in said)
            yield Unexplained(
                ", ".join(lv.name.replace("_", " ") for lv in said),
                f"the other {rest:.0%} of {f.name.replace('_', ' ')}: spread over "
                f"{', '.join(left)}, or which of them? name the shares",
            )
