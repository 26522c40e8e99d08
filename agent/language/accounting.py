"""Accounting: every number and vocabulary word of a request is explained by a fact of the spec.

A reader (offline or an LLM) can drop or misread a word without noticing; the accounting does
not read the request, it checks a reading of it. Each number (digits, number words, fractions,
ratios, percentages, ranges, sizes) must match a fact of the spec of the kind its neighbouring
words name (a class count for 'six emotions', a share for '20%', a people count for '30
people'), and each vocabulary word must name a level or factor the spec has. What is left
unexplained goes back to the person as a question, never into a silent plan. The words around
numbers that ask for nothing (model names, versions, years) are data:
`tools/vocabulary/accounting.yaml`.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from agent.language.context import (
    factors_named,
    in_context,
    rest_problems,
    share_problem,
    spread_problems,
    summed_shares,
    wording_problems,
)
from agent.language.reader.base import ReaderBase
from agent.language.reader.words import ANY_FACTOR_RX, ANY_LEVEL_RX, COUNT_NOUNS
from agent.language.rules import RULES, Unexplained, levels_of
from agent.language.spec import DatasetSpec, SpecError
from tools.vocabulary import VOCABULARY

_NUM = r"\d+(?:\.\d+)?"
_IGNORE = [re.compile(p) for p in RULES["not_requirements"]]
_ADJ = rf"(?:(?!{COUNT_NOUNS}\b|{RULES['not_adjectives']}\b)[a-z-]+\s+){{0,2}}?"
_PER_CLASS = re.compile(rf"\s*(?:{COUNT_NOUNS}\s+)?(?:per|each|for\s+each|in\s+each)\s+"
                        rf"{RULES['category_nouns']}\b")
_CLASSES = re.compile(rf"\s*{_ADJ}(?:classes|class|categories|category)\b")
_CATEGORY = re.compile(rf"\s*{_ADJ}{RULES['category_nouns']}\b")
_EACH = re.compile(rf"\s*(?:{COUNT_NOUNS}\s+)?(?:each|apiece|for\s+each|of\s+each)\b(?!\s+[a-z])")
_PER_FACTOR = re.compile(rf"\s*(?:{COUNT_NOUNS}\s+)?(?:per|for\s+each|for\s+every|in\s+each|each)"
                         rf"\s+(?:(?:of\s+)?the\s+)?{RULES['cell_words']}?(?:{ANY_FACTOR_RX.pattern})")
_LEVELS_AFTER = re.compile(rf"\s*(?:ratio\s+|split\s+|mix\s+)?(?:of|between)\s+(?:the\s+)?"
                           rf"(?:{COUNT_NOUNS}\s+(?:with\s+)?)?(?:{ANY_LEVEL_RX.pattern})")
_LEVELS_OF = re.compile(rf"\s*(?:(?:different|distinct|separate)\s+)?(?:{ANY_FACTOR_RX.pattern})\b")
_PEOPLE = re.compile(rf"\s*{_ADJ}{RULES['people_nouns']}\b")
_SPLIT = re.compile(rf"\b{RULES['split_words']}\w*\s*:?\s*(?:{_NUM}\s*%?,?\s*)?$")
_SPLIT_AFTER = re.compile(rf"\s*(?:for|to|as|in|on)?\s*(?:the\s+)?{RULES['split_words']}")
_NOT_LEVEL = [re.compile(p) for p in RULES["not_levels"]]
_REVISION = re.compile(RULES["revision"])
_NEGATED = re.compile(RULES["negations"])
_PAIRED = re.compile(
    rf"\s+(?:with|when|while|and|for|on|if)\s+(?:the\s+|their\s+)*(?:{ANY_LEVEL_RX.pattern})"
)
_SPLIT_PART = re.compile(RULES["split_part_words"])
_BOUND_BEFORE = re.compile(RULES["bounds_before"])
_BOUND_AFTER = re.compile(RULES["bounds_after"])
_PER_ANY = re.compile(
    rf"\s*(?:{COUNT_NOUNS}\s+)?(?:per|for\s+each|for\s+every|in\s+each|each)\s+[a-z]"
)
_IN_FRAME = re.compile(RULES["in_one_frame"])
_RATIO_BEFORE = re.compile(RULES["ratio_before"])
_SHARE_WORD = re.compile(rf"\b{RULES['share_words']}\s+(?:[a-z'-]+\s+){{0,3}}$")
_TOKEN = re.compile(
    rf"(?P<times>\b(?:twice|double)|\b{_NUM}\s*(?:times?|x))\s+(?:as\s+many|more)\b"
    rf"|(?<![\w.])(?P<product>{_NUM}\s+(?:{COUNT_NOUNS}|{RULES['category_nouns']})\s+(?:x|times)\s+{_NUM})\b"
    rf"|(?<![\w.])(?P<size>\d+\s*x\s*\d+)(?![\w])"
    rf"|(?<![\w.:/-])(?P<ratio>{_NUM}(?:\s?[:/]\s?{_NUM})+|\d+-\d+-\d+)(?![\w:/-])"
    rf"|(?<![\w.])(?P<range>{_NUM}\s*(?:-|to)\s*{_NUM})(?![\w%])"
    rf"|(?<![\w.])(?P<pct>{_NUM})\s*%"
    rf"|(?<![\w.])(?P<num>{_NUM})(?:\s*px)?(?![\w%])"
)


@dataclass
class Account:
    """What explained each number and word of a request, and what nothing explained."""

    explained: list[tuple[str, str]] = field(default_factory=list)
    unexplained: list[Unexplained] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unexplained


class Question(SpecError):
    """A reading that leaves words unexplained: the person is asked, never planned for silently.
    One line per unexplained phrase, with the readings that would explain it."""

    def __init__(self, items: list[Unexplained]) -> None:
        self.items = items
        lines = [u.line() + u.options() for u in items[:5]]
        super().__init__(
            "not planned, so as not to guess: " + "; ".join(lines)
            + ". Say it another way (e.g. '25% wear hats', 'classes: a, b and c')"
        )


# --- the facts of a spec --------------------------------------------------------------------


def _leaves(data: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every scalar of the spec's data with its path ('classes.0.quota', 300)."""
    if isinstance(data, dict):
        return [leaf for k, v in data.items() for leaf in _leaves(v, f"{path}.{k}".strip("."))]
    if isinstance(data, list | tuple):
        return [leaf for i, v in enumerate(data) for leaf in _leaves(v, f"{path}.{i}")]
    return [(path, data)]


