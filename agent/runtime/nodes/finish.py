"""export -> train -> report: the end of a build, whether complete or out of budget."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from langgraph.runtime import Runtime

from agent.runtime.context import BuildContext
from agent.runtime.finish_inputs import export_info, report_inputs
from agent.runtime.state import BuildState
from tools.contracts import Status

if TYPE_CHECKING:
    from tools.outputs.real_faces import RealFaceEvaluation
    from tools.outputs.train import TrainResult


def export(state: BuildState, runtime: Runtime[BuildContext]) -> BuildState:
    from tools.outputs.export import export_dataset

    ctx = runtime.context
    start = time.perf_counter()
    judged = ctx.manifest.mark_verdicts_exported()
    summary = export_dataset(
        ctx.manifest.records(),  # the card's rejection statistics count every attempt
        export_info(ctx),
        ctx.paths.dataset,
        base_dir=ctx.paths.root,
    )
    if ctx.spec.identities is not None:
        export_identities(ctx)
    export_human_verdicts(ctx)
    ctx.events.emit(
        "exported",
        images=summary.total_images,
        human_verdicts=judged,
        seconds=round(time.perf_counter() - start, 3),
    )
    if ctx.options.no_train:  # recorded, so the report and a later reader know why
        ctx.events.emit("train_skipped", option="--no-train")
    return {"exported": True, "skip_train": ctx.options.no_train}


def export_human_verdicts(ctx: BuildContext) -> None:
    """dataset/human_verdicts.json: every image a person judged, what they said and why."""
    import json

    from tools.atomic import write_text

    verdicts = [v.model_dump() for v in ctx.manifest.human_verdicts() if v.state != "queued"]
    path = ctx.paths.dataset / "human_verdicts.json"
    if verdicts or path.exists():
        write_text(path, json.dumps(verdicts, indent=2) + "\n")


def export_identities(ctx: BuildContext) -> None:
    """Identity datasets: a folder per person, verification pairs, and identity metrics."""
    from tools.outputs.identity_export import export_identity_folders
    from tools.outputs.identity_metrics import (
        identity_metrics,
        identity_samples,
        write_identity_metrics,
    )

    accepted = ctx.manifest.records(Status.accepted)
    if not accepted:  # nothing to measure: the shortfall says why
        ctx.events.emit("identity_metrics_skipped", reason="no accepted images")
        return
    descriptors = ctx.manifest.accepted_embeddings("descriptor")
    samples = identity_samples(accepted, base_dir=ctx.paths.root, descriptors=descriptors)
    metrics = identity_metrics(
        samples,
        threshold=ctx.spec.quality.identity_similarity,
        seed=ctx.spec.seed,
        anchors={who: r.image_id for who, r in ctx.manifest.anchors().items()},
    )
    write_identity_metrics(metrics, ctx.paths.metrics / "identity.json")
    export_identity_folders(
        accepted, ctx.paths.dataset / "identities", base_dir=ctx.paths.root, seed=ctx.spec.seed
    )


def route_after_export(state: BuildState) -> Literal["train", "report"]:
    """--no-train skips YOLO, not the report: a build is still worth looking at untrained."""
    return "report" if state.get("skip_train") else "train"


def train(state: BuildState, runtime: Runtime[BuildContext]) -> BuildState:
    ctx = runtime.context
    t = ctx.spec.training
    result = train_build(ctx, epochs=t.epochs, imgsz=t.imgsz, model=t.model, weights=t.weights,
                         augment=t.augment)
    evaluate_real(ctx, result.metrics_path, t.real_faces)
    return {"trained": True}


def evaluate_real(ctx: BuildContext, metrics_path: Path, real: str) -> RealFaceEvaluation | None:
    """The trained detector and the Haar cascade on real faces (`training.real_faces`), saved
    beside the run's metrics and in the dataset card; None when the spec says none or the
    model is a classifier."""
    if real == "none" or ctx.spec.task != "detect":
        return None
    from tools.outputs.dataset_card import add_model_scores
    from tools.outputs.real_faces import evaluate_run
    from tools.outputs.train import ultralytics_output

    with ultralytics_output(None if ctx.options.verbose else ctx.paths.train_log):
        result = evaluate_run(metrics_path, real, seed=ctx.spec.seed)
    add_model_scores(ctx.paths.dataset / "README.md", result)
    ctx.events.emit("real_faces", real_set=result.real_set, faces=result.model.faces,
                    recall=result.model.recall, haar_recall=result.haar.recall)
    return result


def train_build(ctx: BuildContext, **options: Any) -> TrainResult:
    """YOLO on the build's export (options left None take the trainer's defaults).

    Each finished epoch is an event (`train_epoch`) the terminal's progress line follows;
    ultralytics' own output goes to train.log unless the person asked to see it (--verbose)."""
    from tools.outputs.train import train_yolo

    given = {k: v for k, v in options.items() if v is not None}
    log = None if ctx.options.verbose else ctx.paths.train_log
    task = ctx.spec.task
    model = Path(str(given.get("weights") or given.get("model") or "yolo11n")).name

    def started(images: int, collages: int) -> None:
        ctx.events.emit("training", task=task, images=images, collages=collages,
                        epochs=given.get("epochs"), model=model, log=log)

    result = train_yolo(
        ctx.paths.dataset,
        task,
        ctx.paths.runs,
        seed=ctx.spec.seed,
        on_epoch=lambda done, total: ctx.events.emit("train_epoch", epoch=done, epochs=total),
        on_start=started,
        log_path=log,
        **given,
    )
    ctx.events.emit(
        "trained",
        device=result.device,
        seconds=round(result.seconds, 1),
        metrics=str(result.metrics_path),
    )
    return result


def report(state: BuildState, runtime: Runtime[BuildContext]) -> BuildState:
    from tools.outputs.report import write_report

    ctx = runtime.context
    write_report(report_inputs(ctx), ctx.paths.report)
    ctx.events.emit("reported", path=str(ctx.paths.report))
    return {}
