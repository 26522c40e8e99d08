"""Content words: every word of a request read offline is used by the reading, or the person is
asked about it.

The reader marks the words it reads and the accounting checks its numbers and vocabulary words
against the spec; this check covers the words in between. A word the reader left is explained
only when `tools/vocabulary/accounting.yaml` lists it as safe to leave out of a spec
(`safe_words`: grammar, asking, dataset and arithmetic words) or it stands in a phrase that says
what the data is for (`context_phrases`). Any other word may carry a requirement the reading
dropped ('blurry', 'lads', 'looking straight at the camera'), so an unseen phrasing is asked
about instead of planned without it; a vague count ('a few hundred') asks for the number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from agent.language.reader.words import ACCOUNTING as RULES
from agent.language.reader.words import ANY_FACTOR_RX, ANY_LEVEL_RX, FILLER, near_words

SAFE: frozenset[str] = frozenset(
    w for group in RULES["safe_words"].values() for w in group.split()
) | frozenset(FILLER)
_WORD = re.compile(r"\b[a-z]+(?:['.-][a-z]+)*\b(?!\d)")  # 'q3', 'n95': codes, not words
_CONTEXT = [re.compile(p) for p in RULES["context_phrases"]]
_VAGUE = re.compile(RULES["vague_counts"])
_AGES = re.compile(r"\b\d+(?:'?s|yo|y/o|yrs?)\b")
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


def safe(word: str) -> bool:
    """A word that asks for nothing by itself ('photographed', 'selfie-style')."""
    parts = [p.strip(".'") for p in word.split("-")]
    if len(parts) > 1 and parts[-1] in _SUFFIX_WORDS:
        parts = parts[:-1]
    return all(not p or any(s in SAFE for s in _stems(p)) for p in parts)


def unexplained_words(low: str, used: bytearray) -> list[tuple[str, str]]:
    """Words of `low` the reading did not use (`used` marks its characters) that are no
    vocabulary and no safe word: a vague count asks for the number; runs of other words are
    quoted together."""
    mask = bytearray(used)
    found = []
    for m in _VAGUE.finditer(low):
        found.append((m.group(0).strip(), "how many exactly? give the number"))
        mask[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
    for rx in (*_CONTEXT, ANY_LEVEL_RX, ANY_FACTOR_RX):  # vocabulary left over: the reader's
        for m in rx.finditer(low):
            mask[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
    runs: list[list[int]] = []
    for m in _AGES.finditer(low):  # 'in their 30s', '25yo': an age the reading left out
        if not any(mask[m.start() : m.end()]):
            found.append((m.group(0), "an age the plan does not have: say e.g. 'ages 30 to 39'"))
    for m in _WORD.finditer(low):
        if any(mask[m.start() : m.end()]) or safe(m.group(0)):
            continue
        gap = low[runs[-1][1] : m.start()] if runs else "."
        if not re.search(r"[^\sa-z'-]", gap) and len(gap.split()) <= 2:
            runs[-1][1] = m.end()
        else:
            runs.append([m.start(), m.end()])
    return found + [(low[s:e], _why(low[s:e])) for s, e in runs]


def _why(words: str) -> str:
    """'not in the plan', with the known words a slip away ('did you mean ...?')."""
    near = sorted({w for word in words.split() for w in near_words(word)})
    if near:
        return f"not in the plan: did you mean {' or '.join(repr(w) for w in near[:3])}?"
    return "not in the plan: what should it change?"
