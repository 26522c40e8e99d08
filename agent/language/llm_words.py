"""The content words of a request an LLM's spec leaves unexplained.

The offline reader marks the words it reads; a spec from an LLM carries no such record, so here
the spec's own strings stand in for it. A word of the request is explained when it (or its plain
form: 'masks' -> 'mask') is a word of a class name or description, an attribute or level value
with the vocabulary's words for it, a factor name, an augmentation, a setting the spec moves off
its default or the request gives the number of ('40 epochs' -> `training.epochs`), the spec's
name where the request opens with a title ('Crowd detection: ...'), any word asking for photographs
where the spec's style is photographic (`styles.yaml`), or a word of
`tools/vocabulary/llm_words.yaml` whose kind of fact the spec has ('threshold' with a setting).
The rest goes through the offline reader's content check (`agent.language.reader.content`), so
safe words, context phrases and vague counts are judged exactly as offline, and the person sees
the same question."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from agent.language.reader.base import ReaderBase
from agent.language.reader.content import _stems as stems
from agent.language.reader.content import unexplained_words
from agent.language.rules import Unexplained
from agent.language.spec import DatasetSpec
from tools import vocabulary
from tools.vocabulary import PHOTO_WORDS, VOCABULARY, photo_words

_WORD = re.compile(r"[a-z]+(?:['-][a-z]+)*")
#: Spec sections whose strings are the model's own words for the images.
_NAMED = ("classes", "factors", "constraints", "augmentations")
#: Words that name a kind of fact, explained when the spec has one (`llm_words.yaml`).
_WORDS = yaml.safe_load(Path(vocabulary.__file__).with_name("llm_words.yaml").read_text("utf-8"))
KINDS: dict[str, list[str]] = {kind: w.split() for kind, w in _WORDS["explained_by"].items()}
#: Words of feedback that ask for a change, explained when the revision made one (`changed_words`).
CHANGES: dict[str, list[str]] = {kind: w.split() for kind, w in _WORDS["changes"].items()}
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?")
#: A title before a colon at the start of a request ('Crowd detection: ...').
_TITLE = re.compile(r"\s*([^\n:.;,]{1,80}?)\s*:\s")


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


def _settings_said(spec: DatasetSpec, low: str) -> list[str]:
    """Paths and string values of the settings the spec sets off their defaults, or that the
    request names with their number ('identity similarity threshold 0.9', the default)."""
    data = spec.model_dump(mode="json", exclude={*_NAMED, "name", "subject"})
    default = DatasetSpec(classes=spec.classes).model_dump(mode="json", exclude={*_NAMED})
    numbers = frozenset(float(n) for n in _NUMBER.findall(low))
    return [s for key, value in data.items()
            for s in _said(value, default.get(key), key, (numbers, low))]


def _said(value: Any, default: Any, path: str, request: tuple[frozenset[float], str]
          ) -> list[str]:
    if isinstance(value, dict) and isinstance(default, dict):
        return [s for k, v in value.items()
                for s in _said(v, default.get(k), f"{path}.{k}", request)]
    numbers, low = request
    number = isinstance(value, int | float) and not isinstance(value, bool)
    named = any(re.search(rf"\b{w}", low) for w in path.rsplit(".", 1)[-1].split("_"))
    if value != default or (number and float(value) in numbers and named):
        return [path, *_strings(value)]
    return []


def _kind_words(spec: DatasetSpec, settings: list[str]) -> list[str]:
    """The words of `llm_words.yaml` whose kind of fact the spec has."""
    has = {
        "settings": bool(settings),
        "factors": any(len(f.level_names()) > 1 for f in spec.factors)
        or any(c.attributes for c in spec.classes),
    }
    return [w for kind, words in KINDS.items() if has[kind] for w in words]


def spec_words(spec: DatasetSpec, low: str = "") -> frozenset[str]:
    """The plain forms of every word the spec's own strings say (see the module's doc);
    `low`: the request, which may name a setting at its default with its number."""
    named = spec.model_dump(mode="json", include=set(_NAMED))
    keys = [k for c in spec.classes for k in c.attributes]  # a class's attribute names factors
    settings = _settings_said(spec, low)
    texts = _strings(named) + keys + _vocabulary_words(spec) + settings
    texts += _kind_words(spec, settings)
    if photo_words(spec.generation.style):  # a photographic look: any word that asks for one
        texts += PHOTO_WORDS
    return _plain(texts)


def plain_words(text: str) -> frozenset[str]:
    """The plain forms of the words of `text` ('pilots' -> 'pilot')."""
    return _plain([text])


def _plain(texts: list[str]) -> frozenset[str]:
    """The plain forms of the words of `texts`."""
    words = _WORD.findall(" ".join(texts).lower().replace("_", " ").replace(".", " "))
    return frozenset(s for w in words for s in stems(w))


def changed_words(before: DatasetSpec, after: DatasetSpec) -> frozenset[str]:
    """The plain forms of what `after` no longer says that `before` did (feedback such as
    'drop the pilot class' is explained by the absence of what it names), with the words that
    ask for the kinds of change the revision made ('drop', 'add', 'make')."""
    was, now = spec_words(before), spec_words(after)
    made = {"removed_by": was - now, "added_by": now - was, "changed_by": before != after}
    return (was - now) | _plain([w for kind, words in CHANGES.items() if made[kind] for w in words])


def unexplained_content(text: str, spec: DatasetSpec,
                        also: frozenset[str] = frozenset()) -> list[Unexplained]:
    """Content words of `text` that no string of `spec` (nor a plain form in `also`) explains,
    worded as the offline reader's question ('blurry' - not in the plan: what should it
    change?)."""
    low = ReaderBase(text).low
    used = bytearray(len(low))
    _mark(low, 0, len(low), spec_words(spec, low) | also, used)
    title = _TITLE.match(low)
    if title is not None:  # the dataset's name, as the offline reader takes it
        _mark(low, title.start(1), title.end(1), _plain([spec.name]), used)
    return [Unexplained(words, why) for words, why in unexplained_words(low, used)]


def _mark(low: str, start: int, end: int, known: frozenset[str], used: bytearray) -> None:
    """Mark the words of low[start:end] whose plain forms are `known`."""
    for m in _WORD.finditer(low, start, end):
        if any(s in known for part in m.group(0).split("-") for s in stems(part)):
            used[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
