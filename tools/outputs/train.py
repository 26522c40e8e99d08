"""Train a YOLO detector or classifier on an export, offline, and measure it on the test split.

The model is built from a model YAML (random init) unless local weights are given: nothing is
downloaded, neither weights nor fonts (`plots=False`, `amp=False`, `YOLO_OFFLINE=1`, and the
dataset check's font download is skipped). The best checkpoint (chosen on the validation split)
is then evaluated once on the held-out test split, and `metrics.json` records per-class and
overall figures plus the per-epoch training curves.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import logging
import math
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from tools.atomic import write_text
from tools.config import DEFAULT_EPOCHS, DEFAULT_IMGSZ, AugmentConfig
from tools.errors import FacetoryError

# Must be set before ultralytics is first imported: it decides "online" once, at import.
os.environ.setdefault("YOLO_OFFLINE", "1")
# albumentations asks pypi.org for a newer version when first imported unless told not to.
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

Task = Literal["detect", "classify"]
DEFAULT_MODEL: dict[str, str] = {"detect": "yolo11n.yaml", "classify": "yolo11n-cls.yaml"}
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}


class TrainResult(BaseModel):
    """Where a training run went and what it measured on the test split."""

    run_dir: Path
    weights: Path
    """The best checkpoint (selected on the validation split)."""
    metrics_path: Path
    metrics: dict[str, Any]
    device: str
    seconds: float


def resolve_dataset(dataset_dir: str | Path, task: Task) -> Path:
    """The path ultralytics wants: data.yaml (detect) or the split root (classify).

    Accepts that path itself, or the export root holding `yolo_detect/` and `yolo_classify/`.
    """
    path = Path(dataset_dir)
    if task == "detect":
        for candidate in (path, path / "data.yaml", path / "yolo_detect" / "data.yaml"):
            if candidate.is_file() and candidate.suffix in {".yaml", ".yml"}:
                return candidate.resolve()
        raise FacetoryError(f"no YOLO detect export (data.yaml) found at {path}")
    for candidate in (path, path / "yolo_classify"):
        if (candidate / "train").is_dir():
            return candidate.resolve()
    raise FacetoryError(f"no YOLO classify export (train/<class>/ folders) found at {path}")


def split_counts(data: Path, task: Task) -> dict[str, int]:
    """Number of images in each split of an export."""
    if task == "detect":
        root = data.parent
        dirs = {s: root / "images" / s for s in ("train", "val", "test")}
    else:
        dirs = {s: data / s for s in ("train", "val", "test")}
    return {
        s: sum(1 for p in d.rglob("*") if p.suffix.lower() in _IMAGE_SUFFIXES) if d.is_dir() else 0
        for s, d in dirs.items()
    }


def pick_device(device: str | int | None) -> str:
    """The first CUDA GPU when there is one, else the CPU (an explicit choice wins)."""
    if device is not None and str(device) != "":
        return str(device)
    import torch

    return "0" if torch.cuda.is_available() else "cpu"


def train_yolo(
    dataset_dir: str | Path,
    task: Task,
    out_dir: str | Path,
    *,
    epochs: int = DEFAULT_EPOCHS,
    imgsz: int = DEFAULT_IMGSZ,
    model: str | None = None,
    weights: str | Path | None = None,
    device: str | int | None = None,
    batch: int = 16,
    workers: int = 0,
    name: str | None = None,
    seed: int = 0,
    patience: int = 100,
    verbose: bool = False,
    augment: AugmentConfig | None = None,
    overrides: dict[str, Any] | None = None,
    on_epoch: Callable[[int, int], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
    log_path: str | Path | None = None,
) -> TrainResult:
    """Train on `dataset_dir`, evaluate the best model on the test split, write metrics.json.

    `model` is a model YAML (ultralytics ships `yolo11n.yaml`, `yolo11n-cls.yaml`, ...) built with
    random weights; `weights` is a local `.pt` to start from instead. The run goes to
    `out_dir/<name>` (default name: the task), replacing an earlier run of the same name.
    `augment` (default: `AugmentConfig()`) is what training varies in each image;
    `overrides` passes further ultralytics training arguments (e.g. `{"hsv_v": 0.1}`).
    `on_epoch(done, epochs)` is called after each epoch (training and validation) so a caller
    can show progress; `on_start(images, collages)` once before the first epoch, with the
    training split's images and the collages made beside them; `log_path` takes everything
    ultralytics prints (its argument dump, layer table and per-epoch bars, about 1,000 lines
    for 30 epochs) instead of the terminal.
    """
    if task not in DEFAULT_MODEL:
        raise FacetoryError(f"unknown task '{task}': choose detect or classify")
    if epochs < 1 or imgsz < 32 or batch < 1:
        raise FacetoryError(f"need epochs >= 1, imgsz >= 32 and batch >= 1 (got {epochs}, "
                            f"{imgsz}, {batch})")
    data = resolve_dataset(dataset_dir, task)
    counts = split_counts(data, task)
    fingerprint = dataset_fingerprint(data, task)  # before ultralytics adds its label caches
    empty = [s for s, n in counts.items() if n == 0]
    if empty:
        raise FacetoryError(
            f"the export at {data} has no {' or '.join(empty)} images ({counts}); training needs "
            "all three splits (val selects the model, test measures it)"
        )
    source = _model_source(task, model, weights)
    augment = augment or AugmentConfig()
    extra = dict(overrides or {})
    device = pick_device(device)
    run_name = name or task
    out_dir = Path(out_dir).resolve()
    run_dir = out_dir / run_name
    if run_dir.exists():
        shutil.rmtree(run_dir)

    started = time.perf_counter()
    train_data, collages = _with_collages(data, task, augment, out_dir / f"{run_name}-collage",
                                          seed)
    if on_start is not None:
        on_start(counts["train"], collages)
    with _offline_ultralytics(), ultralytics_output(log_path):
        from ultralytics import YOLO

        yolo = YOLO(str(source), task=task)
        if on_epoch is not None:
            yolo.add_callback("on_fit_epoch_end", _each_epoch_once(on_epoch))
        try:
            yolo.train(
                data=str(train_data),
                epochs=epochs,
                imgsz=imgsz,
                batch=batch,
                workers=workers,
                device=device,
                project=str(out_dir),
                name=run_name,
                exist_ok=True,
                plots=False,
                amp=False,
                seed=seed,
                deterministic=True,
                patience=patience,
                verbose=verbose,
                val=True,
                **{**augmentations(augment, task), **extra},
            )
        except (FileNotFoundError, RuntimeError, ValueError, SyntaxError) as exc:
            raise FacetoryError(f"YOLO training failed: {_one_line(exc)}") from exc
        trained_seconds = time.perf_counter() - started
        weights_dir = run_dir / "weights"
        best = weights_dir / "best.pt"
        if not best.is_file():
            best = weights_dir / "last.pt"
        if not best.is_file():
            raise FacetoryError(f"training finished without a checkpoint in {weights_dir}")
        test = _evaluate(best, data, task, imgsz, batch, device, run_dir, counts["test"])

    metrics = {
        "task": task,
        "split": "test",
        "data": str(data),
        "model": str(source),
        "weights": str(best),
        "device": device,
        "epochs": epochs,
        "imgsz": imgsz,
        "images": counts,
        "collage_images": collages,
        "dataset_sha256": fingerprint,
        "train_seconds": round(trained_seconds, 2),
        "augment": augment.model_dump(),
        "overrides": extra,
        **test,
        "curves": read_curves(run_dir / "results.csv"),
    }
    metrics_path = run_dir / "metrics.json"
    write_text(metrics_path, json.dumps(metrics, indent=2) + "\n")
    return TrainResult(
        run_dir=run_dir,
        weights=best,
        metrics_path=metrics_path,
        metrics=metrics,
        device=device,
        seconds=round(time.perf_counter() - started, 2),
    )


def _with_collages(data: Path, task: Task, augment: AugmentConfig, out: Path, seed: int
                   ) -> tuple[Path, int]:
    """The data.yaml training reads and how many collages it adds to the export's images."""
    if task != "detect" or augment.collage <= 0:
        return data, 0
    from tools.outputs.collage import collage_count, write_collages

    written = write_collages(data, out, augment.collage, seed, augment.collage_classes)
    return (written, collage_count(written)) if written else (data, 0)


