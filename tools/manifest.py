"""`manifest.sqlite`: one row per generated image, the build's record of truth.

The LangGraph state only holds counters; everything about an image (which plan item, which
attempt, what the critic said, whether it was accepted) lives here. Each batch is committed in
one transaction, so a killed build either has a batch's results or not, never half of them.
The `work` table holds each round's ordered list of attempts, so a resumed build repeats
exactly the same work in the same order.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from tools.contracts import ManifestRecord, Status

_SCHEMA = """
CREATE TABLE IF NOT EXISTS images (
    image_id   TEXT PRIMARY KEY,
    item_id    TEXT NOT NULL,
    class_name TEXT NOT NULL,
    round      INTEGER NOT NULL,
    status     TEXT NOT NULL,
    record     TEXT NOT NULL,
    embedding  BLOB,
    descriptor BLOB
);
CREATE INDEX IF NOT EXISTS images_item ON images(item_id);
CREATE INDEX IF NOT EXISTS images_status ON images(status);
CREATE TABLE IF NOT EXISTS work (
    round INTEGER NOT NULL,
    seq   INTEGER NOT NULL,
    item  TEXT NOT NULL,
    PRIMARY KEY (round, seq)
);
CREATE TABLE IF NOT EXISTS decisions (
    round    INTEGER NOT NULL,
    cell     TEXT NOT NULL,
    decision TEXT NOT NULL,
    PRIMARY KEY (round, cell)
);
"""


class WorkUnit(BaseModel):
    """One planned attempt: which item, which attempt, and the generation settings to use."""

    item_id: str
    attempt: int
    seed: int
    prompt: str
    negative_prompt: str
    guidance_scale: float | None = None

    @property
    def image_id(self) -> str:
        return f"{self.item_id}-a{self.attempt}"


class Manifest:
    """SQLite-backed manifest. Cheap to open; one connection per process."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All writes inside commit together or not at all."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- images -----------------------------------------------------------------------------

    def upsert(
        self,
        records: Sequence[ManifestRecord],
        *,
        round_: int,
        embeddings: dict[str, np.ndarray] | None = None,
        descriptors: dict[str, np.ndarray] | None = None,
    ) -> None:
        """Insert or replace records (with image embeddings and face descriptors) atomically."""
        embeddings, descriptors = embeddings or {}, descriptors or {}
        rows = [
            (
                r.image_id,
                r.item_id,
                r.class_name,
                round_,
                r.status.value,
                r.model_dump_json(),
                _blob(embeddings.get(r.image_id)),
                _blob(descriptors.get(r.image_id)),
            )
            for r in records
        ]
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO images VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def set_records(self, records: Sequence[ManifestRecord]) -> None:
        """Rewrite existing records (status and fields) in one transaction, keeping each row's
        round and vectors (a revised plan turns accepted images into rejections)."""
        with self.transaction() as db:
            db.executemany(
                "UPDATE images SET status = ?, record = ? WHERE image_id = ?",
                [(r.status.value, r.model_dump_json(), r.image_id) for r in records],
            )

    def get(self, image_ids: Iterable[str]) -> dict[str, ManifestRecord]:
        ids = list(image_ids)
        out: dict[str, ManifestRecord] = {}
        for chunk in _chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            for (text,) in self._db.execute(
                f"SELECT record FROM images WHERE image_id IN ({marks})", chunk
            ):
                rec = ManifestRecord.model_validate_json(text)
                out[rec.image_id] = rec
        return out

    def records(self, status: Status | None = None) -> list[ManifestRecord]:
        """All records in a stable order (round, then image id)."""
        sql = "SELECT record FROM images"
        args: tuple = ()
        if status is not None:
            sql += " WHERE status = ?"
            args = (status.value,)
        sql += " ORDER BY round, image_id"
        return [ManifestRecord.model_validate_json(t) for (t,) in self._db.execute(sql, args)]

    def accepted_item_ids(self) -> set[str]:
        rows = self._db.execute("SELECT item_id FROM images WHERE status = 'accepted'")
        return {item for (item,) in rows}

    def accepted_embeddings(self, column: str = "embedding") -> dict[str, np.ndarray]:
        """image id -> vector of accepted images: `embedding` (image) or `descriptor` (face)."""
        if column not in ("embedding", "descriptor"):
            raise ValueError(column)
        rows = self._db.execute(
            f"SELECT image_id, {column} FROM images WHERE status = 'accepted' "
            f"AND {column} IS NOT NULL ORDER BY image_id"
        )
        return {image_id: np.frombuffer(blob, dtype=np.float32) for image_id, blob in rows}

    def descriptors(self, image_ids: Iterable[str]) -> dict[str, np.ndarray]:
        """image id -> face descriptor, for those of `image_ids` that have one."""
        ids = list(image_ids)
        out: dict[str, np.ndarray] = {}
        for chunk in _chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT image_id, descriptor FROM images WHERE image_id IN ({marks}) "
                "AND descriptor IS NOT NULL",
                chunk,
            )
            out.update((i, np.frombuffer(blob, dtype=np.float32)) for i, blob in rows)
        return out

    def anchors(self) -> dict[str, ManifestRecord]:
        """identity -> its anchor, the reference it is drawn from and checked against.

        The anchor is the first accepted image: earliest round, then smallest image id (the
        order the dedup node accepts a batch in). Round first, so an item retried and
        accepted in a later round never displaces the anchor earlier images matched.
        """
        rows = self._db.execute(
            "SELECT json_extract(record, '$.identity'), record FROM images "
            "WHERE status = 'accepted' ORDER BY round, image_id"
        )
        out: dict[str, ManifestRecord] = {}
        for identity, text in rows:
            if identity and identity not in out:
                out[identity] = ManifestRecord.model_validate_json(text)
        return out

    def paths(self) -> set[str]:
        return {json.loads(t)["path"] for (t,) in self._db.execute("SELECT record FROM images")}

    def status_counts(self) -> Counter[str]:
        rows = self._db.execute("SELECT status, COUNT(*) FROM images GROUP BY status")
        return Counter({status: n for status, n in rows})

    def class_counts(self) -> dict[str, Counter[str]]:
        """class -> status -> count, straight from SQL (cheap enough for every batch)."""
        out: dict[str, Counter[str]] = {}
        rows = self._db.execute(
            "SELECT class_name, status, COUNT(*) FROM images GROUP BY class_name, status"
        )
        for class_name, status, n in rows:
            out.setdefault(class_name, Counter())[status] = n
        return out

    def attempts(self) -> int:
        (n,) = self._db.execute("SELECT COUNT(*) FROM images").fetchone()
        return int(n)

    # -- work lists ---------------------------------------------------------------------------

    def set_work(self, round_: int, units: Sequence[WorkUnit]) -> None:
        """Replace round `round_`'s work list (idempotent: a re-run writes the same rows)."""
        with self.transaction() as db:
            db.execute("DELETE FROM work WHERE round = ?", (round_,))
            db.executemany(
                "INSERT INTO work VALUES (?, ?, ?)",
                [(round_, i, u.model_dump_json()) for i, u in enumerate(units)],
            )

    def add_work(self, round_: int, units: Sequence[WorkUnit]) -> int:
        """Append units to round `round_`'s work list, skipping items it already holds (so a
        re-run after a crash appends nothing twice); how many were appended."""
        with self.transaction() as db:
            held = {
                item for (item,) in db.execute(
                    "SELECT json_extract(item, '$.item_id') FROM work WHERE round = ?", (round_,)
                )
            }
            (size,) = db.execute(
                "SELECT COUNT(*) FROM work WHERE round = ?", (round_,)
            ).fetchone()
            fresh = [u for u in units if u.item_id not in held]
            db.executemany(
                "INSERT INTO work VALUES (?, ?, ?)",
                [(round_, size + i, u.model_dump_json()) for i, u in enumerate(fresh)],
            )
        return len(fresh)

    def accepted_by_item(self, item_ids: Iterable[str]) -> dict[str, ManifestRecord]:
        """item id -> its accepted image's record, for those of `item_ids` that have one."""
        ids = list(dict.fromkeys(item_ids))
        out: dict[str, ManifestRecord] = {}
        for chunk in _chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            for (text,) in self._db.execute(
                f"SELECT record FROM images WHERE status = 'accepted' AND item_id IN ({marks}) "
                "ORDER BY round, image_id",
                chunk,
            ):
                record = ManifestRecord.model_validate_json(text)
                out.setdefault(record.item_id, record)
        return out

    def work(self, round_: int, start: int = 0, stop: int | None = None) -> list[WorkUnit]:
        stop = stop if stop is not None else 2**62
        rows = self._db.execute(
            "SELECT item FROM work WHERE round = ? AND seq >= ? AND seq < ? ORDER BY seq",
            (round_, start, stop),
        )
        return [WorkUnit.model_validate_json(t) for (t,) in rows]

    def work_size(self, round_: int) -> int:
        (n,) = self._db.execute("SELECT COUNT(*) FROM work WHERE round = ?", (round_,)).fetchone()
        return int(n)

    # -- decisions ---------------------------------------------------------------------------

    def log_decision(self, round_: int, cell: str, decision: BaseModel) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO decisions VALUES (?, ?, ?)",
            (round_, cell, decision.model_dump_json()),
        )

    def decisions(self) -> list[tuple[int, str, dict]]:
        rows = self._db.execute("SELECT round, cell, decision FROM decisions ORDER BY round, cell")
        return [(r, c, json.loads(d)) for r, c, d in rows]


def _blob(vector: np.ndarray | None) -> bytes | None:
    return None if vector is None else np.asarray(vector, dtype=np.float32).tobytes()


def _chunks(seq: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(seq), size):
        yield seq[i : i + size]
