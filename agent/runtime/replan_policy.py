"""How to retry the plan cells still short: a rule table, or the LLM when one is configured.

A cell is a class with one combination of attribute levels. Its dominant rejection reason
picks the adjustment: prompt wording, negative prompt, guidance, and always a fresh seed.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable

from pydantic import BaseModel, Field

from tools.safety import attributes_mention_minors, describe, suggestion_problems

log = logging.getLogger(__name__)


class Adjustment(BaseModel):
    """What to change for the next attempts of one cell."""

    prompt_addition: str = Field(default="", description="words appended to the prompt")
    negative_addition: str = Field(default="", description="words appended to the negative prompt")
    guidance_delta: float = Field(default=0.0, ge=-5.0, le=5.0)
    reason: str = Field(description="one sentence: why this adjustment")
    source: str = "rules"


class CellReport(BaseModel):
    """What went wrong in one short cell, as shown to the decision maker."""

    cell: str
    missing: int
    reasons: dict[str, int]


class CellDecision(BaseModel):
    cell: str
    adjustment: Adjustment


class ReplanDecisions(BaseModel):
    """The LLM's structured answer: one decision per short cell."""

    decisions: list[CellDecision]


_RULES: dict[str, tuple[str, str, float, str]] = {
    "no_face": (
        "centered close-up portrait, whole face visible",
        "cropped, out of frame",
        1.0,
        "no face was found: ask for a centered, visible face",
    ),
    "missing_face": (
        "every face fully visible",
        "cropped, occluded",
        1.0,
        "fewer faces than asked: ask for all faces visible",
    ),
    "face_cut_off": (
        "whole head inside the frame",
        "cropped, cut off, out of frame",
        0.5,
        "faces cut by the frame: ask for the whole head in frame",
    ),
    "face_too_small": (
        "close-up portrait",
        "distant, tiny, full body",
        0.5,
        "faces too small: ask for a close-up",
    ),
    "extra_face": (
        "a single person alone",
        "two people, group, crowd",
        0.5,
        "extra faces: ask for one person and forbid groups",
    ),
    "blurry": (
        "sharp focus, detailed",
        "blurry, out of focus, motion blur",
        0.0,
        "blurry images: ask for sharp focus",
    ),
    "exposure": (
        "evenly lit, balanced exposure",
        "overexposed, underexposed",
        0.0,
        "exposure problems: ask for even lighting",
    ),
    "low_contrast": ("good contrast", "washed out, hazy", 0.0, "low contrast: ask for contrast"),
    "duplicate": ("unique appearance", "", 0.0, "near-copies: a new seed and more variety"),
    "identity_mismatch": (
        "same person, consistent facial features",
        "",
        1.0,
        "identity drifted: raise guidance toward the identity",
    ),
}


def rule_adjustment(reasons: Counter[str], attributes: dict[str, str]) -> Adjustment:
    """The rule table's answer for a cell whose failures have these reasons."""
    if not reasons:
        return Adjustment(reason="not attempted yet or no reason recorded: a fresh seed")
    reason, _ = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    if reason.startswith("attribute_mismatch:"):
        factor = reason.split(":", 1)[1]
        level = attributes.get(factor, "")
        words = f"clearly {factor.replace('_', ' ')} {level.replace('_', ' ')}".strip()
        return Adjustment(
            prompt_addition=words,
            guidance_delta=1.5,
            reason=f"{factor} did not show: emphasise '{level}' and raise guidance",
        )
    if reason in _RULES:
        prompt, negative, delta, why = _RULES[reason]
        return Adjustment(
            prompt_addition=prompt, negative_addition=negative, guidance_delta=delta, reason=why
        )
    return Adjustment(reason=f"'{reason}': retry with a fresh seed")


def decide(
    reports: list[CellReport],
    attributes: dict[str, dict[str, str]],
    llm=None,
    max_cells_for_llm: int = 40,
    on_fallback: Callable[[str], None] | None = None,
    young: set[str] | None = None,
) -> dict[str, Adjustment]:
    """One adjustment per short cell; the LLM decides when configured, rules fill the rest.
    `young`: cells whose prompts put minors in the picture beyond their attributes."""
    decisions = {r.cell: rule_adjustment(Counter(r.reasons), attributes[r.cell]) for r in reports}
    if llm is None or not reports:
        return decisions
    from agent.llm import structured_call

    worst = sorted(reports, key=lambda r: (-r.missing, r.cell))[:max_cells_for_llm]
    messages = [
        (
            "system",
            "You direct a synthetic face image generator. For each dataset cell still short "
            "of accepted images, choose how to retry: words to add to the prompt, words to add to "
            "the negative prompt, and a guidance change between -5 and 5, given the rejection "
            "reasons the image critic gave. Answer with one decision per cell, same cell ids.",
        ),
        ("user", "\n".join(r.model_dump_json() for r in worst)),
    ]
    try:
        answer = structured_call(llm, ReplanDecisions, messages)
    except Exception as exc:  # a down or confused endpoint must not stop the build
        log.warning("LLM replan failed, using rules: %s", exc)
        if on_fallback:
            on_fallback(str(exc))
        return decisions
    for d in answer.decisions:
        if d.cell not in decisions:
            continue
        bad = suggestion_problems(
            d.adjustment.prompt_addition,
            d.adjustment.negative_addition,
            minors=d.cell in (young or ()) or attributes_mention_minors(attributes[d.cell]),
        )
        if bad:  # the rule table's answer stands for this cell
            log.warning("LLM retry wording for %s refused: %s", d.cell, describe(bad))
            if on_fallback:
                on_fallback(f"refused wording for {d.cell}: {describe(bad)}")
            continue
        decisions[d.cell] = d.adjustment.model_copy(update={"source": "llm"})
    return decisions


def retry_seed(seed: int, attempt: int) -> int:
    """A fresh, reproducible seed for attempt `attempt` of an item first seeded with `seed`."""
    digest = hashlib.sha256(f"{seed}:{attempt}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF
