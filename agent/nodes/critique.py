"""critique: the critic judges every image of the batch from its pixels alone."""

from __future__ import annotations

from langgraph.runtime import Runtime

from agent.context import BuildContext
from agent.state import BuildState
from tools.contracts import Status


def critique(state: BuildState, runtime: Runtime[BuildContext]) -> BuildState:
    ctx = runtime.context
    critic = ctx.critic()
    records = ctx.manifest.get(state.get("batch", []))
    judged = []
    for image_id in state.get("batch", []):
        record = records[image_id]
        if record.status is not Status.pending:
            continue  # already final: this node is re-running after a crash
        verdict = critic.judge(ctx.paths.root / record.path, ctx.items[record.item_id])
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
