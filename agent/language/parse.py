"""Plain language (or YAML) -> DatasetSpec.

Two modes, chosen by configuration (`agent.llm`): with an OpenAI-compatible endpoint the LLM
writes the spec as JSON, validated by pydantic with repair rounds; offline (the default when no
endpoint is set, or with `--offline`) a deterministic rule-based reader handles the plain English
of `specs/*.txt`: totals and per-class counts, class lists, percentages per level, "balanced
across ...", age ranges, image size, task words, faces per image, identities, constraints,
splits, thresholds, budget and seed.

The offline reader (`agent.language.reader`) marks every word it uses; leftover words that look
like a
requirement (a number, a share, a vocabulary word or factor name, a visual attribute facetory
cannot draw) make the request fail with those words quoted, while words that ask for nothing
("We're building a classifier for school photos") never do. The vocabulary, its synonyms and
its misspellings are data (`tools/vocabulary/factors.yaml`), read by the reader, the prompt
builder and the LLM's instructions alike. Safety (`agent.language.safety`) is checked on the words
and
on the parsed spec.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

from agent.language.accounting import Question, account
from agent.language.answers import apply_answers
from agent.language.candidates import read_offline
from agent.language.context import check_subject
from agent.language.llm_words import unexplained_content
from agent.language.reader.base import ReaderBase
from agent.language.rules import Unexplained
from agent.language.safety import check_request
from agent.language.spec import DatasetSpec, SpecError, yaml_problem
from tools.vocabulary import VOCABULARY

# --- LLM mode --------------------------------------------------------------------------------

_SYSTEM = """You turn a plain-language description of a synthetic face dataset into a DatasetSpec.
Rules:
- Use these factor names and levels exactly (the renderer and the critic understand them).
  Each level is followed by words people use for it; map such words to the level:
{vocab}
- A numeric age range is a factor named "age" with
  "numeric": {{"low": .., "high": .., "unit": "years"}} and no age_group factor.
- Classes may fix levels in "attributes" (an eyewear class "glasses" ->
  {{"eyewear": "glasses"}}; children -> {{"age_group": "child"}}). Class quotas must add up
  to the requested total.
- "balanced" factors spread images equally; otherwise give each level a proportion (0..1).
- Identity datasets set "identities" (count x images_per_identity = total); factors fixed per
  person get "scope": "identity".
- A title before a colon at the start ("Crowd detection: ...") is the dataset's "name".
- Never drop a requirement; if something cannot be expressed, put it in a class description.
"""


def vocab_text() -> str:
    """The vocabulary for the model's instructions: factor, its names, levels and synonyms."""
    lines = []
    for f, fw in VOCABULARY.items():
        lines.append(f"  {f} ({fw.title}; also called: {', '.join(fw.names[:4])}):")
        for level, body in fw.levels.items():
            lines.append(f"    {level}: {', '.join(body.words[:8])}")
    return "\n".join(lines)


def parse_llm(text: str, model: Any) -> DatasetSpec:
    """LLM mode: the model writes the spec; pydantic validation errors go back for repair."""
    from agent.llm import structured_call

    messages = [
        ("system", _SYSTEM.format(vocab=vocab_text())),
        ("user", text),
    ]
    return structured_call(model, DatasetSpec, messages, check=lambda s: _unexplained(text, s))


def _llm_or_offline(text: str, model: Any) -> DatasetSpec:
    """LLM mode; an endpoint nothing answers at is said in one line, and the offline reader
    reads the request instead. Words the spec still leaves unexplained after the repair
    rounds are the offline reader's question (`Question`), never a silent plan."""
    from agent.llm import LLMUnreachable

    try:
        spec = parse_llm(text, model)
    except LLMUnreachable as exc:
        sys.stderr.write(f"notice: {exc}; reading the request offline instead\n")
        return read_offline(text)
    if problems := llm_problems(text, spec):
        raise Question(problems)
    return spec


def llm_problems(text: str, spec: DatasetSpec,
                 also: frozenset[str] = frozenset()) -> list[Unexplained]:
    """The numbers and vocabulary words (the accounting) and the other content words
    (`llm_words`) of `text` that an LLM's `spec` does not explain; `also`: plain forms of
    words explained otherwise (what a revision removed)."""
    found = [u for u in account(text, spec).unexplained if not _named_in(u.words, also)]
    said = " ".join(u.words for u in found)
    return found + [u for u in unexplained_content(text, spec, also) if u.words not in said]


def _named_in(words: str, also: frozenset[str]) -> bool:
    """Every word of `words` has a plain form in `also` ('no hats' where hats went)."""
    from agent.language.llm_words import plain_words

    return bool(also) and plain_words(words) <= also


