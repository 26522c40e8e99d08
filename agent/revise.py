"""Reviewer feedback in words -> a revised DatasetSpec.

With an LLM, the model edits the current spec (validated by pydantic, with repair rounds).
Offline, the feedback is read as more of the request: the rule-based parser re-reads the
original words followed by the feedback, later statements winning.
"""

from __future__ import annotations

from agent.parse import parse_spec
from agent.spec import DatasetSpec


def revise_spec(spec: DatasetSpec, text: str, feedback: str, *, llm=None) -> DatasetSpec:
    if llm is None:
        return parse_spec(f"{text.rstrip()}\n{feedback}", offline=True)
    from agent.llm import structured_call
    from agent.safety import check_request

    check_request(feedback)
    messages = [
        (
            "system",
            "You edit a synthetic face dataset specification. Apply the reviewer's feedback to the "
            "current spec and return the complete revised spec. Keep everything the feedback does "
            "not mention.",
        ),
        ("user", f"Current spec (JSON): {spec.model_dump_json()}\n\nFeedback: {feedback}"),
    ]
    revised = structured_call(llm, DatasetSpec, messages)
    check_request(revised.model_dump_json())
    return revised
