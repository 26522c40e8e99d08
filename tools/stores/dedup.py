"""The duplicate check: embeddings of accepted images in a persistent chromadb store.

One collection per kind in the build's `chroma/` directory: `images` holds the perceptual
image embeddings (`tools.stores.embed.image_embedding`), `identities` the dlib face descriptors
(`tools.stores.embed.face_descriptor`). Only accepted images are added, so a rejected image can
never make a later one look like a duplicate. `add` is an upsert: a resumed build that
re-adds the same image id changes nothing. Cosine HNSW; no embedding function (chromadb's
default would try to download a model).
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from tools.contracts import DuplicateMatch
from tools.errors import FacetoryError

log = logging.getLogger(__name__)

#: Cosine similarity at or above which two image embeddings are the same picture, when
#: nothing else stored is close (see `IMAGE_RUNNER_UP_WEIGHT` for when something is). On a
#: planted set of edited copies and distinct near neighbours the best F1 (0.90) is flat from
#: 0.82 to 0.88 (bench/bench_dedup.py).
IMAGE_THRESHOLD = 0.86
#: How much the bar rises with the runner-up's similarity above `RUNNER_UP_FLOOR` (in the
#: spirit of Lowe's ratio test: a match counts when it stands out from the next). Pictures
#: of people with the darkest skin sit closer together in the embedding (a dark face on a
#: lighter backdrop is mostly one shape): in a store of 3,000 distinct clean renders (skin
#: tones in turn) the plain threshold flagged 5.4% of new monk_8-10 images as copies against
#: 1.6% of monk_1-5 ones;
#: with the runner-up rule 1.0% against 0.4%, and the planted set's F1 is unchanged. The bar
#: never falls below the threshold.
IMAGE_RUNNER_UP_WEIGHT = 0.5
RUNNER_UP_FLOOR = 0.7
#: Cosine similarity of two dlib descriptors at or above which they are the same person:
#: dlib's own rule, Euclidean distance below 0.6, for descriptors of norm about 1.3 (what
#: dlib returns). On real faces. The procedural renderer's cartoon people all look alike to
#: dlib (different people reach 0.92-0.97, see bench/bench_dedup.py): calibrate a threshold
#: for such a generator before using identity checks with it.
IDENTITY_THRESHOLD = 0.9

Metadata = Mapping[str, str | int | float | bool]


class DuplicateRule(BaseModel):
    """When the nearest stored entry counts as the same picture (or the same person).

    The best match must reach `threshold`, raised by `runner_up_weight` times how far the
    second-best match is above `runner_up_floor`. With a weight of 0 it is a plain threshold.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    threshold: float = Field(ge=-1.0, le=1.0)
    runner_up_weight: float = Field(default=0.0, ge=0.0)
    runner_up_floor: float = Field(default=RUNNER_UP_FLOOR, ge=-1.0, le=1.0)

    def required(self, runner_up: float) -> float:
        """The similarity the best match must reach, given the runner-up's."""
        return self.threshold + self.runner_up_weight * max(runner_up - self.runner_up_floor, 0.0)

    def is_duplicate(self, best: float, runner_up: float = 0.0) -> bool:
        return best >= self.required(runner_up)

    def match(
        self, candidates: Iterable[tuple[str | None, float]], kind: Literal["image", "identity"]
    ) -> DuplicateMatch:
        """The answer for (id, similarity) candidates: the best one, judged against the next."""
        ranked = sorted(candidates, key=lambda c: -c[1])[:2]
        if not ranked:
            return DuplicateMatch(is_duplicate=False, kind=kind)
        (match_id, best), runner_up = ranked[0], ranked[1][1] if len(ranked) > 1 else 0.0
        return DuplicateMatch(
            is_duplicate=self.is_duplicate(best, runner_up), match_id=match_id,
            similarity=best, runner_up=runner_up, kind=kind,
        )


#: The image-level rule builds use (`quality.duplicate_similarity` overrides the threshold).
IMAGE_RULE = DuplicateRule(threshold=IMAGE_THRESHOLD, runner_up_weight=IMAGE_RUNNER_UP_WEIGHT)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]")


