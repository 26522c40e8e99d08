"""A person's answer to a plan under review, for the CLI (`review`, `review --feedback`) and the
web review alike: an edit of plan.yaml or feedback in words, each applied by one function so
the two can never disagree. Both go through the graph's review step (and a changed spec
through its plan node, where prompts are enriched), the same steps `run` and `build` take.

Both take the build's lock while they read and write the plan, so neither changes anything
while a run holds the build; an edit of a build past its review pause is revised in place,
fitted to the images already accepted (`agent.planning.revision`); feedback that is refused or fails
changes nothing and leaves the approval the plan had."""

from __future__ import annotations

from pathlib import Path

from agent.llm import chat_model
from agent.planning.plan import Plan
from agent.planning.plan_file import APPROVAL
from agent.planning.plan_review import Review, diff_plans, review_plan
from agent.runtime.context import BuildContext, Options
from agent.runtime.lock import BuildLock, writer_lock
from agent.runtime.overrides import started
from agent.runtime.runner import graph_state, run_graph
from tools.atomic import write_bytes
from tools.build_dir import BuildPaths
from tools.errors import FacetoryError


def _context(paths: BuildPaths, offline: bool | None) -> BuildContext:
    ctx = BuildContext(paths=paths, options=Options(offline=offline))
    ctx.services.llm = chat_model(offline=ctx.options.offline)
    return ctx


def _past_review(ctx: BuildContext) -> bool:
    """The build generated an image, or its graph went past the review pause (approved)."""
    return started(ctx.paths.root) or bool(graph_state(ctx).get("approved"))


def apply_edit(build_dir: Path, *, offline: bool | None) -> tuple[Review, Plan]:
    """Review the edit in plan.yaml (validated first: an invalid one raises and changes
    nothing), then let the graph's review node apply it; a build past its review pause is
    revised in place instead (its graph would build on), the revised plan fitted to the
    accepted images, and `run` continues with it once approved. Returns what the edit
    changes and the plan as it now is."""
    with writer_lock(build_dir):  # not while a run holds the build: one line, nothing changed
        result = review_plan(build_dir, commit=False)  # what the edit changes, checked first
        if not result.changed:
            return result, result.plan
        ctx = _context(BuildPaths(build_dir), offline)
        if _past_review(ctx):
            result = review_plan(build_dir)
            return result, result.plan
    for _ in range(2):  # a directory planned without the graph first reaches the pause
        if run_graph(ctx).outcome != "review":
            raise FacetoryError(f"{build_dir} is not waiting for review")
        if not review_plan(build_dir, commit=False).changed:
            break
    ctx.reload()
    return result, ctx.plan


def apply_feedback(build_dir: Path, feedback: str, *, offline: bool | None) -> list[str]:
    """Send feedback in words through the graph's review step: the spec is revised there and
    the plan node replans; the review pause comes back with the new plan. Returns what
    changed. Feedback that is refused or fails changes nothing: a FacetoryError says why in
    one line and the approval the plan had is put back. The CLI (`review --feedback`) and the
    web review both call this."""
    paths = BuildPaths(build_dir)
    if not paths.plan_yaml.exists():
        raise FacetoryError(
            f"{build_dir} has no plan.yaml: start with `facetory plan SPEC --out {build_dir}`"
        )
    if not feedback.strip():
        raise FacetoryError("the feedback is empty: say what to change")
    ctx = _context(paths, offline)
    if _past_review(ctx):
        raise FacetoryError(
            f"{build_dir} has started building; give feedback on a new build directory"
        )
    old = ctx.plan
    approval = paths.root / APPROVAL
    with BuildLock(paths.root):
        kept = approval.read_bytes() if approval.exists() else None
        approval.unlink(missing_ok=True)  # the graph pauses for review only when unapproved
    try:
        first = run_graph(ctx)
        if first.outcome != "review":
            raise FacetoryError(f"{build_dir} is not waiting for review")
        revised = run_graph(ctx, resume={"action": "feedback", "text": feedback})
    except BaseException:
        if kept is not None and not approval.exists():
            write_bytes(approval, kept)
        raise
    error = (
        revised.review.get("error") if revised.outcome == "review"
        else f"{build_dir}: the revised plan did not come back for review"
    )
    if error:  # nothing changed: the approval stands
        if kept is not None:
            write_bytes(approval, kept)
        raise FacetoryError(error)
    ctx.reload()
    return diff_plans(old, ctx.plan) or ["nothing"]