def augmentations(augment: AugmentConfig, task: Task) -> dict[str, Any]:
    """The ultralytics training arguments `augment` stands for (detection only: the classify
    trainer has its own pipeline): `scale`, and albumentations transforms for the rest. The
    whole image is shrunk first, so the later steps degrade a face of 15-40 px, as in a photo."""
    if task != "detect":
        return {}
    import albumentations as A
    import cv2

    transforms = [
        A.Downscale(scale_range=(0.25, 0.5), p=augment.downscale,
                    interpolation_pair={"downscale": cv2.INTER_AREA, "upscale": cv2.INTER_LINEAR}),
        A.ToGray(p=augment.grey),
        A.Blur(blur_limit=(3, 7), p=augment.blur),
        A.GaussNoise(std_range=(0.02, 0.08), p=augment.noise),
        A.ImageCompression(quality_range=(30, 90), p=augment.jpeg),
        A.RandomBrightnessContrast(brightness_limit=0.3, contrast_limit=0.3, p=augment.contrast),
    ]
    return {"scale": augment.scale, "augmentations": [t for t in transforms if t.p > 0]}


def dataset_fingerprint(data: Path, task: Task) -> str:
    """sha256 over an export's file names and label files: which images, in which split and
    class, with which boxes. A model's metrics describe the export that has this fingerprint."""
    root = data.parent if task == "detect" else data
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix != ".cache"):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        if path.suffix in {".txt", ".yaml"}:
            digest.update(path.read_bytes())
    return digest.hexdigest()


