"""Benchmark: does the demo's detector, trained on synthetic faces, find real ones?

Builds a dataset as `make demo` does (the quickstart spec; `--n` plans a quickstart-like spec
of that many images instead), trains YOLO as the build does, and prints the trained model's
real-face recall at IoU 0.5 beside OpenCV's Haar cascade on the same images (the embedded
real set: LFW faces 0-49 composed on textures, and the photos that ship in scikit-image and
insightface), split by source, plus the synthetic test mAP50 with its bootstrap 95% interval.
The scoring is the product's (`tools.outputs.real_faces`, what `facetory evaluate` runs).

    .venv/bin/python bench/bench_transfer.py [--n 300] [--epochs 30] [--imgsz 160] [--out DIR]
    .venv/bin/python bench/bench_transfer.py --build DIR     # score a build already trained
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_parallel import spec_text

from tools.outputs.detection_score import DetectionScore, score_results
from tools.outputs.real_faces import (
    evaluate_run,
    haar_results,
    read_evaluation,
    read_real_set,
    resolve_real_set,
    yolo_results,
)
from tools.outputs.train import latest_metrics

ROOT = Path(__file__).resolve().parents[1]


def build(args: argparse.Namespace) -> Path:
    """The quickstart build (or one of `--n` images), trained, through the real command."""
    out = args.out or Path(tempfile.mkdtemp(prefix="bench_transfer_")) / "build"
    shutil.rmtree(out, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    spec = str(ROOT / "specs" / "quickstart.txt")
    if args.n is not None:
        spec = str(out.parent / "spec.yaml")
        Path(spec).write_text(spec_text(args.n))
    command = [sys.executable, "-m", "agent", "build", spec, "--out", str(out), "--yes",
               "--offline", "--real-faces", args.real]
    for option in ("epochs", "imgsz"):
        if getattr(args, option):
            command += [f"--{option}", str(getattr(args, option))]
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return out


def row(label: str, score: DetectionScore) -> str:
    ci = score.mAP50_ci95
    interval = f" [{ci.low:.3f}, {ci.high:.3f}]" if ci else ""
    return (f"{label:<34}{score.images:>7}{score.faces:>7}{score.recall:>8.3f}"
            f"{score.precision:>11.3f}{score.mAP50:>8.3f}{interval}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=None, help="images planned (default: the "
                        "quickstart spec, 300)")
    parser.add_argument("--epochs", type=int, default=None, help="default: facetory's")
    parser.add_argument("--imgsz", type=int, default=None, help="default: facetory's")
    parser.add_argument("--real", default="embedded", help="embedded or a YOLO/COCO folder")
    parser.add_argument("--out", type=Path, default=None, help="keep the build here")
    parser.add_argument("--build", type=Path, default=None, help="score this trained build")
    args = parser.parse_args()

    start = time.perf_counter()
    out = args.build or build(args)
    seconds = time.perf_counter() - start
    metrics = latest_metrics(out / "runs", out / "dataset")
    if metrics is None:
        sys.exit(f"{out} has no model trained on its current export")
    evaluation = read_evaluation(metrics)
    if evaluation is None or evaluation.real_set_path != str(resolve_real_set(args.real)):
        evaluation = evaluate_run(Path(metrics["weights"]).parent.parent / "metrics.json",
                                  args.real)

    images = read_real_set(evaluation.real_set_path)
    yolo = yolo_results(evaluation.weights, images, imgsz=evaluation.imgsz)
    haar = haar_results(images)
    print(f"{out}: {metrics['images']} images per split, {metrics['epochs']} epochs at "
          f"{metrics['imgsz']} px on {metrics['device']}"
          + (f", built and trained in {seconds:.0f} s" if not args.build else ""))
    print(f"{'faces found at IoU 0.5':<34}{'images':>7}{'faces':>7}{'recall':>8}"
          f"{'precision':>11}{'mAP50':>8}")
    if evaluation.synthetic is not None:
        print(row("YOLO, synthetic test split", evaluation.synthetic))
    print(row(f"YOLO, real ({evaluation.real_set})", evaluation.model))
    print(row(f"Haar, real ({evaluation.real_set})", evaluation.haar))
    for part, keep in (("LFW composites", True), ("packaged photos", False)):
        chosen = [i for i, r in enumerate(yolo) if r.name.startswith("lfw_") == keep]
        if chosen and evaluation.sources:
            print(row(f"  YOLO, {part}", score_results([yolo[i] for i in chosen], "yolo")))
            print(row(f"  Haar, {part}", score_results([haar[i] for i in chosen], "haar",
                                                       conf=None)))
    print(f"YOLO at confidence >= {evaluation.model.conf}, imgsz {evaluation.imgsz}, classes "
          "merged; Haar: every face it returns (scaleFactor 1.1, minNeighbors 5)")


if __name__ == "__main__":
    main()
