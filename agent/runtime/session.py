"""The context a command or the web review drives a build's graph with. Light to import: a
command that generates starts its worker pool before it imports the graph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.llm import chat_model
from agent.runtime.context import BuildContext, Options
from tools.build_dir import BuildPaths


def open_build(build_dir: Path, **options: Any) -> BuildContext:
    """The build's context with the run's options (an LLM client when one is configured)."""
    ctx = BuildContext(paths=BuildPaths(build_dir), options=Options(**options))
    ctx.services.llm = chat_model(offline=ctx.options.offline)
    return ctx
