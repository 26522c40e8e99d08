"""Class lists in every shape people write them.

"classes: a, b and c", "the classes are a and b", "3 classes - a, b, c - 300 images",
"one class: crowd", "masked / unmasked / partially masked", "open eyes 320, closed eyes 320",
"no glasses (300), reading glasses (300)", "two classes, hat and no hat", "4 hair colours
(black, brown, blond, red)", "200 faces per expression for happy, sad and neutral".

A list is a run of short items (at most four words, each with an optional count or share);
it ends at the end of the sentence or at the first piece that is not an item ("each class
covering all age groups equally" is a clause, never a class). A phrase that is one vocabulary
level ("south asian/indian") is one item even when it holds a separator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.language.reader.words import (
    ANY_LEVEL_RX,
    COUNT_NOUNS,
    FACTOR_RX,
    level_of,
    levels_of,
    number,
)

_SEP = re.compile(r"\s*(?:,|;|/|&|\+|\band\b|\bor\b|\bvs\.?|\bversus\b|\)\s*(?=\(?\s*[a-z]))\s*")
_END = re.compile(r"\.(?=\s|$)|[;\n!?]|\s-{1,2}\s|\s-{2}|-{2}\s|:\s(?=\D)")
#: Pieces that start a clause about the list, not an item of it.
_NOT_ITEM = re.compile(
    r"^(?:each|every|with|within|all|balanced|balance|equal|equally|evenly|split|spread|same|"
    r"train|training|the rest|rest|total|in total|images?|faces?|pictures?|photos?|"
    r"please|for|in|at|of|where|which|that|who|covering|shared|divided|showing|having|"
    r"ages?|aged|per|apiece|half|mostly|mainly|largely|predominantly|some|few|many|more|less|"
    r"fewer|most|about|around|approximately|roughly|\d)\b"
)
_INNER_STOP = (
    r"\b(?:per|each|apiece|class|classes|images?|faces?|total|between|should|must|with|equal|"
    r"evenly|equally|we|i|you|need|want|make|please|could|would|give|create|generate|render|"
    r"produce|build|like|love|is|are|x\d+)\b|\bin\s+(?:an?|the)\b|\bat\s+(?:an?\s+)?\d"
)
_COUNT = r"\d+(?:\.\d+)?"
_SHARE = rf"(?P<v>{_COUNT})\s*(?P<pct>%)?"
_NAME = r"(?P<name>[^\W\d][\w'/-]*(?:\s+[a-z][\w'/-]*){0,3}?|[^\s\d%(),:;][^\s,;:]*)"
_ITEM_FORMS = [
    re.compile(rf"^{_NAME}$"),
    re.compile(rf"^{_NAME}\s*(?:\(|:|=|-)?\s*{_SHARE}\s*(?:{COUNT_NOUNS})?\s*\)?$"),
    re.compile(rf"^{_SHARE}\s*(?:{COUNT_NOUNS}\s+)?(?:of\s+|in\s+)?(?:the\s+)?{_NAME}$"),
]
_ARTICLE = re.compile(r"^(?:a|an|the|class|classes)\s+(?=[a-z])|\s+class(?:es)?$")


@dataclass
class Item:
    name: str
    count: int | None = None
    share: float | None = None


def parse_item(piece: str) -> Item | None:
    """'no glasses (300)' / 'open eyes 320' / '60% masked' / 'sunglasses' -> Item, else None."""
    quoted = re.fullmatch(r"""\s*["'‘“]([^"'’”]{1,60})["'’”]\s*""", piece)
    if quoted:  # a label in quotes is taken as written
        return Item(quoted.group(1).strip())
    piece = piece.strip(" ()\"'-:").rstrip(".").strip()
    piece = _ARTICLE.sub("", _ARTICLE.sub("", piece)).strip()
    piece = re.sub(r"\s+(?:(?:for|is|are|gets?)\s+)?the\s+(?:rest|remainder|others)$", "", piece)
    if not piece or _NOT_ITEM.match(piece) and not re.match(rf"^{_SHARE}\s+\D", piece):
        return None
    for form in _ITEM_FORMS:
        m = form.match(piece)
        if m is None:
            continue
        name = m.group("name").strip()
        if _NOT_ITEM.match(name) or len(name.split()) > 4 or re.search(_INNER_STOP, name):
            return None
        if re.fullmatch(COUNT_NOUNS, name):
            return None
        v = m.groupdict().get("v")
        if v is None:
            return Item(name)
        if m.group("pct"):
            return Item(name, share=float(v) / 100)
        return Item(name, count=int(number(v)))
    return None


def protected_spans(low: str, start: int, end: int) -> list[tuple[int, int]]:
    """Vocabulary phrases inside [start, end) that a separator must not split."""
    return [
        (start + m.start(), start + m.end())
        for m in ANY_LEVEL_RX.finditer(low[start:end])
        if _SEP.search(m.group(0))
    ]


def split_items(low: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of the pieces between separators in [start, end).

    A slash with no space around it separates only vocabulary levels ('glasses/sunglasses');
    between other words it is part of a label ('a/b').
    """
    keep = protected_spans(low, start, end)
    pieces, pos = [], start
    for m in _SEP.finditer(low, start, end):
        if any(s <= m.start() < e for s, e in keep):
            continue
        if m.group(0) == "/" and not _levels_around(low, m.start(), start, end):
            continue
        pieces.append((pos, m.start()))
        pos = m.end()
    pieces.append((pos, end))
    return [(s, e) for s, e in pieces if low[s:e].strip(" ()")]


