"""review: the person approves the plan, edits `plan.yaml`, or answers with feedback in words.

A LangGraph `interrupt` carries the plan summary out; `Command(resume=...)` brings back one of
{"action": "approve"}, {"action": "edit"} (plan.yaml was changed by hand) or
{"action": "feedback", "text": "..."}. Approval fixes round 0's work list.

Feedback (`revise_from_feedback`) and an edited spec are applied here, all or nothing, planned
once, enriched and written by `agent.runtime.nodes.plan.publish`, and the revised plan comes back
for review. A refused or failed answer changes nothing: the review stays pending on the plan as
it was. `agent.runtime.review_answer.answer_review` is the one way commands and the web page
answer this pause.
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agent.language.safety import check_safety
from agent.planning.approval import approve, is_approved, plan_digest
from agent.planning.plan import Plan
from agent.planning.plan_file import APPROVAL, plan_summary, write_spec
from agent.planning.plan_review import review_plan
from agent.planning.planner import make_plan
from agent.planning.revise import revise_spec
from agent.runtime.context import BuildContext
from agent.runtime.nodes.plan import publish
from agent.runtime.state import BuildState
from tools.atomic import write_text
from tools.errors import FacetoryError
from tools.stores.manifest_schema import WorkUnit


def review(state: BuildState, runtime: Runtime[BuildContext]) -> BuildState:
    ctx = runtime.context
    if not is_approved(ctx.paths.root):
        answer = interrupt({
            "plan": str(ctx.paths.plan_yaml),
            "summary": plan_summary(ctx.plan),
            "error": state.get("review_error"),
            "question": state.get("review_question"),
        })
        action = answer.get("action") if isinstance(answer, dict) else None
        # an answer that fails (refused or failed feedback, a bad edit) must still end this
        # step: a step that raises keeps its answer in the checkpoint, and LangGraph would
        # replay it on every later run. The failure comes back with the next review pause.
        try:
            if action != "approve":
                return _revised(ctx, state, action, answer)
            approve(ctx.paths.root, plan=ctx.plan)
        except FacetoryError as exc:
            ctx.events.emit("review_failed", action=action, error=str(exc))
            ctx.reload()
            return {"approved": False, "feedback": None, "review_error": str(exc),
                    "review_question": question_items(exc)}
    schedule_first_round(ctx)
    ctx.events.emit("approved", items=len(ctx.plan.items))
    return {"approved": True, "round": 0, "cursor": 0, "review_error": None,
            "review_question": None, "plan_sha256": plan_digest(ctx.paths.root)}


def _revised(ctx: BuildContext, state: BuildState, action: str | None, answer: Any) -> BuildState:
    """Feedback in words, or plan.yaml edited by hand (validated, rebalanced): the plan comes
    back for review, planned once and enriched by `publish`."""
    if action == "feedback":
        publish(ctx, revise_from_feedback(ctx, str(answer.get("text", ""))))
    else:
        result = review_plan(ctx.paths.root)
        ctx.reload(result.plan)
        if result.kind == "spec":
            publish(ctx, result.plan, written=True)
    return {"approved": False, "feedback": None, "review_error": None, "review_question": None,
            "replan_requested": False, "plan_version": state.get("plan_version", 0) + 1}


def revise_from_feedback(ctx: BuildContext, feedback: str) -> Plan:
    """Revise the spec from `feedback` and check that it plans and is safe; then write
    spec.yaml and spec.txt and withdraw the approval. Everything that can fail fails before a
    file is written. Returns the revised plan (not yet enriched or written)."""
    text = ctx.paths.read_spec_text()
    spec = revise_spec(ctx.spec, text, feedback, llm=ctx.services.llm)
    plan = make_plan(spec)
    check_safety(spec, plan.items, "the revised plan")
    write_spec(spec, ctx.paths.spec_yaml)
    write_text(ctx.paths.spec_txt, f"{text.rstrip()}\n{feedback.strip()}\n")  # their words
    (ctx.paths.root / APPROVAL).unlink(missing_ok=True)
    ctx.reload()
    ctx.events.emit("revised", feedback=feedback, total=spec.total)
    return plan


def question_items(exc: Exception) -> list[dict] | None:
    """The unexplained words of a `Question`, kept in the checkpoint (None for other errors)."""
    from dataclasses import asdict

    from agent.language.accounting import Question

    return [asdict(u) for u in exc.items] if isinstance(exc, Question) else None


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
