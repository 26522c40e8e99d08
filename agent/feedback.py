"""A person's answer to a plan under review, for the CLI (`review`, `review --feedback`) and the
web review alike: an edit of plan.yaml or feedback in words, each applied by one function so
the two can never disagree. Both go through the graph's review step (and a changed spec
through its plan node, where prompts are enriched), the same steps `run` and `build` take."""

from __future__ import annotations

from pathlib import Path

from agent.context import BuildContext, Options
from agent.llm import chat_model
from agent.lock import BuildLock
from agent.plan import Plan
from agent.plan_io import APPROVAL, Review, diff_plans, review_plan
from agent.runner import run_graph
from tools.build_dir import BuildPaths
from tools.errors import FacetoryError


def _context(paths: BuildPaths, offline: bool | None) -> BuildContext:
    ctx = BuildContext(paths=paths, options=Options(offline=offline))
    ctx.services.llm = chat_model(offline=ctx.options.offline)
    return ctx


def apply_edit(build_dir: Path, *, offline: bool | None) -> tuple[Review, Plan]:
    """Review the edit in plan.yaml (validated first: an invalid one raises and changes
    nothing), then let the graph's review node apply it. Returns what the edit changes and
    the plan as it now is."""
    result = review_plan(build_dir, commit=False)
    if not result.changed:
        return result, result.plan
    ctx = _context(BuildPaths(build_dir), offline)
    for _ in range(2):  # a directory planned without the graph first reaches the pause
        if run_graph(ctx).outcome != "review":
            raise FacetoryError(f"{build_dir} is not waiting for review")
        if not review_plan(build_dir, commit=False).changed:
            break
    ctx.reload()
    return result, ctx.plan


def apply_feedback(build_dir: Path, feedback: str, *, offline: bool | None) -> list[str]:
    """Send feedback in words through the graph's review step: the plan node revises the spec
    and replans, and the review interrupt comes back with the new plan. Returns what changed.
    The CLI (`review --feedback`) and the web review both call this; errors are FacetoryError."""
    paths = BuildPaths(build_dir)
    if not paths.plan_yaml.exists():
        raise FacetoryError(
            f"{build_dir} has no plan.yaml: start with `facetory plan SPEC --out {build_dir}`"
        )
    if not feedback.strip():
        raise FacetoryError("the feedback is empty: say what to change")
    ctx = _context(paths, offline)
    if paths.manifest_db.exists() and ctx.manifest.attempts():
        raise FacetoryError(
            f"{build_dir} has started generating; give feedback on a new build directory"
        )
    old = ctx.plan
    with BuildLock(paths.root):
        (paths.root / APPROVAL).unlink(missing_ok=True)  # feedback withdraws any approval
    first = run_graph(ctx)
    if first.outcome != "review":
        raise FacetoryError(f"{build_dir} is not waiting for review")
    revised = run_graph(ctx, resume={"action": "feedback", "text": feedback})
    if revised.outcome != "review":
        raise FacetoryError(f"{build_dir}: the revised plan did not come back for review")
    ctx.reload()
    return diff_plans(old, ctx.plan) or ["nothing"]
