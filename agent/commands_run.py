"""The build commands: `run`, `status`, `build`, `train`, `report`."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from agent.cli import console, fail
from agent.context import BuildContext, Options
from agent.lock import BuildLock
from agent.progress import build_status, shortfall
from agent.runner import RunResult, graph_state, run_graph
from tools.atomic import write_text
from tools.build_dir import BuildPaths

DirArg = Annotated[Path, typer.Argument(help="The build directory.")]
OfflineOpt = Annotated[bool, typer.Option("--offline", help="Never call an LLM endpoint.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Approve the plan without review.")]
NoTrainOpt = Annotated[
    bool, typer.Option("--no-train", help="Skip YOLO training; the export and report are written.")
]
BackendOpt = Annotated[str | None, typer.Option(help="Generator backend (default: the spec's).")]
EpochsOpt = Annotated[int | None, typer.Option(help="YOLO training epochs.")]


class _StopFlag:
    """First Ctrl-C: finish the current batch, then stop. Second Ctrl-C: stop at once."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        console.print("[yellow]stopping after the current batch (Ctrl-C again to stop now)")


def _context(build_dir: Path, **options: Any) -> BuildContext:
    from agent.llm import chat_model

    ctx = BuildContext(paths=BuildPaths(build_dir), options=Options(**options))
    ctx.services.llm = chat_model(offline=ctx.options.offline)
    return ctx


