"""plan: DatasetSpec -> balanced Plan (`plan.yaml`), unless the person's plan is already there
(or planned again, enriched, when the reviewer edited the spec: `replan_requested`).

Every new plan reaches plan.yaml through `publish`, which enriches its prompts (the one place
that does it), whichever step planned it: this node, or the review node applying feedback.
A checkpoint from an older facetory can still carry feedback in the state, left there by a
revision that failed: it is dropped and logged, never applied behind the person's back.
"""

from __future__ import annotations

from langgraph.runtime import Runtime

from agent.planning.enrich import enrich_prompts
from agent.planning.plan import Plan
from agent.planning.plan_file import write_plan
from agent.planning.planner import make_plan
from agent.runtime.context import BuildContext
from agent.runtime.state import BuildState


def plan(state: BuildState, runtime: Runtime[BuildContext]) -> BuildState:
    ctx = runtime.context
    stale = state.get("feedback")
    if stale:
        ctx.events.emit("feedback_dropped", feedback=stale)
    if ctx.paths.plan_yaml.exists() and not state.get("replan_requested"):
        return {"feedback": None}  # the person's (possibly edited) plan is the plan
    publish(ctx, make_plan(ctx.spec))
    return {
        "feedback": None,
        "replan_requested": False,
        "plan_version": state.get("plan_version", 0) + 1,
    }


def publish(ctx: BuildContext, new_plan: Plan, *, written: bool = False) -> None:
    """Enrich the prompts of a plan just made and write it to plan.yaml (`written`: it is there
    already, unenriched, and is written again only when enrichment changed it)."""
    enriched = enrich_prompts(new_plan, llm=ctx.services.llm, events=ctx.events)
    if not (written and enriched is new_plan):
        write_plan(enriched, ctx.paths.plan_yaml)
    ctx.reload(enriched)
    ctx.events.emit("planned", items=len(enriched.items))
