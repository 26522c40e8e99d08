"""`facetory evaluate`: the build's trained detector on real faces, beside OpenCV's Haar cascade."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.table import Table

from agent.cli.shared import DirArg, JsonOpt, console, fail
from agent.runtime.lock import BuildLock
from tools.build_dir import BuildPaths

if TYPE_CHECKING:
    from tools.outputs.detection_score import DetectionScore
    from tools.outputs.real_faces import RealFaceEvaluation

RealOpt = Annotated[
    str | None,
    typer.Option("--real", metavar="DIR",
                 help="Real faces to score on: a folder in YOLO layout (images/, labels/) or "
                 "COCO layout (annotations.json), or embedded; default: the build's "
                 "training.real_faces, the embedded set where that says none."),
]
ConfOpt = Annotated[
    float,
    typer.Option(min=0.0, max=1.0, metavar="SCORE",
                 help="Confidence at which recall and precision count."),
]


def evaluate_command(build_dir: DirArg, real: RealOpt = None, conf: ConfOpt = 0.25,
                     as_json: JsonOpt = False) -> None:
    """Score the build's trained model on real faces beside OpenCV's Haar cascade.

    Recall, precision and mAP50 at IoU 0.5, saved beside the run's metrics.json and in the
    dataset card."""
    from tools.outputs.dataset_card import add_model_scores
    from tools.outputs.real_faces import evaluate_run
    from tools.outputs.train import latest_metrics

    paths = BuildPaths(build_dir)
    if not paths.dataset.is_dir():
        fail(f"{build_dir} has no exported dataset: run `facetory run {build_dir}` first")
    metrics = latest_metrics(paths.runs, paths.dataset)
    if metrics is None:
        fail(f"{build_dir} has no model trained on its current export: run "
             f"`facetory train {build_dir}` first")
    if real == "none":
        fail("--real none measures nothing: give a YOLO or COCO folder, or embedded")
    if real is not None and real != "embedded" and not Path(real).is_dir():
        fail(f"--real {real}: no such folder (give a YOLO or COCO layout folder, or embedded)")
    recorded, seed = _recorded(paths)
    setting = real or recorded
    if setting == "none":
        setting = "embedded"  # the spec skips it after training; `evaluate` asks for it
    with BuildLock(paths.root):
        result = evaluate_run(Path(metrics["weights"]).parent.parent / "metrics.json", setting,
                              conf=conf, seed=seed)
        add_model_scores(paths.dataset / "README.md", result)
    if as_json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
        return
    print_evaluation(result)


def print_evaluation(result: RealFaceEvaluation) -> None:
    """One row per detector and set: images, faces, recall, precision, mAP50 (with interval)."""
    table = Table(title=f"Faces found at IoU 0.5 (real set: {result.real_set})",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("detector", "images", "faces", "recall", "precision", "mAP50 [95% CI]"):
        table.add_column(column, justify="left" if column == "detector" else "right",
                         no_wrap=True)
    rows = [("YOLO on real", result.model), ("Haar on real", result.haar)]
    if result.synthetic is not None:
        rows.append(("YOLO on synthetic", result.synthetic))
    for name, score in rows:
        table.add_row(name, str(score.images), str(score.faces), f"{score.recall:.3f}",
                      f"{score.precision:.3f}", _map(score))
    console.print(table)
    console.print(f"YOLO: confidence >= {result.model.conf}, imgsz {result.imgsz}, classes "
                  "merged, synthetic = its test split; Haar: every face it returns.\nSaved: "
                  f"{Path(result.weights).parent.parent / 'real_faces.json'}", highlight=False)


def _map(score: DetectionScore) -> str:
    ci = score.mAP50_ci95
    return f"{score.mAP50:.3f}" + (f" [{ci.low:.3f}, {ci.high:.3f}]" if ci else "")


def _recorded(paths: BuildPaths) -> tuple[str, int]:
    """The spec's training.real_faces and seed (embedded and 0 when spec.yaml cannot say)."""
    from agent.planning.plan_file import read_spec
    from tools.errors import FacetoryError

    try:
        spec = read_spec(paths.spec_yaml)
    except FacetoryError:
        return "embedded", 0
    return spec.training.real_faces, spec.seed