#: Unexplained words named in one repair round at most: the prompt stays short.
_REPAIR_ITEMS = 8


def _unexplained(text: str, spec: DatasetSpec) -> str | None:
    """What an LLM's spec leaves unexplained, worded for a repair round."""
    return repair_request(llm_problems(text, spec))


def repair_request(found: list[Unexplained], of: str = "the request") -> str | None:
    """Unexplained words of `of` worded for the model's repair round (None: nothing to
    repair)."""
    if not found:
        return None
    lines = "\n".join(f"- '{u.words}'" + (f": {u.why}" if _for_model(u) else "")
                      for u in found[:_REPAIR_ITEMS])
    return (
        f"That DatasetSpec leaves words of {of} unexplained; every number and every word "
        "that asks for something must be in the spec (a class name or description, a factor "
        f"level, a share, a setting):\n{lines}"
    )


def _for_model(u: Unexplained) -> bool:
    """The reason is worth the model's reading (the accounting's), not a question for a person."""
    return not u.why.startswith("not in the plan")


# --- entry points ----------------------------------------------------------------------------


def looks_like_yaml_spec(text: str) -> bool:
    """Text shaped like a YAML spec: a `classes:` key at the start of a line, other `key:` lines."""
    keys = re.findall(r"^([a-z_]+)\s*:(?:\s|$)", text, re.MULTILINE)
    return "classes" in keys and len(keys) >= 2


def _yaml_spec(text: str, *, is_yaml: bool = False) -> DatasetSpec | None:
    """A spec written as YAML (a mapping with `classes`), else None. Text that is YAML by its
    file name or its shape (a `classes:` key at the start of a line, other `key:` lines) and
    does not parse is an error naming the line, never read as English."""
    if not (is_yaml or looks_like_yaml_spec(text)):
        return None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"YAML spec: not valid YAML: {yaml_problem(exc)}") from None
    if is_yaml and not isinstance(data, dict):
        raise SpecError("YAML spec: expected a mapping of spec fields (name, classes, ...)")
    if not isinstance(data, dict) or not isinstance(data.get("classes"), list):
        return None
    return DatasetSpec.from_data(data, where="YAML spec")


#: `parse_spec(llm=...)` left out: open the chat model here (the environment read now).
_OPEN_HERE: Any = object()


def parse_spec(text: str, *, offline: bool | None = None, is_yaml: bool = False,
               llm: Any = _OPEN_HERE) -> DatasetSpec:
    """Words (or YAML spec text) -> a validated DatasetSpec; refused or bad input raises a
    SpecError with one line for the person. `llm`: the chat model the command opened (None:
    the offline reader), so that a build reads its LLM settings once."""
    if text is None or not text.strip():
        raise SpecError("the description is empty: say what faces you want, e.g. '300 faces'")
    if len(text) > 100_000:
        raise SpecError("the description is over 100,000 characters")
    check_request(text)
    text = apply_answers(text)
    check_subject(ReaderBase(text).low)
    spec = _yaml_spec(text, is_yaml=is_yaml)
    if spec is None:
        from agent.llm import chat_model

        model = chat_model(offline=offline) if llm is _OPEN_HERE else llm
        spec = read_offline(text) if model is None else _llm_or_offline(text, model)
    check_request(text, spec)
    return spec


def read_source(text_or_path: str) -> tuple[str, bool]:
    """A file path (.txt words, .yaml/.yml spec) or the words themselves -> (text, is_yaml)."""
    if text_or_path is None or not str(text_or_path).strip():
        raise SpecError("the description is empty: say what faces you want, e.g. '300 faces'")
    source = str(text_or_path)
    if len(source) < 4096 and "\n" not in source:
        try:
            path = Path(source).expanduser()
        except RuntimeError:  # '~800 faces': no user of that name, so words, not a path
            path = Path(source)
        looks_like_path = path.suffix.lower() in (".txt", ".yaml", ".yml", ".md") or "/" in source
        try:
            is_file = path.is_file()
        except OSError:
            is_file = False
        if is_file:
            try:
                return path.read_text(encoding="utf-8"), path.suffix.lower() in (".yaml", ".yml")
            except (OSError, UnicodeDecodeError) as exc:
                raise SpecError(f"cannot read {path}: {exc}") from None
        if looks_like_path and len(source.split()) == 1:
            raise SpecError(f"no such file: {source}")
    return source, False


def load_spec_source(text_or_path: str, *, offline: bool | None = None) -> tuple[str, DatasetSpec]:
    """A file path (.txt words, .yaml/.yml spec) or the words themselves -> (text, spec)."""
    text, is_yaml = read_source(text_or_path)
    return text, parse_spec(text, offline=offline, is_yaml=is_yaml)
