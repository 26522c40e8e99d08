"""The one way to reach and answer a plan's review pause, for every command (`plan`, `build`,
`run`, `review`, `review --feedback`, `approve`) and every form of the web review.

An answer is {"action": "approve"}, {"action": "edit"} (plan.yaml or spec.yaml was changed by
hand) or {"action": "feedback", "text": "..."}; None only brings a new build to the pause
(the graph's parse and plan nodes read and plan the words on the way). The graph's review node
applies the answer. What is not the graph's to decide is decided here, in one place:

- `approve` with `go_on=False` (the `approve` command, the web's button) records the approval,
  which the pause reads when `run` continues the build (answering the pause there would
  schedule the first round and keep feedback from reaching the plan any more);
- an edit of a build past its review pause is revised in place, fitted to the images already
  accepted (`agent.planning.revision`); feedback on such a build is refused;
- feedback that is refused or fails changes nothing and leaves the approval the plan had.

Each answer takes the build's lock, so none changes anything while a run holds the build.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agent.planning.approval import approve
from agent.planning.plan import Plan
from agent.planning.plan_file import APPROVAL
from agent.planning.plan_review import Review, diff_plans, review_plan
from agent.runtime.context import BuildContext
from agent.runtime.lock import BuildLock, writer_lock
from agent.runtime.overrides import started
from agent.runtime.runner import RunResult, graph_state, pending_review, run_graph
from tools.atomic import write_bytes
from tools.errors import FacetoryError


@dataclass
class Answered:
    """What an answer did: the run it took (None when the graph did not run), the plan as it
    now is (an edit, feedback), and what changed (an edit's Review; feedback's diff lines)."""

    plan: Plan | None = None
    run: RunResult | None = None
    review: Review | None = None
    changes: list[str] = field(default_factory=list)
    items: int = 0
    """Approved items (approve)."""


def answer_review(ctx: BuildContext, answer: dict[str, Any] | None = None, *,
                  go_on: bool = False, **run: Any) -> Answered:
    """Bring the build to its review pause and give it `answer` (see the module docstring);
    `go_on`: the graph goes on after an approval, and failed feedback comes back as the pause
    with its error rather than raised (`run`, `build`); `run`: run_graph's keywords (request,
    on_update, stop_requested, keep_pool)."""
    action = (answer or {}).get("action")
    if action is None:
        return Answered(run=run_graph(ctx, **run))
    if action == "approve":
        return _approve(ctx, answer, go_on=go_on, **run)
    if action == "edit":
        return _edit(ctx, answer, **run)
    if action == "feedback":
        try:
            return _feedback(ctx, answer, **run)
        except FacetoryError as exc:
            if not go_on:
                raise
            # a build in a terminal asks again: the pause comes back with why, nothing changed
            return Answered(run=RunResult("review", review={"error": str(exc)}))
    raise FacetoryError(f"not an answer to a review: {action!r}")


def _past_review(ctx: BuildContext) -> bool:
    """The build generated an image, or its graph went past the review pause (approved)."""
    return started(ctx.paths.root) or bool(graph_state(ctx).get("approved"))


def _at_pause(ctx: BuildContext, **run: Any) -> None:
    """A build whose graph is not waiting at the review pause runs to it (a directory planned
    by an older facetory, or without the graph)."""
    if pending_review(ctx) is None and run_graph(ctx, **run).outcome != "review":
        raise FacetoryError(f"{ctx.paths.root} is not waiting for review")


def _approve(ctx: BuildContext, answer: dict[str, Any], *, go_on: bool, **run: Any) -> Answered:
    if go_on:
        return Answered(run=run_graph(ctx, resume=answer, **run))
    with writer_lock(ctx.paths.root):  # not while a run holds the build: one line, unchanged
        record = approve(ctx.paths.root)
    return Answered(items=record["items"])


def _edit(ctx: BuildContext, answer: dict[str, Any], **run: Any) -> Answered:
    """Review the edit (validated first: an invalid one raises and changes nothing), then the
    graph's review node applies it; a build past its review pause is revised in place (its
    graph would build on), and `run` continues with it once approved."""
    root = ctx.paths.root
    with writer_lock(root):
        result = review_plan(root, commit=False)  # what the edit changes, checked first
        if not result.changed:
            return Answered(plan=result.plan, review=result)
        if _past_review(ctx):
            result = review_plan(root)
            return Answered(plan=result.plan, review=result)
    _at_pause(ctx, **run)
    outcome = run_graph(ctx, resume=answer, **run)
    if outcome.outcome == "review" and outcome.review.get("error"):
        raise FacetoryError(outcome.review["error"])
    return Answered(plan=ctx.plan, run=outcome, review=result, changes=result.changes)


def _question(items: list[dict]) -> FacetoryError:
    """The `Question` the review node kept: its words asked again (web, terminal)."""
    from agent.language.accounting import Question, Unexplained

    return Question([Unexplained(**{**u, "candidates": tuple(u["candidates"])}) for u in items])


def _feedback(ctx: BuildContext, answer: dict[str, Any], **run: Any) -> Answered:
    """Feedback goes to the graph's review node, which revises the spec and replans; the pause
    comes back with the new plan. Refused or failed: one FacetoryError line, nothing changed,
    the approval the plan had put back."""
    root = ctx.paths.root
    if not ctx.paths.plan_yaml.exists():
        raise FacetoryError(
            f"{root} has no plan.yaml: start with `facetory plan SPEC --out {root}`"
        )
    if not str(answer.get("text", "")).strip():
        raise FacetoryError("the feedback is empty: say what to change")
    if _past_review(ctx):
        raise FacetoryError(f"{root} has started building; give feedback on a new build directory")
    old = ctx.plan
    approval = root / APPROVAL
    with BuildLock(root):
        kept = approval.read_bytes() if approval.exists() else None
        approval.unlink(missing_ok=True)  # the graph pauses for review only when unapproved
    try:
        _at_pause(ctx, **run)
        revised = run_graph(ctx, resume=answer, **run)
    except BaseException:
        if kept is not None and not approval.exists():
            write_bytes(approval, kept)
        raise
    error = (revised.review.get("error") if revised.outcome == "review"
             else f"{root}: the revised plan did not come back for review")
    if error:  # nothing changed: the approval stands
        if kept is not None:
            write_bytes(approval, kept)
        if revised.outcome == "review" and revised.review.get("question"):
            raise _question(revised.review["question"])
        raise FacetoryError(error)
    return Answered(plan=ctx.plan, run=revised, changes=diff_plans(old, ctx.plan) or ["nothing"])
