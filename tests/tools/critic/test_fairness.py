"""The critic's checks are fair: a clean render is not rejected more often on one skin tone.

The same plan items are drawn at the lightest, middle and darkest Monk levels (the renderer
changes only the skin when only the skin tone changes), so the counts below differ by skin
tone alone, not by which heads, poses or eyewear each level happened to get.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from tools.contracts import PlanItem
from tools.critic import Critic, CriticConfig
from tools.critic import demographics as demo
from tools.critic.quality import QualityThresholds
from tools.vocabulary import FACTORS

TONES = ("monk_1", "monk_4", "monk_7", "monk_10")
ITEMS = 40
"""Plan items drawn at every tone (160 clean renders in all)."""
MAX_GAP = 2
"""Most clean rejections one check may give a tone beyond another (5 points of 40)."""


def plan_items(tone: str) -> list[PlanItem]:
    """Bench-like items (bench/bench_critic.py): every judged factor drawn at random, one
    face in six a pair; the same draws whatever the tone."""
    rng = np.random.default_rng(2026)
    items = []
    for i in range(ITEMS):
        attrs = {f: str(rng.choice(FACTORS[f]))
                 for f in ("eyewear", "expression", "head_pose", "eyes")}
        items.append(PlanItem(id=f"fair-{i}", **{"class": "face"}, seed=int(rng.integers(2**40)),
                              faces=2 if i % 6 == 5 else 1,
                              attributes={**attrs, "skin_tone": tone}))
    return items


@pytest.fixture(scope="module")
def renders(tmp_path_factory) -> dict[str, list[tuple[Path, PlanItem]]]:
    from tools.generate.procedural import ProceduralGenerator

    gen = ProceduralGenerator(image_size=256)
    folder = tmp_path_factory.mktemp("fairness")
    out: dict[str, list[tuple[Path, PlanItem]]] = {}
    for tone in TONES:
        out[tone] = []
        for item in plan_items(tone):
            path = folder / f"{tone}-{item.id}.png"
            cv2.imwrite(str(path), cv2.cvtColor(gen.render_clean(item)[0], cv2.COLOR_RGB2BGR))
            out[tone].append((path, item))
    return out


def rejections(critic: Critic, renders: dict) -> dict[str, Counter]:
    """Per tone, how many clean renders each reason code rejected ('any': rejected at all)."""
    counts = {}
    for tone, pairs in renders.items():
        verdicts = critic.judge_many(pairs)
        counts[tone] = Counter(r for v in verdicts for r in v.reasons)
        counts[tone]["any"] = sum(not v.passed for v in verdicts)
    return counts


def widest_gap(counts: dict[str, Counter]) -> tuple[str, int]:
    """The reason code whose rejection count differs most between two tones, and by how many."""
    codes = {c for by in counts.values() for c in by}
    gaps = {c: max(by[c] for by in counts.values()) - min(by[c] for by in counts.values())
            for c in codes}
    return max(gaps.items(), key=lambda kv: (kv[1], kv[0]), default=("", 0))


def critic_of(**settings) -> Critic:
    """The build's critic on the procedural renderer (age and gender only measured: off)."""
    return Critic(CriticConfig(demographics=demo.DemographicsConfig(factors=frozenset()),
                               **settings))


def test_no_check_rejects_clean_renders_of_one_skin_tone_more_than_another(renders):
    counts = rejections(critic_of(), renders)
    code, gap = widest_gap(counts)
    assert gap <= MAX_GAP, (code, {tone: dict(by) for tone, by in counts.items()})
    assert max(by["any"] for by in counts.values()) <= 4, counts  # and rejections stay rare


def test_an_exposure_bar_on_absolute_brightness_is_caught_as_unfair(renders):
    # a face 'too dark' by a fixed grey level is a dark-skinned face: the same measure
    # that passes the critic above must flag such a check
    counts = rejections(critic_of(quality=QualityThresholds(min_brightness=80.0)), renders)
    code, gap = widest_gap(counts)
    assert code in ("exposure", "any") and gap > MAX_GAP, counts
    assert counts["monk_10"]["exposure"] > counts["monk_1"]["exposure"]