def level_shares(spec: DatasetSpec) -> dict[tuple[str, str], float]:
    """Share of the whole dataset at each (factor, level), from class-fixed levels and the
    factors' own targets."""
    out: dict[tuple[str, str], float] = {}
    for c in spec.classes:
        weight = c.quota / spec.total
        parts = {(k, v): 1.0 for k, v in c.attributes.items()}
        for f in spec.factors:
            if f.name not in c.attributes:
                parts.update({(f.name, lv): s for lv, s in f.targets().items()})
            for bucket, derived in f.derived().items():
                for k, v in derived.items():
                    share = f.targets().get(bucket, 0.0)
                    parts[(k, v)] = parts.get((k, v), 0.0) + share
        for key, share in parts.items():
            out[key] = out.get(key, 0.0) + weight * share
    return out


#: Spec sections whose fractions are thresholds, not shares of the images.
_SETTINGS = ("quality", "budget", "generation", "training")


@dataclass
class Facts:
    """The numbers a spec states, by kind, each with what it is."""

    counts: dict[float, str] = field(default_factory=dict)
    categories: dict[int, str] = field(default_factory=dict)
    class_count: int = 0
    per_class: dict[float, str] = field(default_factory=dict)
    people: dict[int, str] = field(default_factory=dict)
    per_each: dict[float, str] = field(default_factory=dict)
    """Counts 'N each' may mean besides a class quota: images per person or per combination."""
    cells: dict[float, str] = field(default_factory=dict)
    """Images per combination of factor levels ('50 for each gender and age group')."""
    shares: list[tuple[float, str]] = field(default_factory=list)
    groups: list[tuple[list[float], str]] = field(default_factory=list)
    split_groups: list[tuple[list[float], str]] = field(default_factory=list)
    """The splits, which explain a ratio only where split words are near it ('80/20 split')."""
    ranges: list[tuple[float, float, str]] = field(default_factory=list)
    words: str = ""
    parts: set[int] = field(default_factory=set)
    """Where level words start whose shares add up to their level's ('5% sun hats, 15% caps')."""

    def count(self, value: float, what: str) -> None:
        self.counts.setdefault(float(value), what)

    def share(self, value: float, what: str) -> None:
        if 0 < value <= 1:
            self.shares.append((100 * value, what))


