"""How well dlib's face descriptor tells the procedural renderer's synthetic people apart.

    .venv/bin/python bench/bench_identity_separability.py [--people 20] [--images 6]

Clean renders (no faults), described at the ground-truth box, scored with
`tools.outputs.identity_metrics.identity_metrics`. Three sets, each `people x images`:
- mixed: every person has its own gender, ethnicity and age group; each image varies
  expression, head pose, eyewear, hat, lighting and background (a face-recognition build);
- one demographic: the same, but every person is a young-adult woman of skin tone monk_4, so
  only the identity parameters separate people (the hardest case for the renderer);
- aging: each person once per age group (child .. old), expression varied.
Printed per set: mated and non-mated mean cosine, d', EER, FNMR at FMR = 0.01; the baseline
measured in the same run is the mixed set with identity labels shuffled (chance level).
Saves bench/out/identity_sheet.png: 6 people (rows) x 4 variations (columns).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.contracts import PlanItem  # noqa: E402
from tools.generate.procedural import ProceduralGenerator  # noqa: E402
from tools.outputs.identity_metrics import IdentityMetrics, IdentitySample, identity_metrics  # noqa: E402
from tools.stores.embed import face_descriptor  # noqa: E402
from tools.vocabulary import FACTORS  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
VARIED = ("expression", "head_pose", "eyewear", "hat", "lighting", "background")
ETHNICITIES = ("white", "african", "asian", "south_asian", "hispanic")
ADULT_AGES = ("young_adult", "middle_aged", "elderly")


def person_items(people: int, images: int, seed: int, mode: str) -> list[PlanItem]:
    """Plan items: per-person demographics fixed, per-image factors drawn at random."""
    rng = np.random.default_rng(seed)
    items = []
    for p in range(people):
        if mode == "one_demographic":
            fixed = {"gender": "female", "skin_tone": "monk_4", "age_group": "young_adult"}
        else:
            fixed = {"gender": ("female", "male")[p % 2],
                     "ethnicity": ETHNICITIES[p % len(ETHNICITIES)],
                     "age_group": ADULT_AGES[p % len(ADULT_AGES)]}
        for i in range(images):
            attrs = dict(fixed)
            if mode == "aging":
                attrs["age_group"] = FACTORS["age_group"][i % 6]
                attrs["expression"] = str(rng.choice(FACTORS["expression"]))
            else:
                attrs.update({f: str(rng.choice(FACTORS[f])) for f in VARIED})
            items.append(PlanItem(id=f"{mode}-{p}-{i}", **{"class": "face"},
                                  seed=int(rng.integers(2**40)), attributes=attrs,
                                  identity=f"{mode}-person-{seed}-{p}"))
    return items


def describe(items: list[PlanItem], size: int) -> tuple[list[IdentitySample], list[np.ndarray]]:
    gen = ProceduralGenerator(image_size=size)
    samples, images = [], []
    for item in items:
        rgb, truth = gen.render_clean(item)
        images.append(rgb)
        samples.append(IdentitySample(item.id, item.identity,
                                      face_descriptor(rgb, truth.faces[0].box), item.attributes))
    return samples, images


def line(name: str, m: IdentityMetrics) -> str:
    def f(x, p=3):
        return "n/a" if x is None else f"{x:.{p}f}"

    return (f"  {name:<28} mated {f(m.mated_summary.mean)}  non-mated "
            f"{f(m.non_mated_summary.mean)}  d' {f(m.d_prime, 2)}  EER {f(m.eer)}  "
            f"FNMR@FMR=0.01 {f(m.fnmr_at(0.01))}")


def sheet(images: list[np.ndarray], people: int, images_per: int, path: Path) -> None:
    """Rows are people, columns their first four images."""
    cols = min(4, images_per)
    rows = [np.hstack([images[p * images_per + c] for c in range(cols)])
            for p in range(min(6, people))]
    cv2.imwrite(str(path), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--images", type=int, default=6)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"clean procedural renders, {args.people} people x {args.images} images, "
          f"{args.size} px, dlib descriptor at the truth box")
    t0 = time.perf_counter()
    results = {}
    pictures = {}
    for mode in ("mixed", "one_demographic", "aging"):
        images = 6 if mode == "aging" else args.images
        samples, pictures[mode] = describe(
            person_items(args.people, images, args.seed, mode), args.size)
        results[mode] = (samples, identity_metrics(samples, seed=args.seed))
    mixed = results["mixed"][0]
    labels = np.random.default_rng(args.seed).permutation([s.identity for s in mixed])
    chance = identity_metrics([IdentitySample(s.image_id, str(lab), s.descriptor)
                               for s, lab in zip(mixed, labels, strict=True)], seed=args.seed)
    for mode, (_, metrics) in results.items():
        print(line(mode, metrics))
    print(line("baseline: shuffled labels", chance))
    OUT.mkdir(exist_ok=True)
    sheet(pictures["mixed"], args.people, args.images, OUT / "identity_sheet.png")
    sheet(pictures["aging"], args.people, 6, OUT / "identity_sheet_aging.png")
    print(f"({time.perf_counter() - t0:.1f}s; sheets in {OUT}/identity_sheet*.png)")


if __name__ == "__main__":
    main()