def latest_metrics(runs_dir: str | Path, dataset_dir: str | Path | None = None
                   ) -> dict[str, Any] | None:
    """The most recently written `runs/<name>/metrics.json`, or None when nothing was trained.

    With `dataset_dir` (the build's export), also None when that model was trained on another
    version of the export (a plan edited after training): a new user's report showed an old
    model's test score as this dataset's, its test images by then partly in train."""
    found = sorted(Path(runs_dir).glob("*/metrics.json"), key=lambda p: p.stat().st_mtime)
    for path in reversed(found):
        try:
            metrics = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if dataset_dir is not None and "dataset_sha256" in metrics:
            try:
                data = resolve_dataset(dataset_dir, metrics["task"])
            except FacetoryError:
                return None
            if dataset_fingerprint(data, metrics["task"]) != metrics["dataset_sha256"]:
                return None
        return metrics
    return None


def read_curves(results_csv: Path) -> dict[str, list[float | None]]:
    """Per-epoch columns of ultralytics' results.csv (losses, metrics, learning rates)."""
    if not results_csv.is_file():
        return {}
    curves: dict[str, list[float | None]] = {}
    with results_csv.open(newline="") as handle:
        for row in csv.DictReader(handle):
            for key, value in row.items():
                if key is None:
                    continue
                curves.setdefault(key.strip(), []).append(_number(value))
    return curves


# --------------------------------------------------------------------------- internals


def _model_source(task: Task, model: str | None, weights: str | Path | None) -> str | Path:
    """Local weights when given (must exist), else a model YAML (never a hub download)."""
    if weights is not None:
        path = Path(weights)
        if not path.is_file():
            raise FacetoryError(f"weights file not found: {path} (nothing is downloaded)")
        return path.resolve()
    source = model or DEFAULT_MODEL[task]
    if source.endswith((".pt", ".pth")):
        path = Path(source)
        if not path.is_file():
            raise FacetoryError(
                f"weights file not found: {source} (nothing is downloaded; pass a model YAML such "
                f"as {DEFAULT_MODEL[task]} to train from scratch)"
            )
        return path.resolve()
    if not source.endswith((".yaml", ".yml")):
        raise FacetoryError(f"model must be a model YAML or a local .pt file, got '{source}'")
    return source


def _evaluate(
    best: Path,
    data: Path,
    task: Task,
    imgsz: int,
    batch: int,
    device: str,
    run_dir: Path,
    n_test: int,
) -> dict[str, Any]:
    """Evaluate `best` on the test split with ultralytics' own validator."""
    from ultralytics import YOLO

    yolo = YOLO(str(best), task=task)
    val_args = dict(
        data=str(data),
        split="test",
        imgsz=imgsz,
        batch=batch,
        device=device,
        plots=False,
        project=str(run_dir),
        name="test",
        exist_ok=True,
        verbose=False,
        workers=0,
    )
    result = yolo.val(**val_args)
    if task == "classify":
        return _classify_metrics(result, yolo.names, n_test)
    metrics = _detect_metrics(result, n_test)
    # Class-agnostic: how well faces are found, whatever class they are given. Separates
    # localisation from confusion between look-alike classes.
    agnostic = yolo.val(**{**val_args, "name": "test_agnostic", "single_cls": True}).box
    metrics["face_detection"] = {
        "precision": _round(agnostic.mp),
        "recall": _round(agnostic.mr),
        "mAP50": _round(agnostic.map50),
        "mAP50-95": _round(agnostic.map),
    }
    return metrics


