"""Content words: every word of a request read offline is explained, or the person is asked.

The accounting explains numbers and vocabulary words by facts of the spec; this check covers
the words between them. A word is explained when it is part of a vocabulary phrase (a level or
a factor name), part of a number the accounting reads, a word of one of the spec's names, or a
word `tools/vocabulary/accounting.yaml` lists as safe to leave out of a spec (`safe_words`:
grammar, asking, dataset and arithmetic words). Any other word may carry a requirement the
reading dropped ('blurry', 'lads', 'looking straight at the camera'), so an unseen phrasing is
asked about instead of planned without it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from agent.language.reader.words import ANY_FACTOR_RX, ANY_LEVEL_RX
from agent.language.rules import RULES, Unexplained

SAFE: frozenset[str] = frozenset(
    w for group in RULES["safe_words"].values() for w in group.split()
)
_WORD = re.compile(r"\b[a-z]+(?:['.-][a-z]+)*\b(?!\d)")  # 'q3', 'n95': codes, not words
_CONTEXT = [re.compile(p) for p in RULES["context_phrases"]]
_VAGUE = re.compile(RULES["vague_counts"])
_SUFFIX_WORDS = frozenset(RULES["hyphen_suffixes"])
_SUFFIXES = ("'s", "s'", "s", "es", "ies", "ed", "d", "ing", "ly", "'")


def _stems(word: str) -> Iterator[str]:
    """The word and its plain forms ('photographed' -> 'photograph', 'kids' -> 'kid')."""
    yield word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            stem = word[: -len(suffix)]
            yield stem
            yield stem + "e"
            if suffix == "ies":
                yield stem + "y"
            if suffix == "ing" and len(stem) > 2 and stem[-1] == stem[-2]:
                yield stem[:-1]


def safe(word: str, names: set[str]) -> bool:
    """A word that asks for nothing by itself, or a word of one of the spec's names."""
    parts = [p.strip(".'") for p in word.split("-")]
    if len(parts) > 1 and parts[-1] in _SUFFIX_WORDS:
        parts = parts[:-1]
    return all(not p or any(s in SAFE or s in names for s in _stems(p)) for p in parts)


def _covered(low: str, spans: list[tuple[int, int]]) -> bytearray:
    mask = bytearray(len(low))
    for rx in (ANY_LEVEL_RX, ANY_FACTOR_RX):
        spans += [(m.start(), m.end()) for m in rx.finditer(low)]
    for s, e in spans:
        mask[s:e] = b"\x01" * (e - s)
    return mask


def content_problems(low: str, names: str, spans: list[tuple[int, int]]) -> list[Unexplained]:
    """Words of `low` that are no vocabulary, number, name or safe word, as questions: a vague
    count ('a few hundred') asks for the number; runs of other words are quoted together."""
    found = [Unexplained(m.group(0).strip(), "how many exactly? give the number")
             for m in _VAGUE.finditer(low)]
    spans = spans + [(m.start(), m.end()) for rx in (_VAGUE, *_CONTEXT) for m in rx.finditer(low)]
    mask, known = _covered(low, spans), set(re.findall(r"[a-z]+", names))
    runs: list[list[int]] = []
    for m in _WORD.finditer(low):
        if any(mask[m.start() : m.end()]) or safe(m.group(0), known):
            continue
        if runs and not re.search(r"[^\sa-z'-]", low[runs[-1][1] : m.start()]) \
                and len(low[runs[-1][1] : m.start()].split()) <= 2:
            runs[-1][1] = m.end()
        else:
            runs.append([m.start(), m.end()])
    found += [Unexplained(low[s:e], "not in the plan: what should it change?") for s, e in runs]
    return found
