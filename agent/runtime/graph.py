"""The build graph. It reads like the diagram in the design:

parse -> plan -> review --approve--> generate -> critique -> dedup -> variants -> assess
  (feedback or an edit: replanned by review, reviewed again)                      |
                             more work in this round -> generate  <-----|
                             short, budget left      -> replan -> generate
                             done or budget spent    -> export -> train -> report
                                                   (--no-train: export -> report)
"""

from __future__ import annotations

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agent.runtime.context import BuildContext
from agent.runtime.nodes.assess import assess, route_after_assess
from agent.runtime.nodes.critique import critique
from agent.runtime.nodes.dedup import dedup
from agent.runtime.nodes.finish import export, report, route_after_export, train
from agent.runtime.nodes.generate import generate
from agent.runtime.nodes.parse import parse
from agent.runtime.nodes.plan import plan
from agent.runtime.nodes.replan import replan
from agent.runtime.nodes.review import review, route_after_review
from agent.runtime.nodes.variants import variants
from agent.runtime.state import BuildState


def build_graph(checkpointer: BaseCheckpointSaver | None = None) -> CompiledStateGraph:
    graph = StateGraph(BuildState, context_schema=BuildContext)

    graph.add_node("parse", parse)
    graph.add_node("plan", plan)
    graph.add_node("review", review)
    graph.add_node("generate", generate)
    graph.add_node("critique", critique)
    graph.add_node("dedup", dedup)
    graph.add_node("variants", variants)
    graph.add_node("assess", assess)
    graph.add_node("replan", replan)
    graph.add_node("export", export)
    graph.add_node("train", train)
    graph.add_node("report", report)

    graph.add_edge(START, "parse")
    graph.add_edge("parse", "plan")
    graph.add_edge("plan", "review")
    graph.add_conditional_edges("review", route_after_review, ["generate", "plan", "review"])
    graph.add_edge("generate", "critique")
    graph.add_edge("critique", "dedup")
    graph.add_edge("dedup", "variants")
    graph.add_edge("variants", "assess")
    graph.add_conditional_edges("assess", route_after_assess, ["generate", "replan", "export"])
    graph.add_edge("replan", "generate")
    graph.add_conditional_edges("export", route_after_export, ["train", "report"])
    graph.add_edge("train", "report")
    graph.add_edge("report", END)

    return graph.compile(checkpointer=checkpointer)
