"""What a build's pictures hold that its plan did not ask for.

    .venv/bin/python bench/bench_unasked.py [BUILD_DIR] [--spec specs/quickstart.txt]

Re-draws every accepted image of a procedural build from its plan line (the attempt's seed,
no injected fault) with the renderer on the import path, reads the renderer's ground truth,
and prints, per worn or defect-like factor (eyewear, hat, mask, eye state), how many faces show
a level their plan line does not ask for; then how many manifest records carry a `variation`
and an injected fault. Without a build it does the same for every line of the spec's plan.
Run it with an older checkout first on PYTHONPATH to see what that renderer drew.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from collections import Counter
from pathlib import Path

import yaml

from tools.contracts import PlanItem
from tools.generate.procedural import ProceduralGenerator

WORN = {"eyewear": "none", "hat": "none", "mask": "none", "eyes": "open"}


def _planned(spec: str) -> tuple[list[PlanItem], list[dict]]:
    """Every line of the spec's plan, as if each were an accepted image."""
    from agent.language.parse import load_spec_source
    from agent.planning.planner import make_plan

    items = list(make_plan(load_spec_source(spec, offline=True)[1]).items)
    return items, [{"status": "accepted", "variation": getattr(it, "variation", {})}
                   for it in items]


def _built(root: Path) -> tuple[list[PlanItem], list[dict]]:
    """The plan line (at the attempt's seed) of each accepted image, and every record."""
    plan = {it["id"]: it for it in yaml.safe_load((root / "plan.yaml").read_text())["items"]}
    with sqlite3.connect(root / "manifest.sqlite") as db:
        records = [json.loads(r) for (r,) in db.execute("SELECT record FROM images")]
    items = [PlanItem.model_validate({**plan[r["item_id"]], "seed": r["seed"]})
             for r in records if r["status"] == "accepted"]
    return items, records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("build", type=Path, nargs="?")
    parser.add_argument("--spec", default="specs/quickstart.txt")
    args = parser.parse_args()
    items, records = _built(args.build) if args.build else _planned(args.spec)
    accepted = [r for r in records if r["status"] == "accepted"]
    renderer = ProceduralGenerator(image_size=64)  # levels do not depend on the size
    unasked: Counter[str] = Counter()
    faces = 0
    for item in items:
        for face in renderer.render_clean(item)[1].faces:
            faces += 1
            for factor, neutral in WORN.items():
                level = face.attributes.get(factor, neutral)
                if level != neutral and item.attributes.get(factor) != level:
                    unasked[f"{factor}={level}"] += 1
    what = "accepted images" if args.build else f"plan lines of {args.spec}"
    print(f"{len(accepted)} {what}, {faces} faces")
    print("drawn but not asked:", ", ".join(f"{k} {n}" for k, n in sorted(unasked.items()))
          or "nothing")
    listed = sum(bool(r.get("variation")) for r in records)
    print(f"{'records' if args.build else 'lines'} with a variation: {listed} of {len(records)}")
    if args.build:
        print(f"records with an injected fault: {sum(bool(r.get('faults')) for r in records)} "
              f"({sum(bool(r.get('faults')) for r in accepted)} accepted)")


if __name__ == "__main__":
    main()
