"""A person's verdict on an image: reject an accepted one or accept a rejected one.

The verdict is recorded in the manifest at once (a queue that is safe beside a running build),
then applied to the image's status by whoever holds the build lock: the caller right away when
no build runs, otherwise the running build at its next assessment. Applying a rejection leaves
the image's plan item without an accepted image, so quotas are recounted from the manifest and
the next round (or the next `facetory run`) refills it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from agent.runtime.context import BuildContext
from agent.runtime.lock import BuildLock, BuildLocked
from tools.contracts import Status
from tools.errors import FacetoryError
from tools.stores.manifest import Manifest
from tools.stores.manifest_schema import HumanVerdict

MAX_REASON = 200


@dataclass
class VerdictResult:
    verdict: HumanVerdict
    applied: bool
    """False when a build held the lock: the verdict waits in the queue for it."""


def check_verdict(manifest: Manifest, image_id: str, verdict: str, reason: str) -> str:
    """The reason cleaned up; a FacetoryError (one line) for a verdict that cannot stand."""
    if verdict not in ("accepted", "rejected"):
        raise FacetoryError(f"a verdict is 'accepted' or 'rejected', not '{verdict}'")
    reason = " ".join(reason.split())
    if not reason:
        raise FacetoryError("say why: a verdict needs a reason")
    if len(reason) > MAX_REASON:
        raise FacetoryError(f"the reason is {len(reason)} characters; at most {MAX_REASON}")
    record = manifest.get([image_id]).get(image_id)
    if record is None:
        raise FacetoryError(f"no image '{image_id}' in this build")
    if record.status is Status.pending:
        raise FacetoryError(f"{image_id} is still being judged; decide once it has a verdict")
    if verdict == "rejected" and record.status is not Status.accepted:
        raise FacetoryError(f"{image_id} is already {record.status.value}")
    if verdict == "accepted" and record.status is Status.accepted:
        raise FacetoryError(f"{image_id} is already accepted")
    if verdict == "accepted":
        taken = manifest.accepted_for_item(record.item_id)
        if taken:
            raise FacetoryError(
                f"plan item {record.item_id} already has an accepted image ({taken[0]}); "
                "reject that one first"
            )
    return reason


def record_verdict(
    ctx: BuildContext, image_id: str, verdict: Literal["accepted", "rejected"] | str, reason: str
) -> VerdictResult:
    """Queue a verdict, and apply it at once when no build holds the lock."""
    reason = check_verdict(ctx.manifest, image_id, verdict, reason)
    queued = ctx.manifest.queue_verdict(image_id, verdict, reason, time.time())
    try:
        with BuildLock(ctx.paths.root):
            apply_queued(ctx, sync_stores=False)
    except BuildLocked:
        return VerdictResult(queued, applied=False)
    return VerdictResult(queued, applied=True)


def apply_queued(ctx: BuildContext, *, sync_stores: bool = True) -> list[HumanVerdict]:
    """Apply queued verdicts (the caller holds the build lock) and log them.

    With `sync_stores`, a rejected image also leaves the duplicate stores, so its refill is
    not judged a copy of it; a process that does not load the stores leaves that to the next
    run's recovery (`sync_rejections`).
    """
    applied = ctx.manifest.apply_verdicts()
    for v in applied:
        ctx.events.emit("human_verdict", image=v.image_id, verdict=v.verdict, reason=v.reason,
                        state=v.state)
    if sync_stores and applied:
        sync_rejections(ctx, [v for v in applied if v.verdict == "rejected"])
    return applied


def sync_rejections(ctx: BuildContext, verdicts: list[HumanVerdict] | None = None) -> None:
    """Remove human-rejected images from the duplicate stores (idempotent)."""
    if verdicts is None:
        verdicts = [v for v in ctx.manifest.human_verdicts() if v.verdict == "rejected"]
    if not verdicts or not ctx.paths.spec_yaml.exists():
        return
    current = ctx.manifest.get(v.image_id for v in verdicts)
    for v in verdicts:
        record = current.get(v.image_id)
        if record is not None and record.status is not Status.accepted:
            ctx.store().remove(v.image_id)
            ctx.identity_store().remove(v.image_id)
