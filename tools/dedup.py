"""The duplicate check: embeddings of accepted images in a persistent chromadb store.

One collection per kind in the build's `chroma/` directory: `images` holds the perceptual
image embeddings (`tools.embed.image_embedding`), `identities` the dlib face descriptors
(`tools.embed.face_descriptor`). Only accepted images are added, so a rejected image can
never make a later one look like a duplicate. `add` is an upsert: a resumed build that
re-adds the same image id changes nothing. Cosine HNSW; no embedding function (chromadb's
default would try to download a model).
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from tools.contracts import DuplicateMatch
from tools.errors import FacetoryError

log = logging.getLogger(__name__)

#: Cosine similarity at or above which two image embeddings are the same picture. On a
#: planted set (seed 1) of edited copies and distinct near neighbours the best F1 (0.90) is
#: flat from 0.82 to 0.88; 0.86 keeps distinct pictures apart as a store grows (1.1% of new
#: images matched an earlier distinct one at 1,500). bench/bench_dedup.py scores it on
#: another set (seed 0).
IMAGE_THRESHOLD = 0.86
#: Cosine similarity of two dlib descriptors at or above which they are the same person:
#: dlib's own rule, Euclidean distance below 0.6, for descriptors of norm about 1.3 (what
#: dlib returns). On real faces. The procedural renderer's cartoon people all look alike to
#: dlib (different people reach 0.92-0.97, see bench/bench_dedup.py): calibrate a threshold
#: for such a generator before using identity checks with it.
IDENTITY_THRESHOLD = 0.9

Metadata = Mapping[str, str | int | float | bool]
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
        collection: str = "images",
        kind: Literal["image", "identity"] | None = None,
    ) -> None:
        if not -1.0 <= threshold <= 1.0:
            raise FacetoryError(f"duplicate threshold must be a cosine similarity, not {threshold}")
        if not _NAME.fullmatch(collection):
            raise FacetoryError(
                f"collection name {collection!r}: use 3-63 letters, digits, '.', '_' or '-', "
                "starting and ending with a letter or digit"
            )
        self.path = Path(path)
        self.threshold = float(threshold)
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
        k = 2 if exclude_id else 1
        hits = self._query(matrix, k, where, with_metadata=False)
        answers = []
        for row, nearest in enumerate(hits):
            best = next(((i, sim) for i, sim, _ in nearest if i != exclude_id), (None, 0.0))
            if within and row:
                sims = matrix[:row] @ matrix[row] / (
                    np.linalg.norm(matrix[:row], axis=1) * np.linalg.norm(matrix[row]) + 1e-12
                )
                j = int(np.argmax(sims))
                if float(sims[j]) > best[1]:
                    best = (ids[j] if ids is not None else f"batch:{j}", float(sims[j]))
            match_id, similarity = best
            answers.append(DuplicateMatch(
                is_duplicate=match_id is not None and similarity >= self.threshold,
                match_id=match_id, similarity=similarity, kind=self.kind,
            ))
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


def identity_check(
    store: DuplicateStore, descriptor: np.ndarray, identity: str | None, *, field: str = "identity"
) -> tuple[str | None, DuplicateMatch]:
    """Identity-level verdict for one face descriptor against the accepted faces.

    For an image of `identity`: `identity_mismatch` when the nearest accepted face of the same
    identity is below the same-person threshold (it does not look like that person), and
    `identity_collision` when a face of a *different* identity is above it (two synthetic
    people who look the same). Without an identity, only collisions are looked for.
    Returns (reason or None, the match that decided).
    """
    if identity is not None:
        own = store.check(descriptor, where={field: identity})
        if own.match_id is not None and not own.is_duplicate:
            return "identity_mismatch", own
        other = store.check(descriptor, where={field: {"$ne": identity}})
        if other.is_duplicate:
            return "identity_collision", other
        return None, own if own.match_id is not None else other
    match = store.check(descriptor)
    return ("identity_collision" if match.is_duplicate else None), match
