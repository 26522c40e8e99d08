"""The build commands: `run`, `status`, `build`, `train`, `report`."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from agent.cli.build_summary import print_paths, print_scores, print_status
from agent.cli.plan_commands import as_saved
from agent.cli.plan_tables import print_plan_summary, print_requirements
from agent.cli.progress_display import BuildDisplay
from agent.cli.shared import (
    AddressOpt,
    AllowUndrawnOpt,
    DirArg,
    EpochsOpt,
    ExecutorOpt,
    OfflineOpt,
    RealFacesOpt,
    SeedOpt,
    StallOpt,
    WorkersOpt,
    build_context,
    choose_executor,
    console,
    err_console,
    fail,
    set_parallelism,
    with_settings,
)
from agent.language.requirements import trace
from agent.runtime.context import BuildContext
from agent.runtime.lock import BuildLock
from agent.runtime.progress import build_status, shortfall
from tools.build_dir import BuildPaths

if TYPE_CHECKING:
    from agent.runtime.runner import RunResult

YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Approve the plan without review.")]
NoTrainOpt = Annotated[
    bool, typer.Option("--no-train", help="Skip YOLO training; the export and report are written.")
]
VerboseOpt = Annotated[
    bool,
    typer.Option("--verbose", "-v", help="Show YOLO training's output (else in DIR/train.log)."),
]


_STOPPING = b"stopping after the current batch (Ctrl-C again to stop now)\n"
_STOPPED = b"stopped now; `facetory run DIR` continues where the last recorded batch ended\n"
_SHOW_CURSOR = b"\x1b[?25h"  # the progress bars hide it; os._exit skips their cleanup


class _StopFlag:
    """First Ctrl-C: finish the current batch, then stop. Second Ctrl-C: stop at once.

    A signal handler runs between any two bytecodes of the main thread, an import included:
    this one imports nothing and formats nothing (rendering rich markup here once re-entered a
    half-imported `rich._emoji_codes`: an ImportError traceback and exit 1 instead of 130).
    It sets a flag and writes bytes made beforehand; the second Ctrl-C kills the worker
    processes (a stopped one would never end) and exits 130. Batches commit whole, so the
    build resumes exactly where its last recorded batch ended."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            _kill_children()
            if sys.stdout.isatty():
                os.write(sys.stdout.fileno(), _SHOW_CURSOR)
            os.write(2, _STOPPED)
            os._exit(130)
        self.requested = True
        os.write(2, _STOPPING)


