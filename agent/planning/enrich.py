"""Prompt enrichment: an LLM writes detailed textual guidance per class (as ChildDiffusion did
with GPT-3.5). Without an LLM, or when the endpoint fails, the template prompts stand."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from pydantic import BaseModel, Field

from agent.planning.plan import Plan
from tools.safety import attributes_mention_minors, describe, mentions_minors, suggestion_problems

log = logging.getLogger(__name__)


class Events(Protocol):
    """Where enrichment logs its fallbacks (a build's `events.jsonl`, `EventLog`)."""

    def emit(self, kind: str, **data: Any) -> None: ...


class PromptGuidance(BaseModel):
    detail: str = Field(description="a detailed visual description to append to the prompt")
    negative: str = Field(default="", description="things the image must not show")


def enrich_prompts(plan: Plan, *, llm=None, events: Events | None = None) -> Plan:
    """Append the LLM's per-class guidance to every item's prompt and negative prompt."""
    from agent.llm import known_unreachable, structured_call

    if llm is None or known_unreachable(llm):  # the person was told when the spec was read
        return plan

    guidance: dict[str, PromptGuidance] = {}
    for class_name in sorted({item.class_name for item in plan.items}):
        example = next(item for item in plan.items if item.class_name == class_name)
        messages = [
            (
                "system",
                "You write guidance for a text-to-image model that makes synthetic face photos "
                "for a "
                "dataset. Never describe anything sexual, violent or harmful; the subjects may be "
                "children. Keep it to one or two sentences of visual detail.",
            ),
            ("user", f"Class: {class_name}. Example prompt: {example.prompt}"),
        ]
        try:
            answer = structured_call(llm, PromptGuidance, messages)
        except Exception as exc:  # the build goes on with template prompts
            log.warning("prompt enrichment failed for %s: %s", class_name, exc)
            if events:
                events.emit("llm_fallback", step="enrich", error=str(exc)[:200])
            return plan
        # for images of minors every suggested word must be a reviewed one
        minors = mentions_minors(example.prompt) or any(
            attributes_mention_minors(i.attributes)
            for i in plan.items
            if i.class_name == class_name
        )
        bad = suggestion_problems(answer.detail, answer.negative, minors=minors)
        if bad:  # this class keeps its template prompts
            log.warning("prompt enrichment for %s refused: %s", class_name, describe(bad))
            if events:
                events.emit(
                    "llm_fallback", step="enrich", error=f"refused {class_name}: {describe(bad)}"
                )
            answer = PromptGuidance(detail="", negative="")
        guidance[class_name] = answer
    items = []
    for item in plan.items:
        g = guidance[item.class_name]
        items.append(
            item.model_copy(
                update={
                    "prompt": f"{item.prompt}, {g.detail}" if g.detail else item.prompt,
                    "negative_prompt": ", ".join(
                        p for p in (item.negative_prompt, g.negative) if p
                    ),
                }
            )
        )
    if events:
        events.emit("enriched", classes=len(guidance))
    return plan.model_copy(update={"items": items})
