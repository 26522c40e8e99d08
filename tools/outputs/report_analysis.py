"""The figures the build report shows, computed from its inputs: plan versus achieved per
class and per attribute cell, rejection reasons, pass rate and faithfulness per group and the
largest gap between groups, asked-for versus produced distributions, and FNMR at a fixed FMR.

Plain data (pydantic rows and dicts), no HTML: `report` turns them into the page, and tests
read them directly.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel

from tools.contracts import ManifestRecord, Status
from tools.outputs import report_charts as charts
from tools.outputs.contracts import ReportInputs
from tools.vocabulary import FACTORS


class ClassRow(BaseModel):
    name: str
    target: int
    accepted: int
    rejected: int
    duplicate: int
    pending: int
    top_reasons: list[tuple[str, int]]
    explanation: str

    @property
    def attempts(self) -> int:
        return self.accepted + self.rejected + self.duplicate

    @property
    def shortfall(self) -> int:
        return max(0, self.target - self.accepted)

    @property
    def ratio(self) -> float:
        return self.accepted / self.target if self.target else 1.0


class GroupRow(BaseModel):
    level: str
    attempts: int
    accepted: int
    mean_score: float
    mean_faithfulness: float
    mismatch_rate: float
    """Share of attempts rejected for not showing this factor's requested level."""

    @property
    def pass_rate(self) -> float:
        return self.accepted / self.attempts if self.attempts else 0.0


def _finished(records: Sequence[ManifestRecord]) -> list[ManifestRecord]:
    return [r for r in records if r.status != Status.pending]


def rejection_reasons(record: ManifestRecord) -> list[str]:
    """Why a record was turned away (a duplicate without reasons: "duplicate")."""
    if record.status == Status.duplicate:
        return record.reasons or ["duplicate"]
    return record.reasons or ["unspecified"]


def class_rows(inputs: ReportInputs) -> list[ClassRow]:
    """Per class: target, what became of every attempt, and why it is short (if it is)."""
    names = list(inputs.class_targets) or []
    names += sorted({r.class_name for r in inputs.records} - set(names))
    by_class: dict[str, list[ManifestRecord]] = defaultdict(list)
    for r in inputs.records:
        by_class[r.class_name].append(r)
    rows = []
    for name in names:
        recs = by_class.get(name, [])
        status = Counter(r.status.value for r in recs)
        reasons = Counter(
            reason for r in recs if r.status in (Status.rejected, Status.duplicate)
            for reason in rejection_reasons(r)
        )
        target = inputs.class_targets.get(name, 0)
        row = ClassRow(
            name=name,
            target=target,
            accepted=status.get("accepted", 0),
            rejected=status.get("rejected", 0),
            duplicate=status.get("duplicate", 0),
            pending=status.get("pending", 0),
            top_reasons=reasons.most_common(3),
            explanation="",
        )
        row.explanation = _explain(row)
        rows.append(row)
    return rows


def _explain(row: ClassRow) -> str:
    if row.target and row.accepted >= row.target:
        extra = f", {row.accepted - row.target} over" if row.accepted > row.target else ""
        return f"met{extra}"
    if not row.target:
        return "not in the plan"
    parts = [f"{row.shortfall} short"]
    if row.attempts:
        parts.append(f"{row.attempts} attempts, {row.accepted / row.attempts:.0%} accepted")
    else:
        parts.append("nothing generated yet")
    if row.top_reasons:
        parts.append("mostly " + ", ".join(f"{k} ({v})" for k, v in row.top_reasons))
    if row.pending:
        parts.append(f"{row.pending} still waiting for the critic")
    return "; ".join(parts)


def cell_tables(inputs: ReportInputs) -> dict[str, dict[str, Any]]:
    """Per factor: a class x level table of (achieved, target) and the short cells explained."""
    accepted = [r for r in inputs.records if r.status == Status.accepted]
    factors: dict[str, list[str]] = {}
    for per_class in inputs.cell_targets.values():
        for factor, levels in per_class.items():
            known = factors.setdefault(factor, [])
            known += [lv for lv in levels if lv not in known]
    classes = list(inputs.class_targets) or list(inputs.cell_targets)
    tables = {}
    for factor, levels in factors.items():
        got = Counter((r.class_name, r.attributes.get(factor)) for r in accepted)
        fails = defaultdict(Counter)
        for r in _finished(inputs.records):
            if r.status != Status.accepted:
                fails[(r.class_name, r.attributes.get(factor))].update(rejection_reasons(r))
        rows, short = [], []
        for cls in classes:
            targets = inputs.cell_targets.get(cls, {}).get(factor, {})
            cells = []
            for lv in levels:
                target = targets.get(lv)
                achieved = got.get((cls, lv), 0)
                ratio = None if not target else achieved / target
                cells.append({"achieved": achieved, "target": target, "ratio": ratio,
                              "color": charts.heat_color(ratio if target else None)})
                if target and achieved < target:
                    top = fails[(cls, lv)].most_common(2)
                    why = ", ".join(f"{k} ({v})" for k, v in top) or "not attempted enough"
                    short.append(f"{cls} · {lv}: {achieved}/{target} — {why}")
            rows.append({"name": cls, "cells": cells})
        tables[factor] = {"levels": levels, "rows": rows, "short": short}
    return tables


