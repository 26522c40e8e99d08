"""The accounting's rules as data (`tools/vocabulary/accounting.yaml`) and what it reports.

Kept apart from `accounting` so the checks of the words around numbers and levels
(`agent.language.context`) and the accounting share them without importing each other.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from agent.language.reader.words import ACCOUNTING
from agent.language.reader.words import levels_of as _levels_of

RULES: dict[str, Any] = ACCOUNTING
_SHARE_WORD_START = re.compile(rf"^{RULES['share_words']}\s+")


@dataclass(frozen=True)
class Unexplained:
    """Words of the request no fact of the spec explains, why, and the readings that would."""

    words: str
    why: str
    candidates: tuple[str, ...] = ()
    kind: str = "share"
    """'share': the candidates are shares to pick; 'reading': whole readings, listed only."""

    def line(self) -> str:
        return f"'{self.words}' - {self.why}"

    def options(self) -> str:
        """' 25% / 50% / other' for a share to pick, ' (1) ... (2) ...' for whole readings."""
        if self.kind == "reading":
            return "".join(f" ({i}) {c}" for i, c in enumerate(self.candidates, 1))
        return f" {' / '.join(self.candidates)} / other" if self.candidates else ""

    @property
    def askable(self) -> bool:
        return bool(self.candidates) and self.kind == "share"

    def reading(self, choice: str) -> str:
        """The words this phrase stands for with `choice` as the answer ('30%')."""
        return _SHARE_WORD_START.sub(f"{choice} of ", self.words, count=1)


@functools.lru_cache(maxsize=4096)
def levels_of(phrase: str) -> tuple[tuple[str, str], ...]:
    """The vocabulary's (factor, level) readings of a phrase (cached: the same words recur)."""
    return tuple(_levels_of(phrase))
