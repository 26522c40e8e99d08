"""A build whose approved plan changed after it started (`agent.planning.revision` fits the
revised plan to the accepted images when it is reviewed): at the next `run`, accepted images
move to their line's split or, fitting no line, become `plan_revised` rejections and leave the
duplicate store, and the graph goes on from `assess`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from agent.planning.revision import DROPPED, key_of, loose_key
from agent.runtime.context import BuildContext
from agent.runtime.nodes.review import schedule_first_round
from tools.contracts import ManifestRecord, Status


def misfits(ctx: BuildContext) -> tuple[list[ManifestRecord], list[ManifestRecord]]:
    """Accepted records the current plan's lines do not take as they are: (those that move
    to their line's split, those that fit no line)."""
    items = ctx.items
    moved, dropped = [], []
    for r in ctx.manifest.records(Status.accepted):
        item = items.get(r.item_id)
        if item is not None and key_of(item) == key_of(r):
            continue
        if item is not None and loose_key(item) == loose_key(r):
            moved.append(r.model_copy(update={"split": item.split}))
        else:
            dropped.append(r)
    return moved, dropped


def stale_work(ctx: BuildContext, round_: int, cursor: int) -> bool:
    """True when the round's remaining work names items the plan no longer has."""
    return any(u.item_id not in ctx.items for u in ctx.manifest.work(round_, cursor))


def revise_started_build(ctx: BuildContext, values: dict[str, Any], digest: str) -> dict | None:
    """For a build past approval whose plan changed: drop what no longer fits and return the
    state update that sends the graph to `assess` (None when the plan is the one it runs).

    A checkpoint from before `plan_sha256` existed is judged by its content: accepted images
    or scheduled work that the plan no longer has."""
    round_, cursor = values.get("round", 0), values.get("cursor", 0)
    if values.get("plan_sha256", digest) == digest and "plan_sha256" in values:
        return None
    moved, wrong = misfits(ctx)
    if "plan_sha256" not in values and not (moved or wrong or stale_work(ctx, round_, cursor)):
        return None
    if moved:
        ctx.manifest.set_records(moved)
    dropped = drop(ctx, wrong)
    ctx.events.emit(
        "plan_revised", items=len(ctx.items), moved_split=len(moved), dropped=len(dropped)
    )
    fresh = ctx.manifest.attempts() == 0
    if fresh:  # nothing drawn yet: round 0 becomes the revised plan's, first seeds and all
        schedule_first_round(ctx, replace=True)
        round_ = 0
    return {
        "round": round_,
        # otherwise the rest of this round's work is stale: `assess` replans what is short
        "cursor": 0 if fresh else ctx.manifest.work_size(round_),
        "batch": [],
        "stop_reason": None,
        "exported": False,
        "trained": False,
        "plan_sha256": digest,
    }


def drop(ctx: BuildContext, records: Iterable[ManifestRecord]) -> list[str]:
    """Turn accepted images that fit no plan line into `plan_revised` rejections."""
    changed = [
        r.model_copy(update={"status": Status.rejected, "reasons": [*r.reasons, DROPPED]})
        for r in records
    ]
    if not changed:
        return []
    ids = [r.image_id for r in changed]
    ctx.manifest.set_records(changed)
    stores = [ctx.store()] + ([ctx.identity_store()] if ctx.spec.identities is not None else [])
    for store in stores:
        remove: Any = getattr(store, "remove", None)
        if remove is not None:
            for image_id in ids:
                remove(image_id)
    return ids
