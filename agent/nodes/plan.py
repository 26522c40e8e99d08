"""plan: DatasetSpec -> balanced Plan (`plan.yaml`), or a revised plan from reviewer feedback."""

from __future__ import annotations

from langgraph.runtime import Runtime

from agent.context import BuildContext
from agent.enrich import enrich_prompts
from agent.plan_io import write_plan, write_spec
from agent.planner import make_plan
from agent.revise import revise_spec
from agent.state import BuildState
from tools.atomic import write_text


def plan(state: BuildState, runtime: Runtime[BuildContext]) -> BuildState:
    ctx = runtime.context
    feedback = state.get("feedback")
    if feedback:
        text = ctx.paths.spec_txt.read_text(encoding="utf-8")
        spec = revise_spec(ctx.spec, text, feedback, llm=ctx.services.llm)
        write_spec(spec, ctx.paths.spec_yaml)
        write_text(ctx.paths.spec_txt, f"{text.rstrip()}\n{feedback.strip()}\n")  # their words
        ctx.events.emit("revised", feedback=feedback, total=spec.total)
    elif ctx.paths.plan_yaml.exists() and not state.get("replan_requested"):
        return {}  # the person's (possibly edited) plan is the plan
    else:
        spec = ctx.spec
    new_plan = enrich_prompts(
        make_plan(spec, reuse=True), llm=ctx.services.llm, events=ctx.events
    )
    write_plan(new_plan, ctx.paths.plan_yaml)
    ctx.reload(new_plan)
    ctx.events.emit("planned", items=len(new_plan.items))
    return {
        "feedback": None,
        "replan_requested": False,
        "plan_version": state.get("plan_version", 0) + 1,
    }
