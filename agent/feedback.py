"""Feedback in words on a plan under review, for the CLI (`review --feedback`) and the web
review alike: one function, so the two can never disagree."""

from __future__ import annotations

from pathlib import Path

from agent.context import BuildContext, Options
from agent.llm import chat_model
from agent.lock import BuildLock
from agent.plan_io import APPROVAL, diff_plans
from agent.runner import run_graph
from tools.build_dir import BuildPaths
from tools.errors import FacetoryError


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
    ctx = BuildContext(paths=paths, options=Options(offline=offline))
    ctx.services.llm = chat_model(offline=ctx.options.offline)
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
