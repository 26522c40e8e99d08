"""parse: the person's words (`spec.txt`) -> a validated DatasetSpec (`spec.yaml`), with the
seed and the recorded command-line options of the request (`BuildState.request`) written in.
A request that cannot be read raises here (a `Question` when words are left over), before the
plan node plans it; the command that started the build undoes what it wrote."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from pydantic import ValidationError

from agent.language.parse import parse_spec
from agent.language.spec import DatasetSpec, SpecError, validation_message
from agent.planning.plan_file import write_spec
from agent.runtime.context import BuildContext
from agent.runtime.overrides import with_options
from agent.runtime.state import BuildState


def parse(state: BuildState, runtime: Runtime[BuildContext]) -> BuildState:
    ctx = runtime.context
    if not ctx.paths.spec_yaml.exists():
        request = state.get("request") or {}
        text = ctx.paths.read_spec_text()
        if request.get("newline_added"):  # parsed as typed: a quote in an error stays one line
            text = text.removesuffix("\n")
        spec = parse_spec(text, offline=ctx.options.offline, llm=ctx.services.llm,
                          is_yaml=bool(request.get("is_yaml")))
        spec = requested(spec, request)
        write_spec(spec, ctx.paths.spec_yaml)
        ctx.events.emit("parsed", name=spec.name, total=spec.total)
        ctx.reload()
    return {}


def requested(spec: DatasetSpec, request: dict[str, Any]) -> DatasetSpec:
    """The spec with the request's --seed and recorded options written in."""
    if request.get("seed") is not None:
        spec = with_seed(spec, request["seed"])
    return with_options(spec, request.get("settings") or {})[0]


def with_seed(spec: DatasetSpec, seed: int) -> DatasetSpec:
    """The spec with `--seed`, checked as a spec's seed is (one SpecError line)."""
    try:
        return DatasetSpec.model_validate({**spec.model_dump(mode="json"), "seed": seed})
    except ValidationError as exc:
        raise SpecError(f"--seed: {validation_message(exc)}") from None