def _levels_around(low: str, at: int, start: int, end: int) -> bool:
    before = re.split(r"[,;/&+]|\band\b|\bor\b", low[start:at])[-1]
    after = re.split(r"[,;/&+]|\band\b|\bor\b", low[at + 1 : end])[0]
    return level_of(before) is not None and level_of(after) is not None


def read_list(
    low: str, start: int, limit: int, max_items: int | None = None
) -> tuple[list[Item], int]:
    """The items of a list beginning at `start` (at most `max_items`), and where it ends."""
    end_m = _END.search(low, start, limit)
    end = end_m.start() if end_m else limit
    items: list[Item] = []
    last = start
    for s, e in split_items(low, start, end):
        item = parse_item(low[s:e])
        if item is None:  # 'male with equal counts': the item, then a clause about the list
            cut = re.search(_INNER_STOP + r"|:\s", low[s:e])
            item = parse_item(low[s : s + cut.start()]) if cut and cut.start() > 0 else None
            if item is not None and items:
                items.append(item)
                last = s + cut.start()
            break
        items.append(item)
        last = e
        if max_items is not None and len(items) >= max_items:
            break
    if items and low[last : last + 1] == ")":
        last += 1
    return items, last


def shared_factor_name(items: list[Item]) -> list[Item]:
    """'outdoor and indoor background': the factor name said once belongs to every item."""
    if len(items) < 2:
        return items
    tail = items[-1].name
    for rx, fs in FACTOR_RX:
        m = re.search(rf"\s+(?:{rx.pattern})$", tail)
        if not m:
            continue
        head = tail[: m.start()]
        hit = level_of(head)
        if hit is None or hit[0] not in fs:
            continue
        others = [level_of(it.name) for it in items[:-1]]
        if all(o is not None and o[0] == hit[0] for o in others):
            items[-1] = Item(head, items[-1].count, items[-1].share)
        break
    return items


def unseparated(items: list[Item | None]) -> list[Item | None]:
    """'classes happy sad angry': one item whose every word is a different level of one
    factor is that many items; any other words ('short hair long hair') stay one item."""
    if len(items) != 1 or items[0] is None or items[0].count or items[0].share:
        return items
    words = items[0].name.split()
    options = [{f for f, _ in levels_of(w)} for w in words]
    if len(words) < 2 or not all(options) or len(set.intersection(*options)) != 1:
        return items
    factor = set.intersection(*options).pop()
    if len({level_of(w, factor) for w in words}) != len(words):
        return items
    return [Item(w) for w in words]


def slashed(items: list[Item]) -> list[Item]:
    """'classes: curly/straight/wavy hair': after 'classes', one name holding slashes is a
    list ('south asian/indian', one vocabulary phrase, stays whole)."""
    if len(items) != 1 or "/" not in items[0].name or level_of(items[0].name):
        return items
    parts = [p.strip() for p in items[0].name.split("/")]
    if len(parts) < 2 or not all(parts) or items[0].count or items[0].share:
        return items
    named = {w for p in parts if (hit := level_of(p)) for w in hit[0].split("_")}
    head, _, tail = parts[-1].rpartition(" ")
    if head and tail in named:  # 'curly/straight/wavy hair': 'hair' is every part's factor
        parts[-1] = head
    return [Item(p) for p in parts]
