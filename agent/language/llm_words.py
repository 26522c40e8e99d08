"""The content words of a request an LLM's spec leaves unexplained.

The offline reader marks the words it reads; a spec from an LLM carries no such record, so here
the spec's own strings stand in for it: a word of the request is explained when it (or its plain
form: 'blurry' -> 'blur', 'masks' -> 'mask') is a word of a class name or description, an
attribute or level value with the vocabulary's words for it, a factor name, an augmentation, or a
setting the spec moves off its default ('40 epochs' -> `training.epochs`). The rest goes through
the offline reader's content check (`agent.language.reader.content`), so safe words, context
phrases and vague counts are judged exactly as offline, and the person sees the same question.
"""

from __future__ import annotations

import re
from typing import Any

from agent.language.reader.base import ReaderBase
from agent.language.reader.content import _stems as stems
from agent.language.reader.content import unexplained_words
from agent.language.rules import Unexplained
from agent.language.spec import DatasetSpec
from tools.vocabulary import VOCABULARY

_WORD = re.compile(r"[a-z]+(?:['-][a-z]+)*")
#: Spec sections whose strings are the model's own words for the images.
_NAMED = ("classes", "factors", "constraints", "augmentations")


def _strings(data: Any) -> list[str]:
    """Every string value under `data` (the keys are the schema's words, not the model's)."""
    if isinstance(data, dict):
        data = list(data.values())
    if isinstance(data, list | tuple):
        return [s for v in data for s in _strings(v)]
    return [data] if isinstance(data, str) else []


def _vocabulary_words(spec: DatasetSpec) -> list[str]:
    """The vocabulary's names for the spec's factors and its words for their levels."""
    out: list[str] = []
    pairs = {(f.name, lv) for f in spec.factors for lv in f.level_names()}
    pairs |= {(k, v) for c in spec.classes for k, v in c.attributes.items()}
    for factor, level in pairs:
        fw = VOCABULARY.get(factor)
        if fw is None:
            continue
        out += [fw.title, *fw.names]
        if level in fw.levels:
            out += fw.levels[level].words
    return out


def _changed_settings(spec: DatasetSpec) -> list[str]:
    """Paths and string values of the settings the spec sets off their defaults."""
    data = spec.model_dump(mode="json", exclude={*_NAMED, "name", "subject"})
    default = DatasetSpec(classes=spec.classes).model_dump(mode="json", exclude={*_NAMED})
    out: list[str] = []
    for key, value in data.items():
        if value != default.get(key):
            out += _changed(value, default.get(key), key)
    return out


def _changed(value: Any, default: Any, path: str) -> list[str]:
    if isinstance(value, dict) and isinstance(default, dict):
        return [s for k, v in value.items() if v != default.get(k)
                for s in _changed(v, default.get(k), f"{path}.{k}")]
    return [path, *_strings(value)]


def spec_words(spec: DatasetSpec) -> frozenset[str]:
    """The plain forms of every word the spec's own strings say (see the module's doc)."""
    named = spec.model_dump(mode="json", include=set(_NAMED))
    keys = [k for c in spec.classes for k in c.attributes]  # a class's attribute names factors
    texts = _strings(named) + keys + _vocabulary_words(spec) + _changed_settings(spec)
    words = _WORD.findall(" ".join(texts).lower().replace("_", " ").replace(".", " "))
    return frozenset(s for w in words for s in stems(w))


def unexplained_content(text: str, spec: DatasetSpec) -> list[Unexplained]:
    """Content words of `text` that no string of `spec` explains, worded as the offline
    reader's question ('blurry' - not in the plan: what should it change?)."""
    low = ReaderBase(text).low
    known = spec_words(spec)
    used = bytearray(len(low))
    for m in _WORD.finditer(low):
        if any(s in known for part in m.group(0).split("-") for s in stems(part)):
            used[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
    return [Unexplained(words, why) for words, why in unexplained_words(low, used)]
