"""variants: after a batch, the accepted base images whose augmentation variants are now due.

A variant is drawn from its base's accepted image, so it becomes work only then: this node
appends the due variants to the round's work list (`Manifest.add_work`, which skips what the
list already holds, so a re-run after a crash appends nothing twice). Generation, critique
and dedup then treat them like any other work; `assess` sees the longer list.
"""

from __future__ import annotations

from langgraph.runtime import Runtime

from agent.runtime.context import BuildContext
from agent.runtime.state import BuildState
from tools.contracts import Status
from tools.stores.manifest_schema import WorkUnit


def variants(state: BuildState, runtime: Runtime[BuildContext]) -> BuildState:
    ctx = runtime.context
    batch = state.get("batch", [])
    if not ctx.variants or not batch:
        return {"batch": []}
    accepted = [
        r for r in ctx.manifest.get(batch).values()
        if r.status is Status.accepted and r.item_id in ctx.variants_by_parent
    ]
    done = ctx.manifest.accepted_item_ids()
    units = []
    for record in sorted(accepted, key=lambda r: r.image_id):
        base = ctx.items[record.item_id]
        for variant in ctx.variants_by_parent[record.item_id]:
            if variant.id in done:
                continue
            first = variant.seed == base.seed  # variant 0 redraws the accepted picture's scene
            units.append(
                WorkUnit(
                    item_id=variant.id,
                    attempt=state.get("round", 0),
                    seed=record.seed if first else variant.seed,
                    prompt=variant.prompt,
                    negative_prompt=variant.negative_prompt,
                )
            )
    added = ctx.manifest.add_work(state.get("round", 0), units) if units else 0
    if added:
        ctx.events.emit("variants_due", round=state.get("round", 0), items=added)
    return {"batch": []}