def facts(spec: DatasetSpec) -> Facts:
    """Every number the spec states or implies, and the words of its names."""
    out = Facts()
    data = spec.model_dump(mode="json")
    for path, value in _leaves(data):
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        out.count(value, path)
        if isinstance(value, float) and not path.startswith(_SETTINGS):
            out.share(value, path)
    _class_facts(spec, out)
    _factor_facts(spec, out)
    _setting_facts(spec, out)
    named = {k: data[k] for k in ("classes", "factors", "augmentations")}
    texts = [str(v) for _, v in _leaves(named) if isinstance(v, str)]
    out.words = " ".join(texts).lower().replace("_", " ")
    return out


def _class_facts(spec: DatasetSpec, out: Facts) -> None:
    total, quotas = spec.total, [c.quota for c in spec.classes]
    out.count(total, "the total")
    out.categories[len(spec.classes)] = f"{len(spec.classes)} classes"
    out.class_count = len(spec.classes)
    for c in spec.classes:
        out.share(c.quota / total, f"class '{c.name}'")
    out.groups.append(([float(q) for q in quotas], "the class quotas"))
    if len(quotas) <= 12:
        for k in (2, 3):
            for combo in itertools.combinations(spec.classes, k):
                names = " + ".join(c.name for c in combo)
                out.count(sum(c.quota for c in combo), names)
                out.share(sum(c.quota for c in combo) / total, names)
    if len(set(quotas)) == 1:
        out.count(quotas[0], "images per class")
        out.per_each.setdefault(float(quotas[0]), "images per class")
    if len(quotas) > 1:
        out.per_class.update({float(q): "a class quota" for q in quotas})


def _factor_facts(spec: DatasetSpec, out: Facts) -> None:
    for f in spec.factors:
        _one_factor_facts(spec, f, out)
    for (factor, level), share in level_shares(spec).items():
        out.share(share, f"{factor} {level}")
        out.count(round(spec.total * share), f"{factor} {level}")
    _cell_facts(spec, out)
    by_factor: dict[str, set[str]] = {}
    for c in spec.classes:
        for k, v in c.attributes.items():
            by_factor.setdefault(k, set()).add(v)
    for k, vs in by_factor.items():
        out.categories.setdefault(len(vs), f"{len(vs)} {k} classes")


