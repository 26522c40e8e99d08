"""Fast inner loop for the real-face transfer: render, train, score, without a build.

Renders a plan's items through the product's procedural generator (clean renders: what the
critic accepts), writes them in YOLO layout in the plan's splits and classes, trains with the
product's `train_yolo` (the build's augmentation and any ultralytics overrides), and scores
the model on the embedded real set beside the Haar cascade, at IoU 0.5 and, as a diagnostic
of box conventions, at IoU 0.3. `bench/bench_transfer.py` measures the real build.

    python -m agent plan specs/quickstart.txt --out /tmp/plan --offline
    python bench/transfer_loop.py /tmp/plan --out /tmp/loop [--n 300] [--epochs 30]
        [--imgsz 160] [--set hsv_v=0.6 --set mosaic=0.5] [--augment grey=0.5]
        [--augment collage=0]   # training.augment's defaults otherwise (collage 0.5)
    python bench/transfer_loop.py /tmp/plan --out /tmp/loop --weights W.pt   # score only

`yolo+` scores each box by the sum of its class scores: the faces a model finds but whose
score it splits between classes (a face between `none` and `glasses` at 0.2 each).
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import yaml

from agent.planning.plan_file import read_plan
from tools.config import AugmentConfig
from tools.generate.procedural import ProceduralGenerator
from tools.outputs.detection_score import match_image, score_results
from tools.outputs.real_faces import embedded_real_set, haar_results, read_real_set, yolo_results
from tools.outputs.train import train_yolo


def write_dataset(plan_dir: Path, out: Path, n: int | None, size: int) -> Path:
    """`n` of the plan's items, evenly spaced (all classes), rendered clean into `out/data`
    (YOLO layout)."""
    plan = read_plan(plan_dir / "plan.yaml")
    items = plan.items[::max(1, len(plan.items) // n)][:n] if n else plan.items
    names = sorted({item.class_name for item in items})
    generator = ProceduralGenerator(image_size=size)
    root = out / "data"
    for item in items:
        pixels, truth = generator.render_clean(item)
        for part in ("images", "labels"):
            (root / part / item.split).mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / "images" / item.split / f"{item.id}.png"),
                    cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR))
        lines = [f"{names.index(item.class_name)} {(b[0] + b[2]) / 2 / size:.6f} "
                 f"{(b[1] + b[3]) / 2 / size:.6f} {(b[2] - b[0]) / size:.6f} "
                 f"{(b[3] - b[1]) / size:.6f}" for b in (f.box for f in truth.faces)]
        (root / "labels" / item.split / f"{item.id}.txt").write_text("\n".join(lines) + "\n")
    (root / "data.yaml").write_text(yaml.safe_dump(
        {"path": str(root), "train": "images/train", "val": "images/val", "test": "images/test",
         "names": dict(enumerate(names))}))
    return root / "data.yaml"


def report(label: str, results) -> None:
    """Recall and precision at IoU 0.5 (the product's score) and recall at IoU 0.3."""
    score = score_results(results, label, conf=None if label == "haar" else 0.25)
    loose = sum(int(hit[scores >= (0.25 if label != "haar" else -1e9)].sum())
                for scores, hit in (match_image(r, 0.3) for r in results))
    faces = sum(len(r.truth) for r in results)
    lfw = [r for r in results if r.name.startswith("lfw_")]
    photos = [r for r in results if not r.name.startswith("lfw_")]
    parts = [score_results(p, label, conf=score.conf).recall for p in (lfw, photos)]
    print(f"{label:<6} recall@0.5 {score.recall:.3f} ({score.true_positives}/{faces}) "
          f"precision {score.precision:.3f} AP50 {score.mAP50:.3f} recall@0.3 "
          f"{loose / faces:.3f}  [lfw {parts[0]:.3f} photos {parts[1]:.3f}]")


@contextlib.contextmanager
def any_class_scores() -> Iterator[None]:
    """While inside, a YOLO box's score is the sum of its class scores (at most 1), not the
    largest: how many real faces a model finds but splits between classes (a diagnostic; the
    product scores the largest, as ultralytics does)."""
    from ultralytics.nn.autobackend import AutoBackend

    forward = AutoBackend.forward

    def summed(self, *args, **kwargs):
        out = forward(self, *args, **kwargs)
        pred = out[0] if isinstance(out, (list, tuple)) else out
        pred[:, 4] = pred[:, 4:].sum(1).clamp(max=1.0)
        pred[:, 5:] = 0
        return out

    AutoBackend.forward = summed
    try:
        yield
    finally:
        AutoBackend.forward = forward


def parse_sets(pairs: list[str]) -> dict:
    """`key=value` ultralytics overrides, values read as YAML (numbers, booleans)."""
    return {k: yaml.safe_load(v) for k, v in (p.split("=", 1) for p in pairs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plan", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--n", type=int, default=None)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--imgsz", type=int, default=160)
    parser.add_argument("--set", action="append", default=[], help="ultralytics key=value")
    parser.add_argument("--augment", action="append", default=[],
                        help="training.augment key=value (e.g. grey=0.5)")
    parser.add_argument("--weights", type=Path, default=None, help="score these, no training")
    args = parser.parse_args()
    if args.weights is None:
        start = time.perf_counter()
        data = write_dataset(args.plan, args.out, args.n, args.size)
        print(f"rendered in {time.perf_counter() - start:.0f} s")
        augment = AugmentConfig(**parse_sets(args.augment))
        result = train_yolo(data, "detect", args.out / "runs", epochs=args.epochs,
                            imgsz=args.imgsz, seed=7, augment=augment,
                            overrides=parse_sets(args.set), log_path=args.out / "train.log")
        args.weights = result.weights
        face = result.metrics.get("face_detection", {})
        print(f"trained in {result.metrics['train_seconds']:.0f} s; synthetic test {face}")
    images = read_real_set(embedded_real_set())
    report("yolo", yolo_results(args.weights, images, imgsz=args.imgsz))
    with any_class_scores():
        report("yolo+", yolo_results(args.weights, images, imgsz=args.imgsz))
    report("haar", haar_results(images))


if __name__ == "__main__":
    main()
