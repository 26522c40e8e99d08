"""Benchmark: procedural images -> export -> YOLO training on CPU -> test-split mAP50 -> report.

Prints the held-out test mAP50 (goal for the quickstart build: at least 0.8), the per-class
figures, the class-agnostic face-detection mAP50 (faces found, whatever class they get: it
separates localisation from confusion between look-alike classes), and the wall time of each
stage. The baseline, measured in the same run, is the same model trained for one epoch on the
same data: the gap is what training bought.

Until the agent loop lands this renders a balanced plan itself (five ethnicity classes, as in
ChildDiffusion) and accepts every image; the lead will switch it to the quickstart build.

    .venv/bin/python bench/bench_train.py [--per-class 60] [--epochs 30] [--imgsz 160]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from tools.contracts import ManifestRecord, PlanItem, Status
from tools.export import ExportInfo, export_dataset
from tools.report import ReportInputs, write_report
from tools.train import train_yolo

CLASSES = ["African", "Asian", "White", "South Asian", "Hispanic"]
ETHNICITY = {"African": "african", "Asian": "asian", "White": "white",
             "South Asian": "south_asian", "Hispanic": "hispanic"}
GENDERS = ("female", "male")
AGES = ("child", "teenager")


def load_generator(image_size: int):
    """The procedural generator, if tools/generate provides it yet."""
    try:
        from tools.generate import get_generator

        return get_generator("procedural", image_size=image_size)
    except ImportError:
        pass
    try:
        from tools.generate.procedural import ProceduralGenerator

        return ProceduralGenerator(image_size=image_size)
    except ImportError:
        return None


def plan(per_class: int, faces: int, seed: int = 0) -> list[PlanItem]:
    """A balanced plan: per class, genders and age groups alternate; 80/10/10 splits."""
    items = []
    n_val = max(1, round(per_class * 0.1))
    for ci, cls in enumerate(CLASSES):
        for i in range(per_class):
            split = "test" if i < n_val else "val" if i < 2 * n_val else "train"
            items.append(PlanItem(
                id=f"{ETHNICITY[cls]}-{i:04d}",
                **{"class": cls},
                attributes={"ethnicity": ETHNICITY[cls], "gender": GENDERS[i % 2],
                            "age_group": AGES[(i // 2) % 2]},
                split=split,
                seed=seed + ci * 100_000 + i,
                prompt=f"a photo of a {ETHNICITY[cls]} child",
                faces=faces,
            ))
    return items


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=60)
    parser.add_argument("--faces", type=int, default=1)
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--imgsz", type=int, default=160)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--device", default=None)
    parser.add_argument("--out", type=Path, default=Path("bench/out/train"))
    args = parser.parse_args()

    generator = load_generator(args.image_size)
    if generator is None:
        print("skip: tools.generate (the procedural renderer) is not available yet")
        return 0
    root = args.out.resolve()
    shutil.rmtree(root, ignore_errors=True)
    timings: dict[str, float] = {}

    t = time.perf_counter()
    items = plan(args.per_class, args.faces)
    images = generator.generate(items, root / "images")
    timings["generate"] = time.perf_counter() - t
    records = [
        ManifestRecord(
            image_id=Path(img.path).stem, item_id=item.id, class_name=item.class_name,
            attributes=item.attributes, split=item.split, seed=item.seed, prompt=item.prompt,
            status=Status.accepted, score=1.0, path=str(Path(img.path).relative_to(root)),
            boxes=[f.box for f in img.truth.faces] if img.truth else [],
            backend=img.backend, model=img.model,
        )
        for item, img in zip(items, images, strict=True)
    ]

    t = time.perf_counter()
    info = ExportInfo(name="bench", class_names=CLASSES, generator=generator.name,
                      model=generator.model, class_targets={c: args.per_class for c in CLASSES})
    summary = export_dataset(records, info, root / "dataset", base_dir=root)
    timings["export"] = time.perf_counter() - t

    common = dict(imgsz=args.imgsz, batch=args.batch, device=args.device)
    t = time.perf_counter()
    baseline = train_yolo(root / "dataset", "detect", root / "runs", epochs=1, name="baseline",
                          **common)
    timings["baseline (1 epoch) + test"] = time.perf_counter() - t
    t = time.perf_counter()
    result = train_yolo(root / "dataset", "detect", root / "runs", epochs=args.epochs,
                        name="detect", **common)
    timings[f"train ({args.epochs} epochs) + test"] = time.perf_counter() - t

    t = time.perf_counter()
    report = write_report(
        ReportInputs(title="bench_train", class_targets=info.class_targets, records=records,
                     training=result.metrics, timing=dict(timings), generator=generator.name,
                     model=generator.model, base_dir=root),
        root / "report.html",
    )
    timings["report"] = time.perf_counter() - t

    m, b = result.metrics["overall"], baseline.metrics["overall"]
    per_split = ", ".join(f"{s} {sum(n.values())}" for s, n in summary.images.items())
    print(f"dataset: {summary.total_images} images ({per_split}); faces {summary.faces}")
    print(f"device: {result.device}, imgsz {args.imgsz}, image size {args.image_size}")
    print(f"TEST mAP50     = {m['mAP50']:.3f}   (goal >= 0.8)   mAP50-95 = {m['mAP50-95']:.3f}"
          f"   P = {m['precision']:.3f}   R = {m['recall']:.3f}")
    print(f"baseline mAP50 = {b['mAP50']:.3f}   (same model and test split, 1 epoch)")
    f, fb = result.metrics["face_detection"], baseline.metrics["face_detection"]
    print(f"class-agnostic face detection mAP50 = {f['mAP50']:.3f} (baseline {fb['mAP50']:.3f})"
          f"   mAP50-95 = {f['mAP50-95']:.3f}")
    for name, figures in result.metrics["per_class"].items():
        print(f"  {name:<12} mAP50 {figures['mAP50']:.3f}  mAP50-95 {figures['mAP50-95']:.3f}"
              f"  instances {figures['instances']}")
    print("wall time per stage:")
    for stage, seconds in timings.items():
        print(f"  {stage:<28} {seconds:8.1f} s")
    print(f"report: {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
