"""`manifest.sqlite`: one row per generated image, the build's record of truth.

The LangGraph state only holds counters; everything about an image (which plan item, which
attempt, what the critic said, whether it was accepted) lives here. Each batch is committed in
one transaction, so a killed build either has a batch's results or not, never half of them.
The `work` table holds each round's ordered list of attempts, so a resumed build repeats
exactly the same work in the same order. The tables and their typed rows are defined in
`manifest_schema`.
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
from tools.stores.manifest_schema import SCHEMA, HumanVerdict, WorkUnit, add_columns

HUMAN_REASON = "human_rejected"
"""The reason code a person's rejection gives an image (counted with the critic's reasons)."""


class Manifest:
    """SQLite-backed manifest. Cheap to open; one connection per process."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        add_columns(self._db)

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
        checksums: dict[str, str] | None = None,
    ) -> None:
        """Insert or replace records (with image embeddings, face descriptors and the SHA-256
        of accepted files) atomically."""
        embeddings, descriptors, checksums = embeddings or {}, descriptors or {}, checksums or {}
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
                checksums.get(r.image_id),
            )
            for r in records
        ]
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO images (image_id, item_id, class_name, round, status, "
                "record, embedding, descriptor, sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def accepted_files(self) -> dict[str, tuple[str, str | None]]:
        """image id -> (file relative to the build, its recorded SHA-256 or None) of every
        accepted image: what a run checks on start."""
        rows = self._db.execute(
            "SELECT image_id, json_extract(record, '$.path'), sha256 FROM images "
            "WHERE status = 'accepted' ORDER BY image_id"
        )
        return {image_id: (path, digest) for image_id, path, digest in rows}

    def set_checksums(self, checksums: dict[str, str]) -> None:
        """Record the SHA-256 of image files (checked, or drawn again) in one transaction."""
        with self.transaction() as db:
            db.executemany(
                "UPDATE images SET sha256 = ? WHERE image_id = ?",
                [(digest, image_id) for image_id, digest in checksums.items()],
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

    def accepted_for_item(self, item_id: str) -> list[str]:
        """Image ids of the accepted images of one plan item (at most one in a sound build)."""
        rows = self._db.execute(
            "SELECT image_id FROM images WHERE item_id = ? AND status = 'accepted'", (item_id,)
        )
        return [image_id for (image_id,) in rows]

    def accepted_cells(self) -> Counter[tuple[str, str, str]]:
        """(class, factor, level) -> accepted images, straight from SQL (live progress)."""
        rows = self._db.execute(
            "SELECT class_name, json_each.key, json_each.value, COUNT(*) FROM images, "
            "json_each(images.record, '$.attributes') WHERE status = 'accepted' "
            "GROUP BY class_name, json_each.key, json_each.value"
        )
        return Counter({(c, f, lv): n for c, f, lv, n in rows})

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
        return set(self.image_paths().values())

    def image_paths(self) -> dict[str, str]:
        """image id -> its file, relative to the build directory."""
        rows = self._db.execute("SELECT image_id, json_extract(record, '$.path') FROM images")
        return dict(rows)

    def quick_check(self) -> list[str]:
        """SQLite's quick integrity check of the whole file: ['ok'] when sound."""
        return [row[0] for row in self._db.execute("PRAGMA quick_check")]

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

    def page(
        self,
        *,
        status: str | None = None,
        class_name: str | None = None,
        split: str | None = None,
        reason: str | None = None,
        cell: tuple[str, str] | None = None,
        limit: int = 60,
        offset: int = 0,
    ) -> tuple[int, list[ManifestRecord]]:
        """(matching count, one page of records) in a stable order; filters are ANDed.

        `status` "rejected" also matches duplicates; `cell` is (factor, level). Only one page is
        parsed, so a gallery of 10,000 images costs one page (bench/bench_web.py measures it).
        """
        where, args = [], []
        if status == "rejected":
            where.append("status IN ('rejected', 'duplicate')")
        elif status:
            where.append("status = ?")
            args.append(status)
        if class_name:
            where.append("class_name = ?")
            args.append(class_name)
        if split:
            where.append("json_extract(record, '$.split') = ?")
            args.append(split)
        if reason:
            where.append(
                "EXISTS (SELECT 1 FROM json_each(record, '$.reasons') WHERE json_each.value = ?)"
            )
            args.append(reason)
        if cell:
            where.append("json_extract(record, '$.attributes.' || json_quote(?)) = ?")
            args.extend(cell)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        (total,) = self._db.execute(f"SELECT COUNT(*) FROM images{clause}", args).fetchone()
        rows = self._db.execute(
            f"SELECT record FROM images{clause} ORDER BY round, image_id LIMIT ? OFFSET ?",
            [*args, limit, offset],
        )
        return int(total), [ManifestRecord.model_validate_json(t) for (t,) in rows]

    def reason_counts(self) -> Counter[str]:
        """Every reason code with how many images carry it (for the gallery's filter)."""
        rows = self._db.execute(
            "SELECT json_each.value, COUNT(*) FROM images, json_each(images.record, '$.reasons') "
            "GROUP BY json_each.value"
        )
        return Counter({reason: n for reason, n in rows})

    def changes(self) -> int:
        """A number that moves whenever any connection commits (cheap; for live progress)."""
        (version,) = self._db.execute("PRAGMA data_version").fetchone()
        (n,) = self._db.execute("SELECT total_changes()").fetchone()
        return int(version) * 1_000_003 + int(n)

    # -- human verdicts -----------------------------------------------------------------------

    def queue_verdict(self, image_id: str, verdict: str, reason: str, at: float) -> HumanVerdict:
        """Record a person's verdict (queued; the latest verdict on an image replaces any
        earlier one). Safe beside a running build: one short transaction."""
        record = HumanVerdict(image_id=image_id, verdict=verdict, reason=reason, decided_at=at)
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO human_verdicts VALUES (?, ?, ?, ?, 'queued')",
                (record.image_id, record.verdict, record.reason, record.decided_at),
            )
        return record

    def human_verdicts(self, state: str | None = None) -> list[HumanVerdict]:
        sql = "SELECT image_id, verdict, reason, decided_at, state FROM human_verdicts"
        args: tuple = ()
        if state is not None:
            sql += " WHERE state = ?"
            args = (state,)
        rows = self._db.execute(sql + " ORDER BY decided_at, image_id", args)
        return [
            HumanVerdict(image_id=i, verdict=v, reason=r, decided_at=t, state=s)
            for i, v, r, t, s in rows
        ]

    def apply_verdicts(self) -> list[HumanVerdict]:
        """Apply every queued verdict to its image's status in one transaction; returns them.

        A rejection makes the image `rejected` with reason `human_rejected`; an acceptance makes
        it `accepted` (its critic reasons are kept for the record) unless its plan item has
        gained an accepted image meanwhile (a retry while the verdict waited): that verdict is
        `refused`, so no item ever has two. The caller holds the build lock: this is the only
        place a human verdict changes an image.
        """
        if self._db.execute(
            "SELECT 1 FROM human_verdicts WHERE state = 'queued' LIMIT 1"
        ).fetchone() is None:
            return []  # the common case, checked every batch: no write transaction
        with self.transaction() as db:
            queued = [
                HumanVerdict(image_id=i, verdict=v, reason=r, decided_at=t, state=s)
                for i, v, r, t, s in db.execute(
                    "SELECT image_id, verdict, reason, decided_at, state FROM human_verdicts "
                    "WHERE state = 'queued' ORDER BY decided_at, image_id"
                )
            ]
            for verdict in queued:
                row = db.execute(
                    "SELECT record FROM images WHERE image_id = ?", (verdict.image_id,)
                ).fetchone()
                state = "applied"
                if row is not None:
                    rec = ManifestRecord.model_validate_json(row[0])
                    taken = db.execute(
                        "SELECT 1 FROM images WHERE item_id = ? AND status = 'accepted' "
                        "AND image_id != ?", (rec.item_id, rec.image_id),
                    ).fetchone()
                    if verdict.verdict == "accepted" and taken is not None:
                        state = "refused"
                    elif verdict.verdict == "rejected":
                        reasons = [*rec.reasons, HUMAN_REASON]
                        rec = rec.model_copy(update={"status": Status.rejected, "reasons": reasons})
                    else:
                        reasons = [r for r in rec.reasons if r != HUMAN_REASON]
                        rec = rec.model_copy(update={"status": Status.accepted, "reasons": reasons})
                    db.execute(
                        "UPDATE images SET status = ?, record = ? WHERE image_id = ?",
                        (rec.status.value, rec.model_dump_json(), rec.image_id),
                    )
                db.execute(
                    "UPDATE human_verdicts SET state = ? WHERE image_id = ?",
                    (state, verdict.image_id),
                )
                verdict.state = state
        return queued

    def mark_verdicts_exported(self) -> int:
        """Applied verdicts are now part of an export; returns how many were marked."""
        with self.transaction() as db:
            cur = db.execute(
                "UPDATE human_verdicts SET state = 'exported' WHERE state = 'applied'"
            )
        return cur.rowcount

    def human_rejections(self) -> int:
        """Images a person rejected (their refills are owed attempts beyond the budget)."""
        (n,) = self._db.execute(
            "SELECT COUNT(*) FROM human_verdicts WHERE verdict = 'rejected' AND state != 'queued'"
        ).fetchone()
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

    def rounds(self) -> list[int]:
        """The rounds that have a work list, in order."""
        return [r for (r,) in self._db.execute("SELECT DISTINCT round FROM work ORDER BY round")]

    def work_units(self, image_ids: Iterable[str]) -> dict[str, WorkUnit]:
        """image id -> the work unit that drew it, for those of `image_ids` a work list holds."""
        wanted = set(image_ids)
        items = sorted({i.rsplit("-a", 1)[0] for i in wanted})
        out: dict[str, WorkUnit] = {}
        for chunk in _chunks(items, 500):
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT item FROM work WHERE json_extract(item, '$.item_id') IN ({marks})", chunk
            )
            for (text,) in rows:
                unit = WorkUnit.model_validate_json(text)
                if unit.image_id in wanted:
                    out[unit.image_id] = unit
        return out

    def planned_image_ids(self, image_ids: Iterable[str]) -> set[str]:
        """Those of `image_ids` that some round's work list planned."""
        return set(self.work_units(image_ids))

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
