"""dedup: images that passed the critic are checked against everything accepted so far.

Its input is the batch (image ids) and the embeddings and face descriptors generate's
executor already computed (`batch_result`); the rest are computed here.

The batch's final statuses commit to the manifest in one transaction, then accepted
embeddings go to the chroma store (an upsert, so a re-run after a crash is harmless).
In identity datasets each accepted face's descriptor is also checked
(`tools.stores.dedup.IdentityGate`):
an image must look like its person's anchor (`identity_mismatch`) and a new person must not
look like another one (`identity_collision`). A batch is visited in image-id order, the order
`Manifest.anchors` names anchors in, so a person's first face accepted here is the anchor later
images of the batch and of later batches are checked against.
"""

from __future__ import annotations

import numpy as np
from langgraph.runtime import Runtime

from agent.runtime.context import BuildContext
from agent.runtime.state import BuildState
from tools.atomic import file_sha256
from tools.contracts import Status
from tools.execution.batch import BatchResult
from tools.stores.dedup import IdentityGate


def dedup(state: BuildState, runtime: Runtime[BuildContext]) -> BuildState:
    ctx = runtime.context
    batch = state.get("batch", [])
    records = ctx.manifest.get(batch)
    store = ctx.store()

    pending = sorted(
        (records[i] for i in batch if records[i].status is Status.pending),
        key=lambda r: r.image_id,
    )
    drawn = state.get("batch_result") or BatchResult()
    vectors = ctx.embed_many([ctx.paths.root / r.path for r in pending],
                             [drawn.embedding(r.image_id) for r in pending])
    matches = store.check_many(vectors) if vectors else []  # one store query per batch

    identities = identity_gate(ctx) if ctx.spec.identities is not None else None
    # every candidate's descriptor up front, so the pool computes them together; a duplicate's
    # is then computed for nothing (duplicates are a few percent of a batch)
    faced = [r for r in pending if identities is not None and r.identity and r.boxes]
    described = ctx.describe_many([(ctx.paths.root / r.path, r.boxes[0]) for r in faced],
                                  [drawn.descriptor(r.image_id, r.boxes[0]) for r in faced])
    descriptors = {r.image_id: d for r, d in zip(faced, described, strict=True)}
    enforce = ctx.enforce_identity
    final, embeddings = [], {}
    fresh: list[tuple[str, np.ndarray]] = []  # accepted earlier in this batch
    for record, vector, match in zip(pending, vectors, matches, strict=True):
        image_id = record.image_id
        if record.parent:
            # a variant is not a copy of its own parent, but is of any other image (its parent
            # is left out as the nearest match and as the runner-up that raises the bar)
            match = store.check(vector, exclude_id=record.parent)
        # the stored best and runner-up, and the images accepted earlier in this batch
        candidates = [(match.match_id, match.similarity), (None, match.runner_up)]
        candidates += [(other_id, float(np.dot(vector, other))) for other_id, other in fresh]
        answer = store.rule.match([c for c in candidates if c[1] > 0.0], "image")
        if answer.is_duplicate:
            final.append(
                record.model_copy(
                    update={
                        "status": Status.duplicate,
                        "duplicate_of": answer.match_id,
                        "similarity": answer.similarity,
                        "reasons": ["duplicate"],
                    }
                )
            )
            continue
        if identities is not None and image_id in descriptors:
            descriptor = descriptors[image_id]
            reason = identities.check(descriptor, record.identity)[0] if enforce else None
            if reason:
                final.append(
                    record.model_copy(update={"status": Status.rejected, "reasons": [reason]})
                )
                continue
            identities.accept(image_id, record.identity, descriptor)
        final.append(
            record.model_copy(update={"status": Status.accepted, "similarity": answer.similarity})
        )
        embeddings[image_id] = vector
        fresh.append((image_id, vector))

    faces = identities.pending if identities is not None else {}
    ctx.manifest.upsert(
        final,
        round_=state.get("round", 0),
        embeddings=embeddings,
        descriptors={i: d for i, (_, d) in faces.items()},
        checksums={i: file_sha256(ctx.paths.root / records[i].path) for i in embeddings},
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
    # the variants node clears the batch; its result is not needed any more
    return {"cursor": state.get("cursor", 0) + units, "batch_result": None}


def identity_gate(ctx: BuildContext) -> IdentityGate:
    """The identity rule over the accepted faces, with every person's anchor from the manifest.

    An anchor without a stored descriptor (accepted without a face box) is left out: its
    person is then checked as a new one, and their first face accepted in a batch anchors the
    rest of that batch.
    """
    anchors = {who: record.image_id for who, record in ctx.manifest.anchors().items()}
    vectors = ctx.manifest.descriptors(anchors.values())
    return IdentityGate(
        ctx.identity_store(),
        threshold=ctx.spec.quality.identity_similarity,
        anchors={who: (i, vectors[i]) for who, i in anchors.items() if i in vectors},
    )
