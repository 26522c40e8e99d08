"""Reviewer feedback in words -> a revised DatasetSpec, and the revised plan written out.

With an LLM, the model edits the current spec (validated by pydantic, with repair rounds), and
the words of the feedback are accounted for as a request's are: each must be explained by the
revised spec, or by the absence of what it names ('drop the pilot class'); what is not goes
back to the model once by name, then is the offline reader's `Question` for the person.
Offline, the feedback is read as more of the request: the rule-based parser re-reads the
original words followed by the feedback, later statements winning (for a spec written in YAML
the feedback is YAML too: the fields to change).

Feedback is applied all or nothing: everything that can fail (the safety check, an LLM that
fails or answers something unsafe, a plan that cannot be balanced) fails before a file is
written, so a refused or failed feedback leaves spec.yaml, plan.yaml, spec.txt and the
build's checkpoint exactly as they were (the graph's review step,
`agent.runtime.nodes.review.revise_from_feedback`, reports it; `review --feedback` puts the
approval back). Nothing of it waits to be applied later.
"""

from __future__ import annotations

from typing import Any

import yaml

from agent.language.parse import llm_problems, looks_like_yaml_spec, parse_spec, repair_request
from agent.language.spec import DatasetSpec, SpecError


def _check_yaml_feedback(feedback: str) -> None:
    """Offline, feedback on a spec written in YAML is more YAML: the fields to change, read
    after the spec (later keys win). Words appended to YAML once failed as "not valid YAML"."""
    try:
        fields = yaml.safe_load(feedback)
    except yaml.YAMLError:
        fields = None
    if not isinstance(fields, dict):
        raise SpecError(
            "this plan comes from a YAML spec: offline, feedback names the spec fields to "
            "change in YAML (e.g. 'seed: 7'); or edit plan.yaml and run `facetory review`, "
            "or configure an LLM to give feedback in words"
        )


def merge(base: Any, mine: Any, theirs: Any) -> Any:
    """Three-way merge of spec data: what the words gave (`base`), the spec as the person
    edited it (`mine`) and the words with the feedback (`theirs`). What the feedback changed
    wins, what it left alone keeps the person's edit; lists of named things (classes,
    factors, levels) merge by name."""
    if theirs == base:
        return mine
    if mine == base:
        return theirs
    if isinstance(theirs, dict) and isinstance(mine, dict) and isinstance(base, dict):
        keys = [*mine, *(k for k in theirs if k not in mine)]
        return {
            k: merge(base.get(k), mine.get(k), theirs.get(k))
            for k in keys
            if k in theirs or k not in base  # a key the feedback removed stays removed
        }
    if _named(theirs) and _named(mine) and _named(base):
        b, m = {x["name"]: x for x in base}, {x["name"]: x for x in mine}
        return [merge(b.get(x["name"], x), m.get(x["name"], x), x) for x in theirs]
    return theirs


def _named(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(x, dict) and "name" in x for x in value)


def revise_spec(spec: DatasetSpec, text: str, feedback: str, *, llm=None) -> DatasetSpec:
    from agent.language.safety import check_request

    check_request(feedback)
    if llm is None:
        if looks_like_yaml_spec(text):
            _check_yaml_feedback(feedback)
        words = parse_spec(text, offline=True).model_dump(mode="json")
        revised = parse_spec(f"{text.rstrip()}\n{feedback}", offline=True).model_dump(mode="json")
        edited = spec.model_dump(mode="json")
        return DatasetSpec.from_data(merge(words, edited, revised), where="the revised spec")
    return _revise_llm(spec, feedback, llm)


_EDIT = (
    "You edit a synthetic face dataset specification. Apply the reviewer's feedback to the "
    "current spec and return the complete revised spec. Keep everything the feedback does "
    "not mention."
)


def _revise_llm(spec: DatasetSpec, feedback: str, llm: Any) -> DatasetSpec:
    """The model edits the spec; the words of the feedback must be explained by the revised
    spec or by the absence of what they name (a removal). What is not goes back to the model
    once, by name; still unexplained, it is the offline reader's `Question` for the person."""
    from agent.language.accounting import Question
    from agent.language.answers import apply_answers
    from agent.language.safety import check_request
    from agent.llm import structured_call

    feedback = apply_answers(feedback)
    messages = [
        ("system", _EDIT),
        ("user", f"Current spec (JSON): {spec.model_dump_json()}\n\nFeedback: {feedback}"),
    ]
    rounds = []

    def check(revised: DatasetSpec) -> str | None:
        rounds.append(revised)  # one repair round for the accounting, then the person
        if len(rounds) > 1:
            return None
        return repair_request(feedback_problems(spec, feedback, revised), of="the feedback "
                              "(or the absence of what it says to remove)")

    revised = structured_call(llm, DatasetSpec, messages, check=check)
    if problems := feedback_problems(spec, feedback, revised):
        raise Question(problems)
    check_request(feedback, revised)
    return revised


def feedback_problems(before: DatasetSpec, feedback: str, after: DatasetSpec) -> list:
    """The words of `feedback` that the revision `before` -> `after` leaves unexplained: as a
    request's words are checked against an LLM's spec (`llm_problems`), with the words naming
    what the revision removed explained by its absence."""
    from agent.language.llm_words import changed_words

    return llm_problems(feedback, after, changed_words(before, after))
