"""assess: after each batch, decide what comes next.

More of this round's work -> generate. Every plan item has an accepted image -> export.
Items still short and attempts left in the budget -> replan. Budget spent -> export anyway,
with the shortfall stated.
"""

from __future__ import annotations

import math

from langgraph.runtime import Runtime

from agent.runtime.context import BuildContext
from agent.runtime.state import BuildState, NextStep
from agent.runtime.verdicts import apply_queued


def assess(state: BuildState, runtime: Runtime[BuildContext]) -> BuildState:
    ctx = runtime.context
    apply_queued(ctx)  # verdicts people gave while this build ran
    if state.get("cursor", 0) < ctx.manifest.work_size(state.get("round", 0)):
        return {"next_step": "generate"}
    missing = len(ctx.items) - len(ctx.manifest.accepted_item_ids())
    if missing == 0:
        ctx.events.emit("complete", attempts=ctx.manifest.attempts())
        return {"next_step": "export", "stop_reason": "complete"}
    if budget_left(ctx) > 0:
        return {"next_step": "replan"}
    ctx.events.emit("budget_spent", missing=missing, attempts=ctx.manifest.attempts())
    return {"next_step": "export", "stop_reason": "budget"}


def route_after_assess(state: BuildState) -> NextStep:
    return state.get("next_step", "generate")


def attempt_budget(ctx: BuildContext) -> int:
    """Maximum attempts for the whole build: the spec's multiple of the target count, plus one
    for every image a person rejected (their refills are owed, not the critic's failures)."""
    factor = ctx.spec.budget.max_attempts_factor
    return math.ceil(factor * len(ctx.items)) + ctx.manifest.human_rejections()


def budget_left(ctx: BuildContext) -> int:
    return attempt_budget(ctx) - ctx.manifest.attempts()