def _kill_children() -> None:
    """SIGKILL every process this one started, and theirs: the worker pool, and a Ray started
    on this machine (its raylet's agents outlive a killed driver by a minute or more)."""
    mp_process = sys.modules.get("multiprocessing.process")
    pids = {child.pid for child in getattr(mp_process, "_children", ()) if child.pid}
    for pid in pids | _descendants(os.getpid()):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _descendants(root: int) -> set[int]:
    """Every process below `root`, read from /proc (empty where there is none); no imports,
    since a signal handler calls it."""
    parents: dict[int, int] = {}
    with contextlib.suppress(OSError):
        for name in os.listdir("/proc"):
            if name.isdigit():
                with contextlib.suppress(OSError, IndexError, ValueError), \
                        open(f"/proc/{name}/stat", "rb") as stat:
                    parents[int(name)] = int(stat.read().rsplit(b")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return found


def _drive(ctx: BuildContext, *, interactive: bool) -> RunResult:
    """Run the graph with progress bars, answering review pauses as the options allow.

    A build that will generate starts its worker pool first, then imports the graph: the
    workers load their models (about 1.5 CPU-s each) on the cores that importing LangGraph
    (about 1.3 s on one core) leaves idle, and the pool is kept across the review pause that
    --yes answers (bench/RESULTS.md: the first batch's time)."""
    from agent.planning.approval import is_approved

    stop = _StopFlag()
    previous = signal.signal(signal.SIGINT, stop)
    display = BuildDisplay()
    ctx.events.listeners.append(display.on_event)

    def on_update(update: dict[str, Any]) -> None:
        if "dedup" in update:
            display.show_status(build_status(list(ctx.items.values()), ctx.manifest))

    try:
        if (ctx.options.yes or is_approved(ctx.paths.root)) and not ctx.paths.report.exists():
            ctx.start_workers()  # a finished build (its report written) needs no pool
        from agent.runtime.review_answer import answer_review

        answer: dict[str, Any] | None = None
        with display:
            while True:
                result = answer_review(
                    ctx, answer, go_on=True, on_update=on_update,
                    stop_requested=lambda: stop.requested, keep_pool=True,
                ).run
                if result.outcome != "review":
                    return result
                error = result.review.get("error")
                if error:  # the last answer failed; nothing changed
                    if ctx.options.yes or not interactive or not sys.stdin.isatty():
                        fail(error)
                    err_console.print(f"[bold red]error:[/] {escape(error)}", highlight=False)
                answer = _review_answer(ctx, result.review, interactive=interactive)
                if answer is None:
                    return result
    finally:
        signal.signal(signal.SIGINT, previous)
        ctx.close()


def _review_answer(
    ctx: BuildContext, review: dict[str, Any], *, interactive: bool
) -> dict[str, Any] | None:
    if ctx.options.yes:
        return {"action": "approve"}
    print_plan_summary(ctx.plan)  # the requirements were printed as the build opened
    if not interactive or not sys.stdin.isatty():
        return None
    reply = typer.prompt("approve [a], feedback in words, or quit [q]", default="a")
    if reply.strip().lower() in {"a", "approve", "y", "yes"}:
        return {"action": "approve"}
    if reply.strip().lower() in {"q", "quit"}:
        return None
    return {"action": "feedback", "text": reply}


def _finish(ctx: BuildContext, result: RunResult, as_json: bool = False) -> None:
    status = build_status(
        list(ctx.items.values()), ctx.manifest, stop_reason=result.state.get("stop_reason")
    )
    if result.outcome == "review":
        console.print(
            f"The plan in {ctx.paths.plan_yaml} waits for review: edit it if you like, "
            f"then `facetory approve {ctx.paths.root}` and `facetory run {ctx.paths.root}`."
        )
        return
    if result.outcome == "stopped":
        console.print(f"Stopped cleanly. `facetory run {ctx.paths.root}` continues.")
        raise typer.Exit(130)
    print_status(status)
    for line in shortfall(status):
        console.print(f"[yellow]short:[/] {escape(line)}", highlight=False)
    for line in _recovered(ctx, result):
        console.print(f"[yellow]recovered:[/] {escape(line)}", highlight=False)
    if not print_scores(ctx.paths.runs, ctx.paths.dataset) and ctx.options.no_train:
        console.print(f"model: not trained (--no-train); `facetory train {ctx.paths.root}` "
                      "trains one", highlight=False, markup=False)
    print_paths({"dataset": ctx.paths.dataset, "runs": ctx.paths.runs,
                 "log": ctx.paths.train_log, "report": ctx.paths.report})


def _recovered(ctx: BuildContext, result: RunResult) -> list[str]:
    """What this run's start repaired (the runner logs it: images drawn again, stale
    checkpoints dropped), one line each, so a person sees what was redrawn."""
    lines = []
    for event in ctx.events.read():
        if event.get("t", 0) < result.started:
            continue
        if event["event"] == "redrawn":
            damaged = event.get("damaged") or []
            lines.append(f"{event['images']} image(s) drawn again from their seeds"
                         + (f", {len(damaged)} because their file no longer matched its "
                            f"checksum ({', '.join(damaged[:5])})" if damaged else ""))
        elif event["event"] == "state_dropped":
            lines.append(f"checkpoints dropped ({event['reason']}): built again from the plan")
    return lines


@with_settings
def run_command(
    build_dir: DirArg,
    yes: YesOpt = False,
    offline: OfflineOpt = False,
    no_train: NoTrainOpt = False,
    allow_undrawn: AllowUndrawnOpt = False,
    workers: WorkersOpt = None,
    executor: ExecutorOpt = None,
    address: AddressOpt = None,
    verbose: VerboseOpt = False,
    stall_timeout: StallOpt = None,
    settings: dict[str, Any] | None = None,
) -> None:
    """Generate, critique, deduplicate and iterate until the plan is met; resumes if stopped.

    Options that change the output are written into spec.yaml first (a changed spec needs a
    new approval); a build that has started refuses one that contradicts what it recorded.
    """
    paths = BuildPaths(build_dir)
    if not paths.plan_yaml.exists():
        fail(f"{build_dir} has no plan.yaml: start with `facetory plan SPEC --out {build_dir}`")
    options = settings or {}
    chosen = choose_executor(executor, address, _recorded_executor(paths))
    opening(_spec_with(paths, options), allow_undrawn=allow_undrawn)  # refuses before writing
    _record_and_approve(paths, options, yes=yes)
    ctx = build_context(build_dir, offline=offline or None, no_train=no_train, yes=yes,
                        verbose=verbose)
    set_parallelism(ctx, workers=workers, executor=chosen, address=address,
                    stall_timeout=stall_timeout)
    _finish(ctx, _drive(ctx, interactive=False))


def _spec_with(paths: BuildPaths, options: dict[str, Any]) -> Any:
    """The build's spec as it will be once the options are recorded (nothing written yet)."""
    from agent.planning.plan_file import read_spec
    from agent.runtime.overrides import with_options

    return with_options(read_spec(paths.spec_yaml), options)[0]


def opening(spec: Any, *, allow_undrawn: bool) -> None:
    """Every build opens with what was understood and how each requirement is drawn and
    checked (with --yes too), then refuses what cannot be drawn, before anything is written."""
    print_requirements(spec)
    refuse_undrawn(spec, allow=allow_undrawn)
    refuse_unreadable_real_faces(spec)


def _recorded_executor(paths: BuildPaths) -> str:
    """The spec's `executor` (local when spec.yaml cannot say: the run reports why later)."""
    from agent.planning.plan_file import read_spec
    from tools.errors import FacetoryError

    try:
        return read_spec(paths.spec_yaml).executor
    except FacetoryError:
        return "local"


def refuse_undrawn(spec: Any, *, allow: bool) -> None:
    """A requirement the backend cannot draw at all stops the build before it starts, unless
    the person said so (`--allow-undrawn`): labels that mean nothing make a useless dataset."""
    from agent.language.requirements import undrawn

    missing = undrawn(trace(spec))
    if missing and not allow:
        asked = "; ".join(r.asked for r in missing[:3])
        fail(
            f"the {spec.generation.backend} backend cannot draw: {asked}. Use a diffusion "
            "backend (--backend diffusers --model DIR), change the request, or pass "
            "--allow-undrawn to build it anyway"
        )


def refuse_unreadable_real_faces(spec: Any) -> None:
    """A real-face folder the spec names is read before the build starts, not after training:
    a wrong path is one line now rather than a failed evaluation minutes later."""
    real = spec.training.real_faces
    if spec.task == "detect" and real not in ("embedded", "none"):
        from tools.outputs.real_face_set import read_real_set

        read_real_set(real)


def _record_and_approve(paths: BuildPaths, options: dict[str, Any], *, yes: bool) -> None:
    """Write the options into spec.yaml, then check the approval (or give it, with --yes)."""
    from agent.planning.approval import approval_problem, approve
    from agent.runtime.overrides import record_options

    with BuildLock(paths.root):  # both write: not while another run holds the build
        for change in record_options(paths.root, options):
            console.print(f"spec.yaml: {change}", highlight=False, markup=False)
        problem = approval_problem(paths.root)  # plan.yaml and spec.yaml as approved?
        if problem is not None:
            if not yes:
                fail(problem)
            approve(paths.root)


@with_settings
def build_command(
    spec: Annotated[
        str, typer.Argument(metavar="SPEC", help="Plain-language text, a .txt file or a YAML spec.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", metavar="DIR", help="The build directory.")],
    yes: YesOpt = False,
    offline: OfflineOpt = False,
    no_train: NoTrainOpt = False,
    seed: SeedOpt = None,
    allow_undrawn: AllowUndrawnOpt = False,
    workers: WorkersOpt = None,
    executor: ExecutorOpt = None,
    address: AddressOpt = None,
    verbose: VerboseOpt = False,
    stall_timeout: StallOpt = None,
    settings: dict[str, Any] | None = None,
) -> None:
    """Plan, review (or --yes), run, export, train and report in one go."""
    from agent.runtime.workspace import check_out_dir, is_build

    options = settings or {}
    check_out_dir(out)  # a file, under a file, unwritable, or a folder of other files: refused
    paths = BuildPaths(out)
    run = {"offline": offline or None, "no_train": no_train, "yes": yes, "verbose": verbose}
    if paths.spec_txt.exists():  # continue this build: the same words, settings recorded
        chosen = _continued(spec, paths, options, offline=offline, executor=executor,
                            address=address, allow_undrawn=allow_undrawn)
        ctx = build_context(out, **run)
    elif is_build(paths.root):
        fail(f"{out} already holds a different build (planned from other words); "
             "choose another --out")
    else:  # the context that planned it goes on with the plan it holds and its pool
        ctx = _started(spec, out, options, seed=seed, executor=executor, address=address,
                       allow_undrawn=allow_undrawn, run=run,
                       parallel={"workers": workers, "stall_timeout": stall_timeout})
        _finish(ctx, _drive(ctx, interactive=True))
        return
    set_parallelism(ctx, workers=workers, executor=chosen, address=address,
                    stall_timeout=stall_timeout)
    _finish(ctx, _drive(ctx, interactive=True))


def _continued(spec: str, paths: BuildPaths, options: dict[str, Any], *, offline: bool,
               executor: str | None, address: str | None, allow_undrawn: bool) -> str:
    """`build` into its own folder again: the same words, the options recorded; the executor."""
    from agent.language.parse import read_source

    text, _ = read_source(spec)
    if paths.read_spec_text() != as_saved(text):
        fail(f"{paths.root} already holds a different build; choose another --out")
    chosen = choose_executor(executor, address, _recorded_executor(paths))
    if paths.spec_yaml.exists():
        opening(_spec_with(paths, options), allow_undrawn=allow_undrawn)
    if paths.plan_yaml.exists():
        from agent.runtime.overrides import record_options

        with BuildLock(paths.root):
            record_options(paths.root, options)
    return chosen


def _started(spec: str, out: Path, options: dict[str, Any], *, seed: int | None,
             executor: str | None, address: str | None, allow_undrawn: bool,
             parallel: dict[str, Any], run: dict[str, Any]) -> BuildContext:
    """A new build: its words parsed by the graph, then the opening (what was understood, what
    cannot be drawn: refused, with nothing left behind) and, with --yes, the pool started, so
    its models load while the graph plans up to the review pause. The context that planned
    it (`run`: its options; `parallel`: set_parallelism's, but the executor)."""
    from agent.cli.plan_commands import start_build

    def parsed(ctx: BuildContext) -> None:
        chosen = choose_executor(executor, address, ctx.spec.executor)
        opening(ctx.spec, allow_undrawn=allow_undrawn)
        set_parallelism(ctx, executor=chosen, address=address, **parallel)
        if ctx.options.yes:
            ctx.start_workers()

    return start_build(spec, out, ask=False, seed=seed, settings=options, parsed=parsed, **run)


def status_command(
    build_dir: DirArg,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Show progress per class and per attribute cell (works while a build runs)."""
    from agent.runtime.runner import graph_state

    paths = BuildPaths(build_dir)
    if not paths.plan_yaml.exists():
        fail(f"{build_dir} is not a facetory build directory (no plan.yaml)")
    ctx = BuildContext(paths=paths)
    status = build_status(
        list(ctx.items.values()), ctx.manifest, stop_reason=graph_state(ctx).get("stop_reason")
    )
    if as_json:
        sys.stdout.write(json.dumps(status, indent=2) + "\n")
        return
    print_status(status)
    for line in shortfall(status):
        console.print(f"[yellow]short:[/] {escape(line)}", highlight=False)


def train_command(
    build_dir: DirArg,
    epochs: EpochsOpt = None,
    imgsz: Annotated[
        int | None, typer.Option(metavar="PIXELS", help="Training image size (pixels).")
    ] = None,
    model: Annotated[
        str | None, typer.Option(metavar="YAML", help="Model YAML, e.g. yolo11s.yaml.")
    ] = None,
    weights: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Local .pt weights to start from.")
    ] = None,
    real_faces: RealFacesOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Train YOLO on the exported dataset and score it on its test split and on real faces.

    The real faces (beside the Haar cascade) are those training.real_faces names."""
    from agent.cli.evaluate_commands import print_evaluation
    from agent.runtime.nodes.finish import evaluate_real, train_build

    paths = BuildPaths(build_dir)
    if not paths.dataset.exists():
        fail(f"{build_dir} has no exported dataset: run `facetory run {build_dir}` first")
    ctx = BuildContext(paths=paths)
    ctx.options.verbose = verbose
    t = ctx.spec.training  # what the build recorded; the options here are for this run only
    display = BuildDisplay()
    ctx.events.listeners.append(display.on_event)
    with BuildLock(paths.root), display:
        result = train_build(
            ctx, epochs=epochs or t.epochs, imgsz=imgsz or t.imgsz, model=model or t.model,
            weights=weights or t.weights, augment=t.augment,
        )
        real = evaluate_real(ctx, result.metrics_path, real_faces or t.real_faces)
    overall = result.metrics.get("overall", {})
    console.print(
        f"trained on {result.device} in {result.seconds:.0f} s; test split: "
        + ", ".join(f"{k} {v:.3f}" for k, v in overall.items() if isinstance(v, int | float))
    )
    console.print(f" weights: {result.weights}\n metrics: {result.metrics_path}")
    if real is not None:
        print_evaluation(real)


def report_command(build_dir: DirArg) -> None:
    """Write the self-contained report.html for a build."""
    from agent.runtime.finish_inputs import report_inputs
    from tools.outputs.report import write_report

    paths = BuildPaths(build_dir)
    if not paths.plan_yaml.exists():
        fail(f"{build_dir} is not a facetory build directory (no plan.yaml)")
    ctx = BuildContext(paths=paths)
    console.print(f"report: {write_report(report_inputs(ctx), paths.report)}")