def _one_factor_facts(spec: DatasetSpec, f: Any, out: Facts) -> None:
    """A factor's level count, shares, images per level (in each class) and numeric range."""
    targets = f.targets()
    out.categories.setdefault(len(targets), f"{len(targets)} levels of {f.name}")
    out.groups.append((list(targets.values()), f"the {f.name} shares"))
    for lv, t in targets.items():
        out.share(t, f"{f.name} {lv}")
        for c in spec.classes:
            if f.name not in c.attributes:
                for r in (round, int, lambda x: -int(-x // 1)):
                    out.count(r(c.quota * t), f"'{c.name}' with {f.name} {lv}")
                out.count(round(spec.total * t), f"{f.name} {lv}")
    if f.numeric is not None:
        n = f.numeric
        out.ranges.append((n.low, n.high, f"{f.name} {n.low:g}-{n.high:g}"))


def _cell_facts(spec: DatasetSpec, out: Facts) -> None:
    """Images per combination of levels ('25 images per combination' of 2 x 5 x 4 levels)."""
    sizes = [len(f.level_names()) for f in spec.factors if len(f.level_names()) > 1][:6]
    for c in spec.classes:
        for k in range(1, len(sizes) + 1):
            for combo in itertools.combinations(sizes, k):
                cells = 1
                for n in combo:
                    cells *= n
                if c.quota % cells == 0:
                    out.count(c.quota // cells, f"'{c.name}' images per combination")
                    out.per_each.setdefault(c.quota // cells, "images per combination")
                    out.cells.setdefault(c.quota // cells, "images per combination")


def _setting_facts(spec: DatasetSpec, out: Facts) -> None:
    s = spec.splits
    parts = [s.train, s.val, s.test]
    out.split_groups.append((parts, "the splits"))
    out.split_groups.append(([s.train + s.val, s.test], "train (validation taken from it), test"))
    out.split_groups.append(([s.train, s.val + s.test], "train and the held-out parts"))
    out.shares.append((100 * (s.train + s.val), "train with the validation taken from it"))
    for p in parts:
        out.count(round(spec.total * p), "a split")
        out.shares.append((100 * p, "a split"))
    if spec.identities is not None:
        ids = spec.identities
        out.people[ids.count] = f"{ids.count} people"
        out.count(ids.images_per_identity, "images per person")
        out.per_each[float(ids.images_per_identity)] = "images per person"
    low, high = spec.faces_range()
    out.people.setdefault(low, "faces per image")
    out.people.setdefault(high, "faces per image")
    out.per_each.setdefault(float(low), "faces per image")
    out.per_each.setdefault(float(high), "faces per image")
    out.ranges.append((low, high, "faces per image"))
    out.count(spec.image_size, "the image size")


# --- the numbers of a request ---------------------------------------------------------------


def _ignored(low: str) -> bytearray:
    """Characters of numbers that ask for nothing (a model name, a version, a year)."""
    mask = bytearray(len(low))
    for rx in _IGNORE:
        for m in rx.finditer(low):
            mask[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
    return mask


def _near(value: float, options: Any, tol: float = 0.0) -> str | None:
    for v, what in options:
        if abs(v - value) <= tol:
            return what
    return None


def _proportional(parts: list[float], groups: list[tuple[list[float], str]]) -> str | None:
    """A ratio ('4:1', '1:2:1', '85:15') matches some group of the spec's numbers in proportion."""
    want = sorted(p / sum(parts) for p in parts) if sum(parts) else []
    for values, what in groups:
        for combo in itertools.combinations(values, len(parts)):
            got = sorted(c / sum(combo) for c in combo) if sum(combo) else []
            if got and all(abs(a - b) < 0.01 for a, b in zip(want, got, strict=True)):
                return what
    return None


def _size(m: re.Match[str], low: str, f: Facts) -> str | None:
    sides = {int(x) for x in re.findall(r"\d+", m.group("size"))}
    return _near(sides.pop(), f.counts.items()) if len(sides) == 1 else None


def _ratio(m: re.Match[str], low: str, f: Facts) -> str | None:
    """A ratio of classes or levels; of the splits only with split words near it, and a
    two-part one only with the parts named ('a 60/40 split' may be the classes)."""
    parts = [float(x) for x in re.findall(_NUM, m.group("ratio"))]
    near = low[max(0, m.start() - 40) : m.end() + 40]
    levels_after = _LEVELS_AFTER.match(low, m.end())  # 'a 60/40 split of men and women'
    if len(parts) == 2 and re.search(r"\bsplit", near) and not (_SPLIT_PART.search(near)
                                                                or levels_after):
        return None
    split = re.search(rf"\b(?:split|{RULES['split_words']})", near)
    return _proportional(parts, f.groups + (f.split_groups if split else []))


def _product(m: re.Match[str], low: str, f: Facts) -> str | None:
    a, b = (float(x) for x in re.findall(_NUM, m.group("product")))
    return f.counts.get(a * b)


def _times(m: re.Match[str], low: str, f: Facts) -> str | None:
    times = re.findall(_NUM, m.group("times"))
    return _proportional([float(times[0]) if times else 2.0, 1.0], f.groups)


def _range(m: re.Match[str], low: str, f: Facts) -> str | None:
    lo, hi = (float(x) for x in re.findall(_NUM, m.group("range")))
    if " to " in m.group("range") and _RATIO_BEFORE.search(low, max(0, m.start() - 40), m.start()):
        ratio = _proportional([lo, hi], f.groups)  # 'men to women 3 to 1': a ratio
        if ratio is not None:
            return ratio
    for a, b, what in f.ranges:
        if a == lo and abs(b - hi) <= 1:
            return what
    ends = [_near(v, f.counts.items()) or _named(v, f) for v in (lo, hi)]
    return " and ".join(ends) if all(ends) else None


def _pct(m: re.Match[str], low: str, f: Facts) -> str | None:
    return _near(float(m.group("pct")), f.shares, tol=0.5)


def _plain(m: re.Match[str], low: str, f: Facts) -> str | None:
    """A plain number: what it counts by the words after it (classes, people, a split)."""
    value, after = float(m.group("num")), low[m.end() : m.end() + 40]
    if _PER_CLASS.match(after):
        return f.per_class.get(value)
    if _PER_FACTOR.match(after):  # '50 for each gender and age group': per combination
        each = f.per_each.get(value)  # or per person; a single class's quota is no cell
        return f.cells.get(value) or f.per_class.get(value) or (
            each if each != "images per class" else None)
    if _EACH.match(after):  # '400 images for each': per class, per person or per combination
        return f.per_class.get(value) or f.per_each.get(value)
    if _PER_ANY.match(after):  # '100 faces for every combination of ...': never the total
        each = f.per_each.get(value)
        return f.per_class.get(value) or (each if each != "images per class" else None)
    if _CLASSES.match(after):  # 'N classes' counts the classes, not some factor's levels
        return "the classes" if value == f.class_count else None
    if _CATEGORY.match(after) or _LEVELS_OF.match(after):  # 'six hair colours' counts levels
        return f.categories.get(int(value)) if value.is_integer() else None
    if _PEOPLE.match(after):
        return f.people.get(int(value)) if value.is_integer() else None
    if _SPLIT.search(low[max(0, m.start() - 40) : m.start()]) or _SPLIT_AFTER.match(after):
        return _near(value, f.shares, tol=0.5) or f.counts.get(value)
    return f.counts.get(value)


_EXPLAIN = {"size": _size, "ratio": _ratio, "product": _product, "times": _times,
            "range": _range, "pct": _pct, "num": _plain}


def _explain_number(m: re.Match[str], low: str, f: Facts) -> str | None:
    """What fact explains the number token `m`, or None."""
    return _EXPLAIN[m.lastgroup or "num"](m, low, f)


def _named(value: float, f: Facts) -> str | None:
    """A number inside a name of the spec ('monk 7')."""
    return "a name" if re.search(rf"\b{value:g}\b", f.words) else None


def _why(m: re.Match[str], low: str) -> str:
    after = low[m.end() : m.end() + 40]
    if m.group("pct"):
        return "no share of the plan is this"
    if m.group("product"):
        return "the plan has no count that is this product"
    if m.group("ratio") or m.group("times"):
        return "no classes, levels or splits of the plan are in this ratio"
    if m.group("num") and _PER_CLASS.match(after):
        return "the plan has no classes of this many images"
    if m.group("num") and _CATEGORY.match(after):
        return "the plan has no class or factor with this many levels"
    if m.group("num") and _PEOPLE.match(after):
        return "the plan has no people count or faces per image like this"
    return "no count of the plan is this"


def _key(m: re.Match[str], low: str) -> tuple[str | None, str]:
    """What a number counts, by its kind and the word after it ('300 faces' -> faces)."""
    word = re.match(r"[\s%]*([a-z]+)", low[m.end() : m.end() + 30])
    return m.lastgroup, word[1] if word else ""


def _revised(m: re.Match[str], low: str, later: list[re.Match[str]]) -> bool:
    """A number a later sentence says again ('300 faces. ... Make it 600 faces'): later
    statements win, which is how feedback revises a request."""
    return any(
        _key(n, low) == _key(m, low) and _REVISION.search(low, m.end(), n.start())
        for n in later
    )


def _bound(m: re.Match[str], low: str, what: str | None) -> Unexplained | None:
    """'at least 40%', '1000 at minimum': a bound the plan would make exact; a threshold or
    a number of faces per image may be a bound."""
    if what is not None and (what.startswith(_SETTINGS) or "faces per image" in what):
        return None
    before = _BOUND_BEFORE.search(low, max(0, m.start() - 24), m.start())
    after = _BOUND_AFTER.match(low[m.end() : m.end() + 30])
    if not before and not after:
        return None
    start = before.start() if before else m.start()
    said = low[start : m.end() + (after.end() if after else 0)].strip()
    exact = m.group(0).strip()
    return Unexplained(said, "a bound or an estimate, not an exact number",
                       (f"exactly {exact}",), kind="reading")


def account_numbers(low: str, f: Facts, acc: Account) -> None:
    ignored = _ignored(low)
    tokens = [m for m in _TOKEN.finditer(low) if not any(ignored[m.start() : m.end()])]
    for i, m in enumerate(tokens):
        words = m.group(0).strip()
        what = _explain_number(m, low, f)
        if what is None and _revised(m, low, tokens[i + 1 :]):
            what = "said again later"
        bound = _bound(m, low, what)
        if bound is not None:
            acc.unexplained.append(bound)
        elif what is not None:
            acc.explained.append((words, what))
        elif not re.search(rf"\b{re.escape(words)}\b", f.words):  # named in a class
            acc.unexplained.append(Unexplained(words, _why(m, low)))


# --- the words of a request -----------------------------------------------------------------


def _spec_levels(spec: DatasetSpec) -> set[tuple[str, str]]:
    have = {key for key, share in level_shares(spec).items() if share > 0}
    have |= {(f.name, lv) for f in spec.factors for lv in f.level_names()}
    for con in spec.constraints:
        have |= set(con.when.items())
        have |= {(k, v) for k, vs in con.forbid.items() for v in vs}
    return have


def _defaulted(factor: str, level: str, spec: DatasetSpec) -> bool:
    """A factor the spec leaves at its default level ('no glasses' with no eyewear factor)."""
    named = {f.name for f in spec.factors} | {k for c in spec.classes for k in c.attributes}
    return factor not in named and VOCABULARY[factor].rest == level


def account_words(low: str, spec: DatasetSpec, f: Facts, acc: Account) -> None:
    have, shares = _spec_levels(spec), level_shares(spec)
    for m in ANY_LEVEL_RX.finditer(low):
        if any(rx.search(low, max(0, m.start() - 12), m.end()) for rx in _NOT_LEVEL):
            continue
        options = levels_of(m.group(0))
        neg = _NEGATED.search(low, max(0, m.start() - 30), m.start())
        if neg and not _PAIRED.match(low, m.end()):  # 'no sunglasses with eyes closed': a pair
            said = low[neg.start() : m.end()]
            if any(shares.get(o, 0.0) > 0 for o in options):
                acc.unexplained.append(Unexplained(said, "said without it, but the plan has it"))
            else:
                acc.explained.append((said, "not in the plan"))
            continue
        hit = in_context(low, m, [o for o in options if o in have or _defaulted(*o, spec)])
        if not hit:
            acc.unexplained.append(Unexplained(m.group(0), "the plan has no such level"))
            continue
        acc.explained.append((m.group(0), ", ".join(f"{k}={v}" for k, v in hit)))
        written = None if m.start() in f.parts else share_problem(low, m, hit, shares)
        for problem in (written, _unquantified(low, m, hit, shares)):
            if problem is not None:
                acc.unexplained.append(problem)
    factors = {k for k, _ in have}
    for m in ANY_FACTOR_RX.finditer(low):
        varied = any(fac in factors for fac in factors_named(m.group(0)))
        if not varied and m.group(0) not in f.words:
            acc.unexplained.append(Unexplained(m.group(0), "the plan does not vary this"))
    acc.unexplained += rest_problems(low, spec, shares)
    acc.unexplained += spread_problems(spec)
    acc.unexplained += wording_problems(low, spec, f.words, have)


def _unquantified(
    low: str, m: re.Match[str], hit: list[tuple[str, str]], shares: dict[tuple[str, str], float]
) -> Unexplained | None:
    """'some people wearing hats' planned as a hat in every image: what share?"""
    clause = low[max(0, low.rfind(".", 0, m.start()) + 1, m.start() - 40) : m.start()]
    quantified = _SHARE_WORD.search(clause)
    in_frame = _IN_FRAME.match(low, m.end())  # 'several children in one frame': faces
    if not quantified or in_frame or not all(shares.get(o, 0.0) >= 0.999 for o in hit):
        return None
    said = low[m.start() - len(clause) + quantified.start() : m.end()]
    return Unexplained(said, "what share?", tuple(f"{p}%" for p in RULES["share_candidates"]))


def account(text: str, spec: DatasetSpec) -> Account:
    """Explain every number and vocabulary word of `text` by a fact of `spec`."""
    low = ReaderBase(text).low
    f = facts(spec)
    parts = summed_shares(low, level_shares(spec))
    for pct in parts.values():
        f.share(pct / 100, "a part of its level's share")
    f.parts = set(parts)
    acc = Account()
    account_numbers(low, f, acc)
    account_words(low, spec, f, acc)
    return acc


def check_account(text: str, spec: DatasetSpec) -> None:
    """Raise a Question when some number or word of `text` is not in `spec`."""
    acc = account(text, spec)
    if not acc.ok:
        raise Question(acc.unexplained)
