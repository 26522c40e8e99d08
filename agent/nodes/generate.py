"""generate: render the next batch of the round's work list and record it as pending."""

from __future__ import annotations

import inspect
from collections import defaultdict
from pathlib import Path

from langgraph.runtime import Runtime

from agent.context import BuildContext
from agent.state import BuildState
from tools.contracts import ManifestRecord, PlanItem, Status
from tools.manifest import WorkUnit


def generate(state: BuildState, runtime: Runtime[BuildContext]) -> BuildState:
    ctx = runtime.context
    round_, cursor = state.get("round", 0), state.get("cursor", 0)
    units = ctx.manifest.work(round_, cursor, cursor + ctx.spec.budget.batch_size)
    by_attempt: dict[int, list[PlanItem]] = defaultdict(list)
    for unit in units:
        by_attempt[unit.attempt].append(_item_for(ctx.items[unit.item_id], unit))

    generator = ctx.generator()
    extra = {}
    if "references" in inspect.signature(generator.generate).parameters:
        # identity-conditioned generation: each person's first accepted image is the reference
        extra["references"] = {
            who: ctx.paths.root / record.path for who, record in ctx.manifest.anchors().items()
        }
    records = []
    for attempt, items in sorted(by_attempt.items()):
        for item, image in zip(
            items,
            generator.generate(items, ctx.paths.images, attempt=attempt, **extra),
            strict=True,
        ):
            records.append(
                ManifestRecord(
                    image_id=f"{item.id}-a{attempt}",
                    item_id=item.id,
                    class_name=item.class_name,
                    attributes=item.attributes,
                    identity=item.identity,
                    split=item.split,
                    attempt=attempt,
                    seed=item.seed,
                    prompt=item.prompt,
                    status=Status.pending,
                    path=str(Path(image.path).resolve().relative_to(ctx.paths.root.resolve())),
                    boxes=[face.box for face in image.truth.faces] if image.truth else [],
                    backend=image.backend,
                    model=image.model,
                )
            )
    ctx.manifest.upsert(records, round_=round_)
    return {"batch": [r.image_id for r in records]}


def _item_for(item: PlanItem, unit: WorkUnit) -> PlanItem:
    """The plan item as this attempt renders it (replanning may change seed, prompt, guidance)."""
    return item.model_copy(
        update={
            "seed": unit.seed,
            "prompt": unit.prompt,
            "negative_prompt": unit.negative_prompt,
            "guidance_scale": unit.guidance_scale,
        }
    )
