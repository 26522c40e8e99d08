"""Planning a million images over six factors: time, and how far the plan is from its targets.

Goal: under 2 s on the CI machine (2 cores), every level within one image of its target and
every pair of factors within one image of its expected count. Baseline, measured in the same
run: independent random sampling of each factor (the usual script approach), whose misses grow
with the square root of the count.

    .venv/bin/python bench/bench_plan.py [--images 1000000] [--repeats 3]

Prints the figures and writes them to bench/out/bench_plan.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from agent.language.spec import DatasetSpec
from agent.planning.planner import make_plan
from tools.atomic import write_text
from tools.vocabulary import FACTORS

OUT = Path(__file__).resolve().parent / "out"
SHARES = {"eyewear": {"none": 0.6, "glasses": 0.3, "sunglasses": 0.1}}


def bench_spec(images: int) -> DatasetSpec:
    factors = []
    for name in ("skin_tone", "age_group", "gender", "expression", "head_pose", "eyewear"):
        if name in SHARES:
            levels = [{"name": lv, "proportion": p} for lv, p in SHARES[name].items()]
            factors.append({"name": name, "levels": levels})
        else:
            factors.append(
                {"name": name, "balanced": True, "levels": [{"name": lv} for lv in FACTORS[name]]}
            )
    return DatasetSpec.from_data(
        {"name": "bench", "classes": [{"name": "face", "quota": images}], "factors": factors}
    )


def deviations(codes: list[np.ndarray], shares: list[np.ndarray]) -> tuple[float, float]:
    """Largest |count - n x share| and |pair count - n_a x n_b / n| (same as Plan.balance)."""
    n = codes[0].size
    marginal = max(
        float(np.abs(np.bincount(c, minlength=len(s)) - n * s).max())
        for c, s in zip(codes, shares, strict=True)
    )
    pairwise = 0.0
    for i in range(len(codes)):
        for j in range(i):
            la, lb = len(shares[i]), len(shares[j])
            table = np.bincount(codes[i] * lb + codes[j], minlength=la * lb).reshape(la, lb)
            expected = np.outer(table.sum(1), table.sum(0)) / n
            pairwise = max(pairwise, float(np.abs(table - expected).max()))
    return marginal, pairwise


def random_sampling(spec: DatasetSpec, seed: int) -> tuple[float, float, float]:
    """The baseline: each factor drawn independently with its target shares."""
    rng = np.random.default_rng(seed)
    n = spec.total
    start = time.perf_counter()
    shares = [np.array(list(f.targets().values())) for f in spec.factors]
    splits = np.array(list(spec.splits.shares().values()))
    codes = [rng.choice(len(s), size=n, p=s) for s in [splits, *shares]]
    seconds = time.perf_counter() - start
    return seconds, *deviations(codes, [splits, *shares])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    spec = bench_spec(args.images)

    times = []
    plan = None
    for _ in range(args.repeats):
        start = time.perf_counter()
        plan = make_plan(spec)
        times.append(time.perf_counter() - start)
    balance = plan.balance()
    start = time.perf_counter()
    first = [plan.items[i] for i in range(10_000)]
    item_us = (time.perf_counter() - start) / len(first) * 1e6
    base_s, base_marginal, base_pairwise = random_sampling(spec, seed=0)

    factors = ", ".join(f"{f.name}({len(f.levels)})" for f in spec.factors)
    print(f"plan of {args.images:,} images over {len(spec.factors)} factors + split: {factors}")
    print(f"{'':28}{'time s':>10}{'max level miss':>16}{'max pair miss':>15}")
    print(
        f"{'balanced planner':28}{statistics.median(times):>10.3f}"
        f"{balance['marginal']:>16.3f}{balance['pairwise']:>15.3f}"
        f"   (runs: {', '.join(f'{t:.3f}' for t in times)})"
    )
    print(
        f"{'independent random sampling':28}{base_s:>10.3f}{base_marginal:>16.1f}"
        f"{base_pairwise:>15.1f}"
    )
    print(f"goal: < 2 s, misses <= 1 image; PlanItem made on demand: {item_us:.1f} us each")
    figures = {
        "images": args.images,
        "factors": [f.name for f in spec.factors],
        "plan_seconds": times,
        "plan_marginal": balance["marginal"],
        "plan_pairwise": balance["pairwise"],
        "random_seconds": base_s,
        "random_marginal": base_marginal,
        "random_pairwise": base_pairwise,
        "planitem_us": item_us,
    }
    write_text(OUT / "bench_plan.json", json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
