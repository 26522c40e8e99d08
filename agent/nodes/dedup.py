"""dedup: images that passed the critic are checked against everything accepted so far.

The batch's final statuses commit to the manifest in one transaction, then accepted
embeddings go to the chroma store (an upsert, so a re-run after a crash is harmless).
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
        final.append(record.model_copy(update={"status": Status.accepted, "similarity": best_sim}))
        embeddings[image_id] = vector
        fresh.append((image_id, vector))

    ctx.manifest.upsert(final, round_=state.get("round", 0), embeddings=embeddings)
    store.add_many(list(embeddings), list(embeddings.values()))
    units = len(batch)
    ctx.events.emit(
        "batch",
        round=state.get("round", 0),
        cursor=state.get("cursor", 0),
        images=units,
        accepted=len(embeddings),
    )
    return {"cursor": state.get("cursor", 0) + units, "batch": []}
