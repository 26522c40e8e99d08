"""How well the age-and-gender model reads a backend's people, and where `auto` enforces it.

The figures are data (`readability.yaml`), measured and written by
`python bench/bench_render.py --only readability --write-table`: per backend and planned age
group, the share of clean frontal renders the model reads inside the group's band, and the
share whose gender it reads right and confidently. A check rejects on an age group only where
its share meets the bar (the goals of issue 22: 70% for age, 90% for gender): below it a
rejection would more often be the model's blindness than a wrong drawing, so the reading is
measured and reported there, and the requirement trace says so.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from tools.atomic import write_text

TABLE = Path(__file__).with_name("readability.yaml")
#: The checks a backend's readability is measured for; each is gated per age group.
CHECKS: tuple[str, ...] = ("age_group", "gender")


class Readability(BaseModel):
    """One backend's measured readability: per check, per planned age group, a share."""

    model_config = ConfigDict(extra="forbid")

    renders: int = Field(ge=1)
    """Clean frontal renders measured per age group (half of each gender)."""
    age_group: dict[str, float]
    """Share read inside the planned group's band (as `demographics.verified` judges)."""
    gender: dict[str, float]
    """Share whose planned gender the model reads, at its confidence threshold."""


class ReadabilityTable(BaseModel):
    """The bars a share must meet, and each measured backend's shares."""

    model_config = ConfigDict(extra="forbid")

    command: str
    """What measured it (run it again after the drawing changes)."""
    bar: dict[str, float]
    """Per check, the share at which it is enforced."""
    backends: dict[str, Readability]


def load(path: Path = TABLE) -> ReadabilityTable:
    """The table at `path`."""
    return ReadabilityTable.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def table() -> ReadabilityTable:
    """The shipped table, read once."""
    return load()


def enforced_groups(
    backend: str, measured: ReadabilityTable | None = None
) -> dict[str, frozenset[str]]:
    """Per check, the age groups whose measured share meets the bar (none for a backend not
    measured: its readings are recorded, never rejected on)."""
    measured = measured or table()
    found = measured.backends.get(backend)
    if found is None:
        return {check: frozenset() for check in CHECKS}
    return {
        check: frozenset(g for g, share in getattr(found, check).items()
                         if share >= measured.bar[check])
        for check in CHECKS
    }


def write(backend: str, figures: Readability, path: Path = TABLE) -> None:
    """Record one backend's figures in the table at `path` (the others are kept)."""
    known = load(path)
    known.backends[backend] = figures
    body = known.model_dump()
    head = ("# Written by bench/bench_render.py --write-table; read by tools/critic/"
            "readability.py (what each key means is documented there).\n")
    write_text(path, head + yaml.safe_dump(body, sort_keys=False))
