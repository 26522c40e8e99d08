"""The report's first screen: what independent checks saw against what was asked.

Counting the build's own labels against its plan cannot disagree: facetory wrote both. The
headline instead counts, per requested attribute, how many accepted images an independent
check (the critic's models, never the generator's ground truth) judged, and how many of those
it saw as planned. "Complete" means every class quota is met *and* no accepted image
contradicts its plan on any check; the largest gaps are said in words, worst first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from tools.contracts import ManifestRecord, Requirement, Status
from tools.outputs.detection_score import RealFaceEvaluation

#: An attribute whose check agrees on less than this share of judged images is a gap worth a
#: sentence even when the counts are small.
GAP_AGREEMENT = 0.98
#: Asked-versus-seen shifts (total variation distance) at or above this are named.
GAP_SHIFT = 0.10


class CheckAgreement(BaseModel):
    """One requested attribute: accepted images planned with it, judged by a check, agreeing."""

    factor: str
    accepted: int
    judged: int
    agree: int

    @property
    def agreement(self) -> float | None:
        """Share of judged accepted images the check saw as planned; None when none judged."""
        return self.agree / self.judged if self.judged else None

    @property
    def contradict(self) -> int:
        return self.judged - self.agree


class Headline(BaseModel):
    """The verdict and the evidence the first screen shows."""

    quotas_met: bool
    checks: list[CheckAgreement] = Field(default_factory=list)
    contradicting_images: int = 0
    """Accepted images that at least one check saw differently from their plan."""
    unchecked: list[str] = Field(default_factory=list)
    """Requirements nothing checks, in the trace's words."""
    gaps: list[str] = Field(default_factory=list)
    """The largest gaps in words, worst first."""

    @property
    def complete(self) -> bool:
        return self.quotas_met and self.contradicting_images == 0


def check_agreement(records: Sequence[ManifestRecord]) -> list[CheckAgreement]:
    """Per factor some accepted image was judged on: planned, judged and agreeing counts."""
    accepted = [r for r in records if r.status == Status.accepted]
    factors = sorted({f for r in accepted for f in r.verified})
    return [
        CheckAgreement(
            factor=f,
            accepted=sum(f in r.attributes for r in accepted),
            judged=sum(f in r.verified for r in accepted),
            agree=sum(bool(r.verified.get(f)) for r in accepted if f in r.verified),
        )
        for f in factors
    ]


def _check_gap(check: CheckAgreement) -> tuple[float, str] | None:
    share = check.agreement
    if share is None or share >= GAP_AGREEMENT and not check.contradict:
        return None
    words = check.factor.replace("_", " ")
    return (1.0 - share, f"{words}: the check sees {check.contradict} of {check.judged} judged "
                         f"accepted images ({1.0 - share:.0%}) differently from their plan")


def _unjudged_gap(check: CheckAgreement) -> tuple[float, str] | None:
    missing = check.accepted - check.judged
    if missing <= 0 or not check.accepted:
        return None
    share = missing / check.accepted
    words = check.factor.replace("_", " ")
    return (share / 2, f"{words}: {missing} of {check.accepted} accepted images "
                       f"({share:.0%}) could not be judged")


def _shift_gap(seen: dict[str, Any]) -> tuple[float, str] | None:
    if seen["tvd"] < GAP_SHIFT:
        return None
    level, asked, got = max(seen["rows"], key=lambda row: abs(row[1] - row[2]))
    words = seen["factor"].replace("_", " ")
    return (seen["tvd"], f"{words}: asked {asked:.0%} {level}, the independent models see "
                         f"{got:.0%} ({seen['seen_n']} accepted images read)")


def _real_gap(real: RealFaceEvaluation | None) -> str | None:
    """The trained detector on real photographs against the Haar cascade, when it trails."""
    if real is None or real.model.recall >= real.haar.recall - 0.05:
        return None
    model, haar = real.model, real.haar
    return (f"real faces: the detector trained on this dataset finds {model.true_positives} "
            f"of {model.faces} faces in real photographs ({model.recall:.0%}); OpenCV's Haar "
            f"cascade finds {haar.true_positives} ({haar.recall:.0%})")


def headline(
    records: Sequence[ManifestRecord],
    requirements: Sequence[Requirement],
    *,
    quotas_met: bool,
    seen: Sequence[dict[str, Any]] = (),
    real: RealFaceEvaluation | None = None,
) -> Headline:
    """The first screen's verdict; `seen` is the audit's asked-versus-seen per factor and
    `real` the trained detector's real-face check. A detector that misses real faces is the
    first gap: a dataset is worth what a model trained on it does on real data."""
    checks = check_agreement(records)
    contradicting = sum(
        1 for r in records
        if r.status == Status.accepted and not all(r.verified.values())
    )
    unchecked = [r.asked for r in requirements if "not checked" in r.flags]
    scored = [g for c in checks for g in (_check_gap(c), _unjudged_gap(c)) if g]
    scored += [g for s in seen if (g := _shift_gap(s))]
    gaps = [text for _, text in sorted(scored, key=lambda g: -g[0])]
    gaps = [g for g in (_real_gap(real),) if g] + gaps
    gaps += [f"{asked}: nothing checks it" for asked in unchecked]
    return Headline(quotas_met=quotas_met, checks=checks, contradicting_images=contradicting,
                    unchecked=unchecked, gaps=gaps)
