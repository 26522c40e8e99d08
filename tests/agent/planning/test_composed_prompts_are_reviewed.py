"""Every prompt facetory itself can compose for images of minors passes the safety check's
allow list: the template over every vocabulary level, the retry rule table's wording, the
augmentation prompts and the example specs' plans. A template change that writes a new word
fails here until the word is reviewed in tools/vocabulary/safe_words.yaml."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.language.parse import parse_spec
from agent.planning.diffusion_prompts import build_prompt
from agent.planning.planner import make_plan
from agent.runtime.replan_policy import _RULES, rule_adjustment
from tools.contracts import PlanItem
from tools.generate.augment import transformation_prompt
from tools.generate.diffusers_backend import default_prompt
from tools.safety import prompt_problems
from tools.vocabulary import FACTORS, VOCABULARY

SPECS = Path(__file__).resolve().parents[3] / "specs"
YOUNG = ({"age_group": "child"}, {"age_group": "teenager"}, {"age": "8"}, {"age": "15"})
GENDERS = ({"gender": "female"}, {"gender": "male"}, {})
STYLES = ("photorealistic", "watercolor illustration", "cartoon")
OTHERS = [f for f in FACTORS if f not in ("age_group", "gender")]


def subjects() -> Iterator[dict[str, str]]:
    """Every young subject: age x gender x ethnicity x expression."""
    for young in YOUNG:
        for gender in GENDERS:
            for ethnicity in (None, *FACTORS["ethnicity"]):
                for expression in (None, *FACTORS["expression"]):
                    attrs = {**young, **gender}
                    if ethnicity:
                        attrs["ethnicity"] = ethnicity
                    if expression:
                        attrs["expression"] = expression
                    yield attrs


def composed() -> Iterator[tuple[str, str, dict[str, str]]]:
    """(prompt, negative prompt, attributes) of every prompt the product writes for minors."""
    class_phrases = ("", *(level.replace("_", " ") for f in OTHERS for level in FACTORS[f]))
    for base in subjects():
        for faces in (1, 3):
            yield (*build_prompt(base, faces=faces), base)
    base = {"age_group": "child", "gender": "female"}
    for style in STYLES:
        for phrase in class_phrases:
            yield (*build_prompt(base, style=style, description=phrase), base)
    for young in YOUNG:
        yield from young_prompts(young)


def young_prompts(young: dict[str, str]) -> Iterator[tuple[str, str, dict[str, str]]]:
    """Every prompt for one young age group: each level of every other factor, as planned,
    retried, transformed and as a backend's default, and every transformation."""
    for factor in OTHERS:
        for level in FACTORS[factor]:
            attrs = {**young, "gender": "male", factor: level}
            prompt, negative = build_prompt(attrs)
            yield prompt, negative, attrs
            yield from retried(prompt, negative, attrs, factor)
            yield transformation_prompt(prompt, {factor: level}), negative, attrs
        for level in FACTORS[factor]:  # a backend's prompt for an item left without one
            attrs = {**young, factor: level}
            item = PlanItem(id="a-1", class_name=level, attributes=attrs, seed=1, prompt="")
            yield default_prompt(item), "", attrs
    for factor, words in VOCABULARY.items():
        for level in [lv for lv, body in words.levels.items() if body.transform]:
            prompt, negative = build_prompt({**young})
            yield transformation_prompt(prompt, {factor: level}), negative, young


def retried(prompt: str, negative: str, attrs: dict[str, str], factor: str) -> Iterator:
    """The prompt after each retry rule's adjustment (replan joins them with ', ')."""
    reasons = [*_RULES, f"attribute_mismatch:{factor}"]
    for reason in reasons:
        adj = rule_adjustment(Counter({reason: 1}), attrs)
        yield (
            ", ".join(p for p in (prompt, adj.prompt_addition) if p),
            ", ".join(p for p in (negative, adj.negative_addition) if p),
            attrs,
        )


def test_every_prompt_the_vocabulary_composes_for_minors_is_allowed() -> None:
    refused = {}
    count = 0
    for prompt, negative, attrs in composed():
        count += 1
        bad = prompt_problems(prompt, negative, attrs)
        if bad:
            refused.setdefault(tuple(bad), (prompt, negative))
    assert refused == {}
    assert count > 4000


@pytest.mark.parametrize("name", ["child_ethnicity", "age_progression", "crowd_detection"])
def test_every_item_of_an_example_spec_with_minors_is_allowed(name: str) -> None:
    spec = parse_spec((SPECS / f"{name}.txt").read_text(), offline=True)
    plan = make_plan(spec)
    young = [i for i in plan.items if i.attributes.get("age_group") in ("child", "teenager")
             or "child" in i.prompt]
    assert young
    refused = {(i.prompt, i.negative_prompt) for i in young
               if prompt_problems(i.prompt, i.negative_prompt, i.attributes)}
    assert refused == set()
