"""Benchmark: the quickstart build end to end, then its YOLO model on the held-out test split.

Runs what `make demo` runs (plan -> generate -> critique -> dedup -> export -> train -> report,
procedural backend, built-in critic, faults on) and prints the test-split mAP50 (goal: at
least 0.8), the class-agnostic face-detection mAP50 (faces found, whatever class they get), and
the wall time of each stage. The baseline, measured in the same run, is the same model trained
for one epoch on the same export: the gap is what training bought.

    .venv/bin/python bench/bench_train.py [--spec specs/quickstart.txt] [--epochs 30] [--imgsz 160]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from agent.runtime.events import EventLog
from agent.runtime.finish_inputs import stage_seconds
from tools.outputs.train import train_yolo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default="specs/quickstart.txt")
    parser.add_argument("--epochs", type=int, default=None, help="default: facetory's")
    parser.add_argument("--imgsz", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None, help="keep the build here")
    args = parser.parse_args()

    out = args.out or Path(tempfile.mkdtemp(prefix="bench_train_")) / "build"
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "agent", "build", args.spec, "--out", str(out), "--yes",
               "--offline"]
    if args.epochs:
        command += ["--epochs", str(args.epochs)]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    total = time.perf_counter() - start

    metrics = json.loads(next((out / "runs").glob("*/metrics.json")).read_text())
    stages = stage_seconds(EventLog(out / "events.jsonl").read())
    baseline = train_yolo(out / "dataset", metrics["task"], out / "runs", epochs=1,
                          imgsz=metrics["imgsz"], name="baseline_1_epoch").metrics

    print(f"quickstart build ({args.spec}), {metrics['images']} images per split, "
          f"{metrics['epochs']} epochs at {metrics['imgsz']} px on {metrics['device']}")
    overall, base = metrics["overall"], baseline["overall"]
    print(f"{'':<22}{'mAP50':>8}{'mAP50-95':>10}{'precision':>11}{'recall':>8}")
    for label, m in (("trained (test split)", overall), ("baseline: 1 epoch", base)):
        print(f"{label:<22}{m['mAP50']:>8.3f}{m['mAP50-95']:>10.3f}{m['precision']:>11.3f}"
              f"{m['recall']:>8.3f}")
    for name, m in metrics["per_class"].items():
        print(f"  {name:<20}{m['mAP50']:>8.3f}{m['mAP50-95']:>10.3f}")
    if "face_detection" in metrics:
        print(f"faces found, any class: mAP50 {metrics['face_detection']['mAP50']:.3f}")
    print(f"goal: test mAP50 >= 0.8 -> {'met' if overall['mAP50'] >= 0.8 else 'NOT met'}")
    print("wall time per stage (s): " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items()))
    print(f"whole build: {total:.0f} s (goal: at most 600 s on a 2-core machine)")


if __name__ == "__main__":
    main()