def _detect_metrics(result: Any, n_test: int) -> dict[str, Any]:
    names: dict[int, str] = result.names
    box = result.box
    zeros = [0] * len(names)
    nt_class = list(result.nt_per_class) if result.nt_per_class is not None else zeros
    nt_image = list(result.nt_per_image) if result.nt_per_image is not None else zeros
    per_class = {}
    for i, cls in enumerate(result.ap_class_index):
        cls = int(cls)
        per_class[names[cls]] = {
            "images": int(nt_image[cls]),
            "instances": int(nt_class[cls]),
            "precision": _round(box.p[i]),
            "recall": _round(box.r[i]),
            "mAP50": _round(box.ap50[i]),
            "mAP50-95": _round(box.ap[i]),
        }
    return {
        "overall": {
            "images": n_test,
            "instances": int(sum(nt_class)),
            "precision": _round(box.mp),
            "recall": _round(box.mr),
            "mAP50": _round(box.map50),
            "mAP50-95": _round(box.map),
        },
        "per_class": per_class,
    }


def _classify_metrics(result: Any, names: dict[int, str], n_test: int) -> dict[str, Any]:
    """top1/top5 overall; per class precision and recall from the confusion matrix."""
    matrix = result.confusion_matrix.matrix  # rows: predicted, columns: true
    per_class = {}
    for i, cls in names.items():
        true_n = float(matrix[:, i].sum())
        pred_n = float(matrix[i, :].sum())
        hit = float(matrix[i, i])
        per_class[cls] = {
            "images": int(true_n),
            "precision": _round(hit / pred_n) if pred_n else 0.0,
            "recall": _round(hit / true_n) if true_n else 0.0,
        }
    return {
        "overall": {
            "images": n_test,
            "top1": _round(result.top1),
            "top5": _round(result.top5),
        },
        "per_class": per_class,
    }


@contextlib.contextmanager
def _offline_ultralytics() -> Iterator[None]:
    """Keep ultralytics from touching the network while it trains and validates.

    Fonts are only needed for plots (off), but its dataset check looks for Arial.ttf and asks
    the network for it when missing; usage analytics are disabled for the same reason.
    """
    import ultralytics.data.utils as data_utils
    from ultralytics.utils import events

    saved_font = data_utils.check_font
    saved_enabled = events.events.enabled
    data_utils.check_font = lambda *args, **kwargs: None
    events.events.enabled = False
    try:
        yield
    finally:
        data_utils.check_font = saved_font
        events.events.enabled = saved_enabled


def _each_epoch_once(on_epoch: Callable[[int, int], None]) -> Callable[[Any], None]:
    """An ultralytics callback calling `on_epoch(done, epochs)` once per finished epoch (the
    trainer also fires its epoch-end callback for the final validation)."""
    reported = [0]

    def callback(trainer: Any) -> None:
        done = min(trainer.epoch + 1, trainer.epochs)
        if done > reported[0]:
            reported[0] = done
            on_epoch(done, trainer.epochs)

    return callback


@contextlib.contextmanager
def ultralytics_output(log_path: str | Path | None) -> Iterator[None]:
    """Send what ultralytics prints (its logger and stdout/stderr) to `log_path` (appended),
    or leave it on the terminal when None."""
    if log_path is None:
        yield
        return
    from ultralytics.utils import LOGGER

    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a", encoding="utf-8") as log:
        streams = [h for h in LOGGER.handlers if type(h) is logging.StreamHandler]
        saved = [h.setStream(log) for h in streams]
        try:
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                yield
        finally:
            for handler, stream in zip(streams, saved, strict=True):
                handler.setStream(stream)


def _round(value: Any) -> float:
    value = float(value)
    return round(value, 5) if math.isfinite(value) else 0.0


def _number(text: str | None) -> float | None:
    """A CSV cell as a float; None when empty or not finite (JSON has no NaN)."""
    try:
        value = float(text) if text not in (None, "") else math.nan
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__
