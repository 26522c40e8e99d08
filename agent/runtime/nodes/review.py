"""review: the person approves the plan, edits `plan.yaml`, or answers with feedback in words.

A LangGraph `interrupt` carries the plan summary out; `Command(resume=...)` brings back one of
{"action": "approve"}, {"action": "edit"} (plan.yaml was changed by hand) or
{"action": "feedback", "text": "..."}. Approval fixes round 0's work list.

Feedback is applied here, all or nothing (`agent.planning.revise.apply_feedback`), and the revised
plan
comes back for review. A refused or failed feedback raises before anything is written or
checkpointed: the review stays pending on the plan as it was.
"""

from __future__ import annotations

from typing import Literal

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agent.planning.approval import approve, is_approved, plan_digest
from agent.planning.plan_file import plan_summary
from agent.planning.plan_review import review_plan
from agent.planning.revise import apply_feedback
from agent.runtime.context import BuildContext
from agent.runtime.state import BuildState
from tools.errors import FacetoryError
from tools.stores.manifest_schema import WorkUnit


def review(state: BuildState, runtime: Runtime[BuildContext]) -> BuildState:
    ctx = runtime.context
    if not is_approved(ctx.paths.root):
        answer = interrupt({
            "plan": str(ctx.paths.plan_yaml),
            "summary": plan_summary(ctx.plan),
            "error": state.get("review_error"),
        })
        action = answer.get("action") if isinstance(answer, dict) else None
        # an answer that fails (refused or failed feedback, a bad edit) must still end this
        # step: a step that raises keeps its answer in the checkpoint, and LangGraph would
        # replay it on every later run. The failure comes back with the next review pause.
        try:
            if action == "feedback":
                apply_feedback(ctx, str(answer.get("text", "")))
                # the revised spec is planned (prompts enriched) by the plan node
                return {"approved": False, "feedback": None, "review_error": None,
                        "replan_requested": True}
            if action != "approve":  # plan.yaml edited by hand: validate, rebalance, show again
                result = review_plan(ctx.paths.root)
                ctx.reload()
                # an edited spec is planned again by the plan node, so its prompts are
                # enriched there, the one place that does it, whichever command got here
                return {"approved": False, "review_error": None,
                        "replan_requested": result.kind == "spec"}
            approve(ctx.paths.root)
        except FacetoryError as exc:
            ctx.events.emit("review_failed", action=action, error=str(exc))
            ctx.reload()
            return {"approved": False, "feedback": None, "review_error": str(exc)}
        ctx.reload()
    schedule_first_round(ctx)
    ctx.events.emit("approved", items=len(ctx.plan.items))
    return {"approved": True, "round": 0, "cursor": 0, "review_error": None,
            "plan_sha256": plan_digest(ctx.paths.root)}


def route_after_review(state: BuildState) -> Literal["generate", "plan", "review"]:
    if state.get("approved"):
        return "generate"
    # "plan": the spec was edited (planned again there, enriched), or an older checkpoint's
    # feedback (dropped there)
    return "plan" if state.get("feedback") or state.get("replan_requested") else "review"


def schedule_first_round(ctx: BuildContext, *, replace: bool = False) -> None:
    """Round 0 is every plan item once, in plan order (`replace`: a revised plan's)."""
    if ctx.manifest.work_size(0) and not replace:
        return
    ctx.manifest.set_work(
        0,
        [
            WorkUnit(
                item_id=item.id,
                attempt=0,
                seed=item.seed,
                prompt=item.prompt,
                negative_prompt=item.negative_prompt,
                guidance_scale=item.guidance_scale,
            )
            for item in ctx.plan.items
        ],
    )