def reason_matrix(records: Sequence[ManifestRecord], classes: Sequence[str]) -> dict[str, Any]:
    """Rejection reasons (rows) by class (columns), duplicates included."""
    counts: Counter = Counter()
    for r in records:
        if r.status in (Status.rejected, Status.duplicate):
            for reason in rejection_reasons(r):
                counts[(reason, r.class_name)] += 1
    totals = Counter()
    for (reason, _), n in counts.items():
        totals[reason] += n
    reasons = [reason for reason, _ in totals.most_common()]
    top = max(counts.values(), default=0)
    rows = [
        {
            "reason": reason,
            "total": totals[reason],
            "cells": [
                {"n": counts.get((reason, c), 0),
                 "color": charts.count_color(counts.get((reason, c), 0), top)}
                for c in classes
            ],
        }
        for reason in reasons
    ]
    return {"classes": list(classes), "rows": rows}


def group_stats(records: Sequence[ManifestRecord], factor: str) -> list[GroupRow]:
    """Pass rate, critic score and faithfulness per level of `factor` (finished attempts only)."""
    by_level: dict[str, list[ManifestRecord]] = defaultdict(list)
    for r in _finished(records):
        level = r.attributes.get(factor)
        if level is not None:
            by_level[level].append(r)
    mismatch = f"attribute_mismatch:{factor}"
    rows = []
    for level, recs in by_level.items():
        rows.append(
            GroupRow(
                level=level,
                attempts=len(recs),
                accepted=sum(r.status == Status.accepted for r in recs),
                mean_score=float(np.mean([r.score for r in recs])),
                mean_faithfulness=float(np.mean([r.faithfulness for r in recs])),
                mismatch_rate=sum(mismatch in r.reasons for r in recs) / len(recs),
            )
        )
    return sorted(rows, key=lambda g: _level_key(factor, g.level))


def _level_key(factor: str, level: str) -> tuple[int, str]:
    """Levels in vocabulary order (monk_1..monk_10, child..old), unknown ones after."""
    levels = FACTORS.get(factor, ())
    return (levels.index(level), level) if level in levels else (len(levels), level)


def disparity(rows: Sequence[GroupRow], min_attempts: int = 1) -> dict[str, Any] | None:
    """The largest pass-rate gap between two levels (levels with enough attempts)."""
    usable = [g for g in rows if g.attempts >= min_attempts]
    if len(usable) < 2:
        return None
    best = max(usable, key=lambda g: g.pass_rate)
    worst = min(usable, key=lambda g: g.pass_rate)
    return {"gap": best.pass_rate - worst.pass_rate, "best": best.level, "worst": worst.level,
            "best_rate": best.pass_rate, "worst_rate": worst.pass_rate}


def distributions(inputs: ReportInputs) -> list[dict[str, Any]]:
    """Asked-for versus produced share of each level, per factor (and of the classes)."""
    accepted = [r for r in inputs.records if r.status == Status.accepted]
    out = []
    if inputs.class_targets:
        asked = _shares(inputs.class_targets)
        produced = _shares(Counter(r.class_name for r in accepted), keys=list(asked))
        out.append(_distribution("class", asked, produced))
    factor_targets: dict[str, Counter] = defaultdict(Counter)
    for per_class in inputs.cell_targets.values():
        for factor, levels in per_class.items():
            factor_targets[factor].update(levels)
    for factor, targets in factor_targets.items():
        asked = _shares(targets)
        produced = _shares(Counter(r.attributes.get(factor) for r in accepted
                                   if r.attributes.get(factor) is not None), keys=list(asked))
        out.append(_distribution(factor, asked, produced))
    return out


def _shares(counts: dict[str, int] | Counter, keys: list[str] | None = None) -> dict[str, float]:
    keys = keys if keys is not None else list(counts)
    keys = keys + [k for k in counts if k not in keys]
    total = sum(counts.values())
    return {k: (counts.get(k, 0) / total if total else 0.0) for k in keys}


def _distribution(factor: str, asked: dict[str, float], produced: dict[str, float]) -> dict:
    levels = list(asked) + [k for k in produced if k not in asked]
    tvd = 0.5 * sum(abs(asked.get(k, 0.0) - produced.get(k, 0.0)) for k in levels)
    rows = [(lv, asked.get(lv, 0.0), produced.get(lv, 0.0)) for lv in levels]
    return {"factor": factor, "tvd": tvd, "rows": rows}


def fnmr_at_fmr(mated: Sequence[float], non_mated: Sequence[float],
                fmr: float = 0.01) -> tuple[float, float]:
    """(threshold, FNMR): the threshold that lets at most `fmr` of non-mated pairs match.

    A pair matches when its similarity is above the threshold; FNMR is the share of mated
    pairs that do not.
    """
    if not mated or not non_mated:
        return math.nan, math.nan
    threshold = float(np.quantile(np.asarray(non_mated, float), 1.0 - fmr, method="higher"))
    return threshold, float(np.mean(np.asarray(mated, float) <= threshold))
