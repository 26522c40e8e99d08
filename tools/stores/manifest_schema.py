"""The manifest's tables and the typed rows kept in them.

`SCHEMA` is the whole of `manifest.sqlite`'s layout (run on every open, so it is also the
migration); `WorkUnit` and `HumanVerdict` are what the `work` and `human_verdicts` tables hold.
Apart from `manifest`, whose `Manifest` runs the queries, so the layout reads in one place.
"""

from __future__ import annotations

import sqlite3
from typing import Literal

from pydantic import BaseModel

from tools.contracts import Guidance, Seed

SCHEMA = """
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
CREATE TABLE IF NOT EXISTS human_verdicts (
    image_id   TEXT PRIMARY KEY,
    verdict    TEXT NOT NULL,
    reason     TEXT NOT NULL,
    decided_at REAL NOT NULL,
    state      TEXT NOT NULL DEFAULT 'queued'
);
"""
# `human_verdicts` came later than the other tables: `CREATE TABLE IF NOT EXISTS` is its
# migration, so a manifest written before it gains the (empty) table the first time it is opened.

#: Columns added to existing tables after their first release: (table, column, type). Each is
#: added on open to a manifest that lacks it (`add_columns`), so an old manifest keeps working.
ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    # the SHA-256 of an accepted image's file, checked on every run start
    ("images", "sha256", "TEXT"),
)


def add_columns(db: sqlite3.Connection) -> None:
    """Bring an older manifest's tables up to `ADDED_COLUMNS` (new columns start empty)."""
    for table, column, kind in ADDED_COLUMNS:
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if column not in have:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


class HumanVerdict(BaseModel):
    """A person's decision on one image, overriding the critic's.

    `state`: queued (recorded, not yet applied to the image's status, e.g. while a build holds
    the lock), applied (the image's status follows it), exported (a later export included it),
    refused (an acceptance that came too late: the item had been refilled meanwhile).
    """

    image_id: str
    verdict: Literal["accepted", "rejected"]
    reason: str
    decided_at: float
    state: Literal["queued", "applied", "exported", "refused"] = "queued"


class WorkUnit(BaseModel):
    """One planned attempt: which item, which attempt, and the generation settings to use."""

    item_id: str
    attempt: int
    seed: Seed
    prompt: str
    negative_prompt: str
    guidance_scale: Guidance | None = None

    @property
    def image_id(self) -> str:
        return f"{self.item_id}-a{self.attempt}"
