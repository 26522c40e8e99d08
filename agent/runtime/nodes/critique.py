"""critique: the critic judges every image of the batch from its pixels alone.

Its input is the batch (image ids) and what generate's executor already judged
(`batch_result`, the procedural renderer on a pool); the rest is judged here, in batch order
(on the worker pool when there is one), and commits to the manifest in one transaction: a
batch is judged whole or not at all.
"""

from __future__ import annotations

from langgraph.runtime import Runtime

from agent.runtime.context import BuildContext
from agent.runtime.state import BuildState
from tools.contracts import Status


def critique(state: BuildState, runtime: Runtime[BuildContext]) -> BuildState:
    ctx = runtime.context
    records = ctx.manifest.get(state.get("batch", []))
    # already final: this node is re-running after a crash
    todo = [records[i] for i in state.get("batch", []) if records[i].status is Status.pending]
    pairs = [(ctx.paths.root / r.path, ctx.items[r.item_id]) for r in todo]
    drawn = state.get("batch_result")
    known = [drawn.verdict(r.image_id, item) for r, (_, item) in zip(todo, pairs, strict=True)
             ] if drawn is not None else []
    verdicts = ctx.judge_many(pairs, known)
    judged = []
    for record, verdict in zip(todo, verdicts, strict=True):
        update = {
            "score": verdict.score,
            "faithfulness": verdict.faithfulness,
            "reasons": verdict.reasons,
            "measured": verdict.measured,
            "verified": verdict.verified,
            "estimates": verdict.estimates,
            "status": Status.pending if verdict.passed else Status.rejected,
        }
        if not record.boxes:  # no generator ground truth: the critic's boxes are the labels
            update["boxes"] = [face.box for face in verdict.faces]
        judged.append(record.model_copy(update=update))
    ctx.manifest.upsert(judged, round_=state.get("round", 0))
    return {}
