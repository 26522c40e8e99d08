"""dedup: images that passed the critic are checked against everything accepted so far.

The batch's final statuses commit to the manifest in one transaction, then accepted
embeddings go to the chroma store (an upsert, so a re-run after a crash is harmless).
In identity datasets each accepted face's descriptor is also checked: an image must look like
its own person (`identity_mismatch`) and a new person must not look like another one
(`identity_collision`).
"""

from __future__ import annotations

import numpy as np
from langgraph.runtime import Runtime

from agent.context import BuildContext
from agent.state import BuildState
from tools.contracts import Status


def dedup(state: BuildState, runtime: Runtime[BuildContext]) -> BuildState:
    ctx = runtime.context
    batch = state.get("batch", [])
    records = ctx.manifest.get(batch)
    store = ctx.store()
    threshold = ctx.spec.quality.duplicate_similarity

    pending = [records[i] for i in batch if records[i].status is Status.pending]
    vectors = [ctx.embed(ctx.paths.root / r.path) for r in pending]
    matches = store.check_many(vectors) if vectors else []  # one store query per batch

    identities = IdentityCheck(ctx) if ctx.spec.identities is not None else None
    enforce = ctx.enforce_identity
    final, embeddings = [], {}
    fresh: list[tuple[str, np.ndarray]] = []  # accepted earlier in this batch
    for record, vector, match in zip(pending, vectors, matches, strict=True):
        image_id = record.image_id
        best_id, best_sim = match.match_id, match.similarity
        for other_id, other in fresh:
            sim = float(np.dot(vector, other))
            if sim > best_sim:
                best_id, best_sim = other_id, sim
        if best_id is not None and best_sim >= threshold:
            final.append(
                record.model_copy(
                    update={
                        "status": Status.duplicate,
                        "duplicate_of": best_id,
                        "similarity": best_sim,
                        "reasons": ["duplicate"],
                    }
                )
            )
            continue
        if identities is not None and record.identity and record.boxes:
            descriptor = ctx.describe(ctx.paths.root / record.path, record.boxes[0])
            reason = identities.verdict(record.identity, descriptor) if enforce else None
            if reason:
                final.append(
                    record.model_copy(update={"status": Status.rejected, "reasons": [reason]})
                )
                continue
            identities.accept(image_id, record.identity, descriptor)
        final.append(record.model_copy(update={"status": Status.accepted, "similarity": best_sim}))
        embeddings[image_id] = vector
        fresh.append((image_id, vector))

    descriptors = identities.fresh if identities is not None else {}
    ctx.manifest.upsert(
        final,
        round_=state.get("round", 0),
        embeddings=embeddings,
        descriptors={i: d for i, (_, d) in descriptors.items()},
    )
    store.add_many(list(embeddings), list(embeddings.values()))
    if identities is not None:
        identities.commit()
    units = len(batch)
    ctx.events.emit(
        "batch",
        round=state.get("round", 0),
        cursor=state.get("cursor", 0),
        images=units,
        accepted=len(embeddings),
    )
    return {"cursor": state.get("cursor", 0) + units, "batch": []}


class IdentityCheck:
    """Identity verdicts for one batch: the store holds committed faces, `fresh` this batch's."""

    def __init__(self, ctx: BuildContext) -> None:
        self.store = ctx.identity_store()
        self.threshold = ctx.spec.quality.identity_similarity
        self.fresh: dict[str, tuple[str, np.ndarray]] = {}  # image id -> (identity, descriptor)

    def verdict(self, identity: str, descriptor: np.ndarray) -> str | None:
        own = self.store.check(descriptor, where={"identity": identity})
        other = self.store.check(descriptor, where={"identity": {"$ne": identity}})
        own_id, own_sim = own.match_id, own.similarity
        other_sim = other.similarity if other.match_id else 0.0
        unit = descriptor / (np.linalg.norm(descriptor) + 1e-12)
        for who, vec in self.fresh.values():
            sim = float(unit @ (vec / (np.linalg.norm(vec) + 1e-12)))
            if who == identity and (own_id is None or sim > own_sim):
                own_id, own_sim = who, sim
            elif who != identity:
                other_sim = max(other_sim, sim)
        if own_id is not None and own_sim < self.threshold:
            return "identity_mismatch"
        if other_sim >= self.threshold:
            return "identity_collision"
        return None

    def accept(self, image_id: str, identity: str, descriptor: np.ndarray) -> None:
        self.fresh[image_id] = (identity, descriptor)

    def commit(self) -> None:
        """After the manifest commit: the store learns this batch's accepted faces."""
        if self.fresh:
            ids = list(self.fresh)
            self.store.add_many(
                ids,
                [d for _, d in self.fresh.values()],
                [{"identity": who} for who, _ in self.fresh.values()],
            )
