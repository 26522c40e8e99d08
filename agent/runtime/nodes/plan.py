"""plan: DatasetSpec -> balanced Plan (`plan.yaml`), unless the person's plan is already there
(or planned again, enriched, when the reviewer edited the spec: `replan_requested`).

Feedback is applied by the review step (`agent.planning.revise.apply_feedback`), all or nothing. A
checkpoint from an older facetory can still carry feedback in the state, left there by a
revision that failed: it is dropped and logged, never applied behind the person's back.
"""

from __future__ import annotations

from langgraph.runtime import Runtime

from agent.planning.enrich import enrich_prompts
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
    new_plan = enrich_prompts(
        make_plan(ctx.spec, reuse=True), llm=ctx.services.llm, events=ctx.events
    )
    write_plan(new_plan, ctx.paths.plan_yaml)
    ctx.reload(new_plan)
    ctx.events.emit("planned", items=len(new_plan.items))
    return {
        "feedback": None,
        "replan_requested": False,
        "plan_version": state.get("plan_version", 0) + 1,
    }