def _client(path: Path):
    try:
        import chromadb
        from chromadb.config import Settings
    except ImportError as exc:  # pragma: no cover - chromadb is a dependency
        raise FacetoryError("chromadb is not installed: pip install chromadb") from exc
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(
            path=str(path), settings=Settings(anonymized_telemetry=False, allow_reset=False)
        )
    except Exception as exc:  # chromadb wraps sqlite and filesystem errors in many types
        raise FacetoryError(f"cannot open the embedding store at {path}: {exc}") from exc


class DuplicateStore:
    """Nearest-neighbour duplicate check over one chromadb collection, kept on disk."""

    def __init__(
        self,
        path: Path,
        *,
        threshold: float,
        runner_up_weight: float = 0.0,
        collection: str = "images",
        kind: Literal["image", "identity"] | None = None,
    ) -> None:
        if not -1.0 <= threshold <= 1.0:
            raise FacetoryError(f"duplicate threshold must be a cosine similarity, not {threshold}")
        if runner_up_weight < 0:
            raise FacetoryError(f"runner-up weight must be 0 or more, not {runner_up_weight}")
        if not _NAME.fullmatch(collection):
            raise FacetoryError(
                f"collection name {collection!r}: use 3-63 letters, digits, '.', '_' or '-', "
                "starting and ending with a letter or digit"
            )
        self.path = Path(path)
        self.rule = DuplicateRule(threshold=threshold, runner_up_weight=runner_up_weight)
        self.kind: Literal["image", "identity"] = kind or (
            "identity" if collection.startswith("identit") else "image"
        )
        self._client = _client(self.path)
        self._collection = self._client.get_or_create_collection(
            name=collection,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
        )
        with warnings.catch_warnings():  # chromadb warns that None is a "legacy" function
            warnings.simplefilter("ignore", DeprecationWarning)
            space = (self._collection.configuration or {}).get("hnsw", {}) or {}
        if space.get("space", "cosine") != "cosine":
            raise FacetoryError(
                f"collection {collection!r} in {self.path} uses {space.get('space')} distance, "
                "not cosine; delete the chroma directory to rebuild it"
            )
        self._dim: int | None = None
        stored = self._collection.get(limit=1, include=["embeddings"])
        if stored["embeddings"] is not None and len(stored["embeddings"]):
            self._dim = len(stored["embeddings"][0])

    # -- writing ---------------------------------------------------------------------------

    def add(self, image_id: str, embedding: np.ndarray, metadata: Metadata | None = None) -> None:
        """Add (or replace) one accepted image's embedding.

        Each call is one chromadb write (about 20 ms); a build adds a batch with `add_many`.
        """
        self.add_many([image_id], [embedding], [metadata or {}])

    def add_many(
        self,
        ids: Sequence[str],
        embeddings: Sequence[np.ndarray] | np.ndarray,
        metadatas: Sequence[Metadata] | None = None,
    ) -> None:
        """Upsert a batch; much faster than one `add` per image."""
        if not len(ids):
            return
        matrix = self._matrix(embeddings)
        if len(ids) != len(matrix):
            raise FacetoryError(f"{len(ids)} ids but {len(matrix)} embeddings")
        metas = [dict(m) or None for m in metadatas] if metadatas is not None else None
        self._collection.upsert(ids=list(ids), embeddings=matrix, metadatas=metas)

    def level(
        self,
        ids: Sequence[str],
        embeddings: Sequence[np.ndarray] | np.ndarray,
        metadatas: Sequence[Metadata] | None = None,
    ) -> int:
        """Hold exactly these entries: upsert them and forget every other stored one; returns
        how many were forgotten. A store ahead of the manifest (checkpoints lost, a manifest
        restored or rebuilt) otherwise judged images drawn again duplicates of themselves."""
        stale = set(self._collection.get(include=[])["ids"]) - set(ids)
        if stale:
            self._collection.delete(ids=sorted(stale))
        self.add_many(ids, embeddings, metadatas)
        return len(stale)

    def remove(self, image_id: str) -> None:
        """Forget one image (e.g. rejected after all by a later check); unknown ids are fine."""
        self._collection.delete(ids=[image_id])

    def count(self) -> int:
        return int(self._collection.count())

    # -- reading ---------------------------------------------------------------------------

    def check(
        self,
        embedding: np.ndarray,
        exclude_id: str | None = None,
        *,
        where: Mapping[str, object] | None = None,
    ) -> DuplicateMatch:
        """Is `embedding` a duplicate of a stored one? The nearest match and its similarity.

        `exclude_id` skips the image's own entry (when re-checking something already added);
        `where` restricts the search to entries whose metadata match (chromadb filter).
        """
        return self.check_many([embedding], exclude_id=exclude_id, where=where)[0]

    def check_many(
        self,
        embeddings: Sequence[np.ndarray] | np.ndarray,
        *,
        exclude_id: str | None = None,
        where: Mapping[str, object] | None = None,
        within: bool = False,
        ids: Sequence[str] | None = None,
    ) -> list[DuplicateMatch]:
        """`check` for a batch in one store query (much faster than one call per image).

        With `within=True` each embedding is also compared with the earlier ones of the
        batch, as if those had been added first (pass `ids` to name them in the answer):
        two copies of one picture in the same batch are caught before either is stored.
        """
        matrix = self._matrix(embeddings)
        k = 3 if exclude_id else 2  # the best and the runner-up
        hits = self._query(matrix, k, where, with_metadata=False)
        answers = []
        for row, nearest in enumerate(hits):
            candidates = [(i, sim) for i, sim, _ in nearest if i != exclude_id]
            if within and row:
                sims = matrix[:row] @ matrix[row] / (
                    np.linalg.norm(matrix[:row], axis=1) * np.linalg.norm(matrix[row]) + 1e-12
                )
                candidates += [(ids[j] if ids is not None else f"batch:{j}", float(sims[j]))
                               for j in np.argsort(-sims)[:2]]
            answers.append(self.rule.match(candidates, self.kind))
        return answers

    def nearest(
        self, embedding: np.ndarray, k: int = 5, *, where: Mapping[str, object] | None = None
    ) -> list[tuple[str, float, dict]]:
        """Up to `k` (id, cosine similarity, metadata) of the stored entries nearest to it."""
        return self._query(self._matrix([embedding]), k, where, with_metadata=True)[0]

    def _query(
        self, matrix: np.ndarray, k: int, where: Mapping[str, object] | None, *,
        with_metadata: bool,
    ) -> list[list[tuple[str, float, dict]]]:
        include = ["distances", "metadatas"] if with_metadata else ["distances"]
        result = self._collection.query(
            query_embeddings=matrix, n_results=k, where=dict(where) if where else None,
            include=include,
        )
        out = []
        for row, ids in enumerate(result["ids"]):
            distances = result["distances"][row] if result["distances"] else [1.0] * len(ids)
            metas = result["metadatas"][row] if result.get("metadatas") else [{}] * len(ids)
            out.append([
                (i, float(min(max(1.0 - d, -1.0), 1.0)), dict(m or {}))
                for i, d, m in zip(ids, distances, metas, strict=True)
            ])
        return out

    def _matrix(self, embeddings: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
        matrix = np.asarray(embeddings, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[1] == 0:
            raise FacetoryError(f"embeddings must be a list of 1-D vectors, got {matrix.shape}")
        if not np.isfinite(matrix).all():
            raise FacetoryError("embedding contains NaN or infinity")
        if self._dim is None:
            self._dim = matrix.shape[1]
        elif matrix.shape[1] != self._dim:
            raise FacetoryError(
                f"embedding has {matrix.shape[1]} dimensions, the store has {self._dim}"
            )
        return matrix


class FaceStore(Protocol):
    """What the identity rule needs of a store of accepted faces (a `DuplicateStore`)."""

    def check(
        self, embedding: np.ndarray, *, where: Mapping[str, object] | None = None
    ) -> DuplicateMatch: ...

    def add_many(
        self,
        ids: Sequence[str],
        embeddings: Sequence[np.ndarray],
        metadatas: Sequence[Metadata] | None = None,
    ) -> None: ...


class IdentityGate:
    """The identity rule, the one implementation that builds and benchmarks share.

    A person's anchor is their first accepted face (`Manifest.anchors`); the identity-
    conditioned generator draws the person from it, so it is what the person looks like. For a
    face claimed as `identity`:

    - a person with an anchor: `identity_mismatch` when the face is below the threshold against
      the anchor. Against the anchor, not the nearest of the person's faces: each image may
      then drift a little from the last and a chain of them ends at somebody else.
      Then `identity_collision` when the face also reaches another person's anchor: it would
      pass as two people. Only anchors, not every face of the others: those faces are each
      within the threshold of their own anchor, the anchors are what the people are, and a
      later image is already tied to its person, so a full store query per image buys little.
    - a new person (no anchor yet; this face becomes it): `identity_collision` when any
      accepted face of another person reaches the threshold. A new person must not look like
      anyone already accepted, since every accepted face is somebody.
    - no identity: `identity_collision` against any accepted face.

    Faces accepted since the last `commit` (this batch's) count as if stored, and the first
    accepted face of a person without one becomes their anchor at once.
    """

    def __init__(
        self,
        store: FaceStore,
        *,
        threshold: float,
        anchors: Mapping[str, tuple[str, np.ndarray]] | None = None,
        field: str = "identity",
    ) -> None:
        self.store = store
        self.threshold = float(threshold)
        self.field = field
        self.anchors: dict[str, tuple[str, np.ndarray]] = {
            who: (image_id, _unit(vector)) for who, (image_id, vector) in (anchors or {}).items()
        }
        #: image id -> (identity, descriptor): accepted but not yet in the store
        self.pending: dict[str, tuple[str | None, np.ndarray]] = {}
        self._stacked: tuple[list[str], np.ndarray] | None = None  # anchors as one matrix

    def check(
        self, descriptor: np.ndarray, identity: str | None
    ) -> tuple[str | None, DuplicateMatch]:
        """(reason or None, the match that decided) for a face claimed as `identity`."""
        unit = _unit(descriptor)
        if identity is not None and identity in self.anchors:
            anchor_id, anchor = self.anchors[identity]
            own = self._match(anchor_id, float(unit @ anchor))
            if not own.is_duplicate:
                return "identity_mismatch", own
            other = self._nearest_anchor(unit, identity)
            if other.is_duplicate:
                return "identity_collision", other
            return None, own
        other = self._nearest_face(descriptor, unit, identity)
        return ("identity_collision" if other.is_duplicate else None), other

    def accept(self, image_id: str, identity: str | None, descriptor: np.ndarray) -> None:
        """Count an accepted face from now on; a person's first becomes their anchor."""
        self.pending[image_id] = (identity, descriptor)
        if identity is not None and identity not in self.anchors:
            self.anchors[identity] = (image_id, _unit(descriptor))
            self._stacked = None

    def commit(self) -> None:
        """Store the pending faces (after the caller has recorded them: the store follows)."""
        if self.pending:
            self.store.add_many(
                list(self.pending),
                [d for _, d in self.pending.values()],
                [{self.field: who} if who else {} for who, _ in self.pending.values()],
            )
            self.pending.clear()

    def _nearest_anchor(self, unit: np.ndarray, identity: str) -> DuplicateMatch:
        """The nearest anchor of another person (one product against all anchors)."""
        if self._stacked is None:
            self._stacked = (list(self.anchors), np.stack([a for _, a in self.anchors.values()]))
        people, matrix = self._stacked
        sims = matrix @ unit
        sims[people.index(identity)] = -np.inf
        row = int(np.argmax(sims))
        if not np.isfinite(sims[row]):  # nobody else has an anchor yet
            return self._match(None, 0.0)
        return self._match(self.anchors[people[row]][0], float(sims[row]))

    def _nearest_face(
        self, descriptor: np.ndarray, unit: np.ndarray, identity: str | None
    ) -> DuplicateMatch:
        """The nearest accepted face of anybody but `identity`, stored or pending."""
        where = {self.field: {"$ne": identity}} if identity is not None else None
        stored = self.store.check(descriptor, where=where)
        best = self._match(stored.match_id, stored.similarity if stored.match_id else 0.0)
        for image_id, (who, vector) in self.pending.items():
            sim = float(unit @ _unit(vector))
            if (identity is None or who != identity) and sim > best.similarity:
                best = self._match(image_id, sim)
        return best

    def _match(self, match_id: str | None, similarity: float) -> DuplicateMatch:
        return DuplicateMatch(
            is_duplicate=match_id is not None and similarity >= self.threshold,
            match_id=match_id, similarity=similarity, kind="identity",
        )


def _unit(vector: np.ndarray) -> np.ndarray:
    vector = np.asarray(vector, dtype=np.float32)
    return vector / (np.linalg.norm(vector) + 1e-12)