def _drive(ctx: BuildContext, *, interactive: bool) -> RunResult:
    """Run the graph with progress bars, answering review pauses as the options allow."""
    stop = _StopFlag()
    previous = signal.signal(signal.SIGINT, stop)
    progress = Progress(
        TextColumn("{task.description:<24}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    tasks: dict[str, Any] = {}

    def on_update(update: dict[str, Any]) -> None:
        if "dedup" not in update:
            return
        targets: dict[str, int] = {}
        for item in ctx.plan.items:
            targets[item.class_name] = targets.get(item.class_name, 0) + 1
        for name, counts in ctx.manifest.class_counts().items():
            if name not in tasks:
                tasks[name] = progress.add_task(name, total=targets.get(name, 0), info="")
            bad = counts.get("rejected", 0) + counts.get("duplicate", 0)
            info = f"attempts {sum(counts.values())}, rejected {bad}"
            progress.update(tasks[name], completed=counts.get("accepted", 0), info=info)

    try:
        answer: dict[str, Any] | None = None
        with progress:
            while True:
                result = run_graph(
                    ctx, resume=answer, on_update=on_update, stop_requested=lambda: stop.requested
                )
                if result.outcome != "review":
                    return result
                answer = _review_answer(ctx, result.review, interactive=interactive)
                if answer is None:
                    return result
    finally:
        signal.signal(signal.SIGINT, previous)


def _review_answer(
    ctx: BuildContext, review: dict[str, Any], *, interactive: bool
) -> dict[str, Any] | None:
    if ctx.options.yes:
        return {"action": "approve"}
    from agent.commands_plan import print_plan_summary

    print_plan_summary(ctx.plan)
    if not interactive or not sys.stdin.isatty():
        return None
    reply = typer.prompt("approve [a], feedback in words, or quit [q]", default="a")
    if reply.strip().lower() in {"a", "approve", "y", "yes"}:
        return {"action": "approve"}
    if reply.strip().lower() in {"q", "quit"}:
        return None
    return {"action": "feedback", "text": reply}


def _finish(ctx: BuildContext, result: RunResult, as_json: bool = False) -> None:
    status = build_status(ctx.plan, ctx.manifest, stop_reason=result.state.get("stop_reason"))
    if result.outcome == "review":
        console.print(
            f"The plan in {ctx.paths.plan_yaml} waits for review: edit it if you like, "
            f"then `facetory approve {ctx.paths.root}` and `facetory run {ctx.paths.root}`."
        )
        return
    if result.outcome == "stopped":
        console.print(f"Stopped cleanly. `facetory run {ctx.paths.root}` continues.")
        raise typer.Exit(130)
    _print_status(status)
    for line in shortfall(status):
        console.print(f"[yellow]short:[/] {line}", highlight=False)
    for label, path in (
        ("dataset", ctx.paths.dataset),
        ("runs", ctx.paths.runs),
        ("report", ctx.paths.report),
    ):
        if path.exists():
            console.print(f"{label:>8}: {path}")


def _print_status(status: dict) -> None:
    table = Table(title="Build status")
    for col in ("class", "accepted / target", "attempts", "duplicates", "top rejections"):
        table.add_column(col)
    for name, c in status["classes"].items():
        top = sorted(c["rejected"].items(), key=lambda kv: -kv[1])[:3]
        table.add_row(
            name,
            f"{c['accepted']} / {c['target']}",
            str(c["attempts"]),
            str(c["duplicates"]),
            ", ".join(f"{r} {n}" for r, n in top),
        )
    console.print(table)
    state = "complete" if status["complete"] else "incomplete"
    console.print(
        f"{status['total']['accepted']} / {status['total']['target']} accepted "
        f"in {status['total']['attempts']} attempts: {state}"
    )


def run_command(
    build_dir: DirArg,
    yes: YesOpt = False,
    offline: OfflineOpt = False,
    no_train: NoTrainOpt = False,
    backend: BackendOpt = None,
    epochs: EpochsOpt = None,
) -> None:
    """Generate, critique, deduplicate and iterate until the plan is met; resumes if stopped."""
    from agent.plan_io import approve, is_approved

    paths = BuildPaths(build_dir)
    if not paths.plan_yaml.exists():
        fail(f"{build_dir} has no plan.yaml: start with `facetory plan SPEC --out {build_dir}`")
    if not is_approved(paths.root):
        if not yes:
            fail(
                f"the plan in {paths.plan_yaml} is not approved: review it, then "
                f"`facetory approve {build_dir}` (or pass --yes)"
            )
        with BuildLock(paths.root):  # approving writes: not while another run holds the build
            approve(paths.root)
    ctx = _context(
        build_dir,
        offline=offline or None,
        no_train=no_train,
        backend=backend,
        epochs=epochs,
        yes=yes,
    )
    _finish(ctx, _drive(ctx, interactive=False))


def build_command(
    spec: Annotated[str, typer.Argument(help="Plain-language text, a .txt file or a YAML spec.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The build directory.")],
    yes: YesOpt = False,
    offline: OfflineOpt = False,
    no_train: NoTrainOpt = False,
    backend: BackendOpt = None,
    epochs: EpochsOpt = None,
    seed: Annotated[int | None, typer.Option(help="Override the spec's seed.")] = None,
) -> None:
    """Plan, review (or --yes), run, export, train and report in one go."""
    from agent.parse import load_spec_source
    from agent.plan_io import write_spec

    text, dataset_spec = load_spec_source(spec, offline=offline or None)
    if seed is not None:
        dataset_spec = dataset_spec.model_copy(update={"seed": seed})
    paths = BuildPaths(out)
    if paths.spec_txt.exists():
        if paths.spec_txt.read_text(encoding="utf-8") != text:
            fail(f"{out} already holds a different build; choose another --out")
    else:
        paths.root.mkdir(parents=True, exist_ok=True)
        write_text(paths.spec_txt, text)
        write_spec(dataset_spec, paths.spec_yaml)
    ctx = _context(
        out, offline=offline or None, no_train=no_train, backend=backend, epochs=epochs, yes=yes
    )
    _finish(ctx, _drive(ctx, interactive=True))


def status_command(
    build_dir: DirArg,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Show progress per class and per attribute cell (works while a build runs)."""
    paths = BuildPaths(build_dir)
    if not paths.plan_yaml.exists():
        fail(f"{build_dir} is not a facetory build directory (no plan.yaml)")
    ctx = BuildContext(paths=paths)
    status = build_status(ctx.plan, ctx.manifest, stop_reason=graph_state(ctx).get("stop_reason"))
    if as_json:
        sys.stdout.write(json.dumps(status, indent=2) + "\n")
        return
    _print_status(status)
    for line in shortfall(status):
        console.print(f"[yellow]short:[/] {line}", highlight=False)


def train_command(
    build_dir: DirArg,
    epochs: EpochsOpt = None,
    imgsz: Annotated[int | None, typer.Option(help="Training image size (pixels).")] = None,
    model: Annotated[str | None, typer.Option(help="Model YAML, e.g. yolo11s.yaml.")] = None,
    weights: Annotated[Path | None, typer.Option(help="Local .pt weights to start from.")] = None,
) -> None:
    """Train YOLO on the exported dataset and measure it on the held-out test split."""
    from agent.nodes.finish import train_build

    paths = BuildPaths(build_dir)
    if not paths.dataset.exists():
        fail(f"{build_dir} has no exported dataset: run `facetory run {build_dir}` first")
    ctx = BuildContext(paths=paths)
    with BuildLock(paths.root):
        result = train_build(ctx, epochs=epochs, imgsz=imgsz, model=model, weights=weights)
    overall = result.metrics.get("overall", {})
    console.print(
        f"trained on {result.device} in {result.seconds:.0f} s; test split: "
        + ", ".join(f"{k} {v:.3f}" for k, v in overall.items() if isinstance(v, int | float))
    )
    console.print(f" weights: {result.weights}\n metrics: {result.metrics_path}")


def report_command(build_dir: DirArg) -> None:
    """Write the self-contained report.html for a build."""
    from agent.finish_inputs import report_inputs
    from tools.report import write_report

    paths = BuildPaths(build_dir)
    if not paths.plan_yaml.exists():
        fail(f"{build_dir} is not a facetory build directory (no plan.yaml)")
    ctx = BuildContext(paths=paths)
    console.print(f"report: {write_report(report_inputs(ctx), paths.report)}")


def review_with_feedback(build_dir: Path, feedback: str, *, offline: bool | None) -> None:
    """`facetory review DIR --feedback WORDS`: apply it, print the new plan and the changes."""
    from agent.commands_plan import print_plan_summary
    from agent.feedback import apply_feedback
    from tools.errors import FacetoryError

    try:
        changes = apply_feedback(build_dir, feedback, offline=offline)
        plan = BuildContext(paths=BuildPaths(build_dir)).plan
    except FacetoryError as exc:
        fail(str(exc))
        return
    print_plan_summary(plan)
    console.print("what your feedback changed:", highlight=False)
    for line in changes:
        console.print(f"  {line}", highlight=False, markup=False)
    console.print(f"approve it with `facetory approve {build_dir}`", highlight=False, markup=False)
