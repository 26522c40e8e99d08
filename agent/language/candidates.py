"""Candidate readings: where the reader's first reading leaves words unexplained, read the
request again with each rewrite of `tools/vocabulary/accounting.yaml` (slash, pipe or 'vs.'
lists, 'per category', 'the remainder' ...), alone and together, and keep the readings whose
spec explains every number and word of the request as written. One survivor is planned; several
are a question naming them; none leaves the first reading's question.
"""

from __future__ import annotations

import itertools
import re

from agent.language.accounting import RULES, Question, Unexplained, account
from agent.language.reader import parse_offline
from agent.language.safety import RefusedError
from agent.language.spec import DatasetSpec, SpecError

#: Readings tried at most, so a request nothing explains stays quick to refuse.
MAX_CANDIDATES = 6
_REWRITES = [
    (r["name"], re.compile(r["pattern"], re.IGNORECASE | re.MULTILINE), r["replace"])
    for r in RULES["rewrites"]
]


def _rewritten(text: str) -> list[str]:
    """The request under every combination of the rewrites that apply to it."""
    apply, cumulative = [], text
    for _, rx, rep in _REWRITES:  # one that applies once an earlier one has ('a, b, c --')
        if rx.search(cumulative):
            apply.append((rx, rep))
            cumulative = rx.sub(rep, cumulative)
    out: list[str] = []
    for k in range(len(apply), 0, -1):  # every rewrite first, then fewer
        for combo in itertools.combinations(apply, k):
            new = text
            for rx, rep in combo:
                new = rx.sub(rep, new)
            if new not in out:
                out.append(new)
    return out[:MAX_CANDIDATES]


def _survivors(text: str) -> list[DatasetSpec]:
    found: dict[str, DatasetSpec] = {}
    for candidate in _rewritten(text):
        try:
            spec = parse_offline(candidate)
        except SpecError:
            continue
        if account(text, spec).ok and account(candidate, spec).ok:
            found.setdefault(spec.model_dump_json(), spec)
    return list(found.values())


def read_offline(text: str) -> DatasetSpec:
    """The reader, then its accounting; candidate readings where the first one fails."""
    try:
        spec = parse_offline(text)
        first: SpecError = Question(account(text, spec).unexplained)
        if not first.items:  # type: ignore[attr-defined]
            return spec
    except RefusedError:
        raise
    except SpecError as exc:
        first = exc
    survivors = _survivors(text)
    if len(survivors) == 1:
        return survivors[0]
    if len(survivors) > 1:
        from agent.language.requirements import understood

        readings = tuple(understood(s) for s in survivors[:3])
        raise Question([Unexplained(text.strip()[:60], "which reading?", readings, "reading")])
    raise first
