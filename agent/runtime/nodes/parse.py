"""parse: the person's words (`spec.txt`) -> a validated DatasetSpec (`spec.yaml`)."""

from __future__ import annotations

from langgraph.runtime import Runtime

from agent.language.parse import parse_spec
from agent.planning.plan_file import write_spec
from agent.runtime.context import BuildContext
from agent.runtime.state import BuildState


def parse(state: BuildState, runtime: Runtime[BuildContext]) -> BuildState:
    ctx = runtime.context
    if not ctx.paths.spec_yaml.exists():
        text = ctx.paths.read_spec_text()
        spec = parse_spec(text, offline=ctx.options.offline)
        write_spec(spec, ctx.paths.spec_yaml)
        ctx.events.emit("parsed", name=spec.name, total=spec.total)
        ctx.reload()
    return {}
