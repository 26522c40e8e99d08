"""Refuse, at the spec stage, requests that sexualise minors or depict harm to them.

The check runs on the person's raw words *and* on every free-text field of the parsed spec
(an LLM parser can reword a request, a YAML spec can hide it in a class description), and it
does not depend on the generation backend: nothing is planned, written or generated. The
rules and word lists are the ones every prompt meets again before a generator is called
(`tools.safety`, lists in `tools/vocabulary/safety.yaml`); this module adds what a spec knows:
a class or factor that puts children or teenagers in the plan, and `check_safety`, the check
of a whole plan (spec and every item's prompts) that `review` and `approve` run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from agent.language.spec import DatasetSpec, SpecError
from tools.contracts import PlanItem
from tools.safety import (
    REFUSAL,
    always_refused,
    describe,
    harmful_terms,
    item_prompt,
    mentions_minors,
    refusal,
    unreviewed_message,
    unreviewed_words,
)
from tools.safety import vocabulary as _vocabulary


class RefusedError(SpecError):
    """A request facetory will not plan (exit code 2, one line, nothing written)."""


def spec_text(spec: DatasetSpec) -> str:
    """Every free-text field of a spec, one per line."""
    parts = [spec.name, spec.subject, spec.generation.style, spec.generation.model or ""]
    for c in spec.classes:
        parts += [c.name, c.description, *c.attributes.values()]
    for f in spec.factors:
        parts += [f.name.replace("_", " "), *(lv.name for lv in f.levels)]
    for a in spec.augmentations:
        parts += [a.name, a.prompt, *a.attributes.values()]
    return "\n".join(p for p in parts if p)


def spec_has_minors(spec: DatasetSpec) -> bool:
    """A class fixed to a young age group, or a factor whose levels or range include one."""
    young = _vocabulary().young_age_groups
    adult = _vocabulary().adult_age
    for c in spec.classes:
        if c.attributes.get("age_group") in young:
            return True
    for f in spec.factors:
        if f.name == "age_group" and young & set(f.level_names()):
            return True
        if f.numeric is not None and f.name == "age" and f.numeric.low < adult:
            return True
    return False


def prompt_texts(spec: DatasetSpec) -> list[tuple[str, str]]:
    """(where, words) of every spec field whose words reach a prompt: class descriptions,
    names and attribute levels, factor names and levels, the style, augmentations."""
    out = [("generation.style", spec.generation.style)]
    for c in spec.classes:
        # a class name reaches a prompt only in place of a description and attributes
        # (`agent.planning.diffusion_prompts.class_phrase`)
        named = "" if c.description.strip() or c.attributes else c.name
        out.append((f"class {c.name!r}", " ".join([named, c.description, *c.attributes.values()])))
    for f in spec.factors:
        out.append((f"factor {f.name!r}", " ".join([f.name, *(lv.name for lv in f.levels)])))
    for a in spec.augmentations:
        out.append((f"augmentation {a.name!r}", " ".join([a.prompt, *a.attributes.values()])))
    return out


def check_request(text: str, spec: DatasetSpec | None = None) -> None:
    """Raise RefusedError if the words (and the spec, when given) sexualise minors or
    depict harm to them, or if a spec for images of minors holds a word nobody reviewed in a
    field that reaches a prompt; return quietly otherwise."""
    texts = [text or ""]
    if spec is not None:
        texts.append(spec_text(spec))
    joined = "\n".join(texts)
    always = always_refused(joined)
    if always:
        raise RefusedError(_message(always))
    minors = mentions_minors(joined) or (spec is not None and spec_has_minors(spec))
    if not minors:
        return
    bad = harmful_terms(joined)
    if bad:
        raise RefusedError(_message(bad))
    for where, words in prompt_texts(spec) if spec is not None else []:
        unreviewed = unreviewed_words(words)
        if unreviewed:
            raise RefusedError(f"refused: {where}: {unreviewed_message(unreviewed)}")


def check_safety(
    spec: DatasetSpec,
    items: Sequence[PlanItem],
    where: str,
    line: Callable[[int], int] | None = None,
) -> None:
    """Refuse a plan whose spec or any item's prompt or negative prompt is unsafe, so a
    person learns at review time what the generator's door would refuse (`tools.safety`)."""
    try:
        check_request("", spec)
    except RefusedError as exc:
        raise RefusedError(f"{where}: spec: {exc}") from None
    for i, item in enumerate(items):
        why = refusal(item_prompt(item), item.negative_prompt, item.attributes)
        if why:
            at = f" line {line(i)}" if line is not None else ""
            raise RefusedError(
                f"{where}{at}: items[{i}] ({item.id}): refused: {why}; change its prompt"
            )


def _message(words: list[str]) -> str:
    return f"refused: {REFUSAL} (matched: {describe(words)})"
