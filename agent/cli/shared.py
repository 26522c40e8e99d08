"""What every `facetory` command shares: the consoles, one-line errors, the options, and the
build context a command drives the graph with.

The command modules import this one, and `agent.cli.app` imports them: no module imports back.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from tools.config import STALL_SECONDS
from tools.errors import FacetoryError

console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 2) -> None:
    """Print one line on stderr (user text escaped, so brackets survive rich) and exit."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def one_line_errors(command: F) -> F:
    """The one place a FacetoryError becomes one line on stderr and exit code 2."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except FacetoryError as exc:
            fail(str(exc))

    return run  # type: ignore[return-value]


DirArg = Annotated[Path, typer.Argument(metavar="DIR", help="The build directory.")]
OfflineOpt = Annotated[bool, typer.Option("--offline", help="Never call an LLM endpoint.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
SeedOpt = Annotated[int | None, typer.Option(min=0, metavar="N", help="Override the spec's seed.")]
WorkersOpt = Annotated[
    int | None,
    typer.Option(
        min=1, metavar="N",
        help="Processes that judge and embed images (default: one per core, fewer for a small "
        "build; never more than the cores and the free memory hold; with --executor ray, "
        "critic actors, default one per CPU of the cluster, never more than it holds). The "
        "dataset is the same for any "
        "number; a resume may use another.",
    ),
]


def _positive(value: float | None) -> float | None:
    """Checked here, not with `min=`, whose range would widen every help table's type column."""
    if value is not None and value <= 0:
        raise typer.BadParameter("must be more than 0 seconds")
    return value


StallOpt = Annotated[
    float | None,
    typer.Option(
        "--stall-timeout", metavar="SECONDS", callback=_positive,
        help="Seconds a batch on the worker pool (or Ray's actors) may make no progress "
        f"before it is run again once on fresh workers (default: {STALL_SECONDS:g}).",
    ),
]

ExecutorOpt = Annotated[
    str | None,
    typer.Option(
        metavar="local|ray",
        help="Where judging (and diffusion generation on GPUs) runs: local (processes here) "
        "or ray (Ray actors; pip install 'facetory\\[ray]'). Default: the spec's executor. "
        "The dataset is the same either way; a resume may use another.",
    ),
]
AddressOpt = Annotated[
    str | None,
    typer.Option(
        metavar="HOST:PORT",
        help="With --executor ray: the head node's HOST:PORT (as `ray start --head` prints "
        "it). Default: RAY_ADDRESS, else a Ray started on this machine.",
    ),
]

#: Planned images per worker below which the default starts fewer workers: a worker costs
#: about 2 CPU-seconds to start (interpreter, OpenCV, dlib and the critic's models), what
#: judging some 60 images costs, so a small build is done sooner in one process.
IMAGES_PER_WORKER = 100


def default_workers(planned: int) -> int:
    """One worker per core this process may use (as many as the memory holds), at most one
    per `IMAGES_PER_WORKER`."""
    from tools.execution.base import worker_cap

    return max(1, min(worker_cap()[0], planned // IMAGES_PER_WORKER))


def capped_workers(asked: int, held: tuple[int, str] | None = None,
                   where: str = "this machine") -> int:
    """`--workers` as this machine (or the Ray cluster: `held` and `where`) can hold it
    (`tools.execution.base.worker_cap`); one line on stderr when it is fewer than asked."""
    from tools.execution.base import worker_cap

    cap, why = held or worker_cap()
    if asked <= cap:
        return asked
    err_console.print(f"--workers {asked} is more than {where} holds ({why}): using {cap}",
                      highlight=False, markup=False, soft_wrap=True)
    return cap


def choose_executor(option: str | None, address: str | None, recorded: str) -> str:
    """The executor of this run: the option, else the spec's. Ray is joined here, before the
    command writes anything, so a missing Ray or a dead address is one line and exit 2."""
    from tools.config import EXECUTORS

    chosen = (option or recorded).strip().lower()
    if chosen not in EXECUTORS:
        fail(f"--executor must be one of {', '.join(EXECUTORS)}, not {option!r}")
    if address and chosen != "ray":
        fail("--address names a Ray cluster: add --executor ray")
    if chosen == "ray":
        from tools.execution.ray_actors import connect

        connect(address)
    return chosen


def set_parallelism(ctx: Any, *, workers: int | None, executor: str, address: str | None,
                    stall_timeout: float | None = None) -> None:
    """Workers (processes, or Ray's critic actors) and the executor, on the run's options:
    by default one worker per core here (fewer for a small build), one actor per cluster CPU;
    never more workers than the machine (or the Ray cluster) holds."""
    ctx.options.executor, ctx.options.address = executor, address
    if stall_timeout is not None:
        ctx.options.stall_seconds = stall_timeout
    if executor == "ray":
        from tools.execution.ray_actors import cluster_cap

        held = cluster_cap()
        ctx.options.workers = (capped_workers(workers, held, "the Ray cluster") if workers
                               else held[0])
    elif workers:
        ctx.options.workers = capped_workers(workers)
    else:
        ctx.options.workers = default_workers(ctx.spec.total)


# Options that change what a build produces: recorded in spec.yaml (see agent.runtime.overrides).
BackendOpt = Annotated[
    str | None,
    typer.Option(metavar="NAME", help="procedural, diffusers or diffusers-identity "
                 "(spec: generation.backend)."),
]
ModelOpt = Annotated[
    str | None, typer.Option(metavar="MODEL", help="A local diffusion model folder or cached id "
                 "(spec: generation.diffusers.model).")
]
IpAdapterOpt = Annotated[
    str | None,
    typer.Option("--ip-adapter", metavar="DIR", help="A local IP-Adapter "
                 "(spec: generation.identity.ip_adapter)."),
]
VlmUrlOpt = Annotated[
    str | None, typer.Option("--vlm-url", metavar="URL",
                 help="A vision chat endpoint (spec: quality.vlm.base_url).")
]
VlmModelOpt = Annotated[
    str | None,
    typer.Option("--vlm-model", metavar="NAME", help="Its model (spec: quality.vlm.model)."),
]
ClipOpt = Annotated[
    Path | None,
    typer.Option("--clip-checkpoint", metavar="FILE",
                 help="Local CLIP weights (spec: quality.clip.checkpoint)."),
]
EpochsOpt = Annotated[
    int | None, typer.Option(metavar="N", help="YOLO training epochs (spec: training.epochs).")
]
ImgszOpt = Annotated[
    int | None,
    typer.Option(metavar="PIXELS", help="Training image size (spec: training.imgsz)."),
]
WeightsOpt = Annotated[
    str | None, typer.Option(metavar="FILE",
                 help="Local .pt weights to start from (spec: training.weights).")
]
TrainModelOpt = Annotated[
    str | None, typer.Option("--train-model", metavar="YAML",
                 help="A YOLO model YAML (spec: training.model).")
]
RealFacesOpt = Annotated[
    str | None,
    typer.Option("--real-faces", metavar="SOURCE",
                 help="Real faces the trained model is scored on: embedded, none, or a YOLO "
                 "or COCO folder (spec: training.real_faces)."),
]


#: The options that change what a build produces, declared once: `with_settings` adds them
#: to `plan`, `run` and `build`. Parameter -> (its `agent.runtime.overrides.OPTION_FIELDS`
#: name, its declaration).
RECORDED_OPTIONS: dict[str, tuple[str, Any]] = {
    "backend": ("backend", BackendOpt),
    "model": ("model", ModelOpt),
    "ip_adapter": ("ip-adapter", IpAdapterOpt),
    "vlm_url": ("vlm-url", VlmUrlOpt),
    "vlm_model": ("vlm-model", VlmModelOpt),
    "clip_checkpoint": ("clip-checkpoint", ClipOpt),
    "epochs": ("epochs", EpochsOpt),
    "imgsz": ("imgsz", ImgszOpt),
    "weights": ("weights", WeightsOpt),
    "train_model": ("train-model", TrainModelOpt),
    "real_faces": ("real-faces", RealFacesOpt),
}


def with_settings(command: F) -> F:
    """The command with the recorded options (`RECORDED_OPTIONS`) added to its signature, after
    its own parameters; it receives them as one `settings` dict, keyed as OPTION_FIELDS names
    them (None: not given), which it must declare as its last parameter."""
    hints = typing.get_type_hints(command, include_extras=True)
    own = [p.replace(annotation=hints.get(p.name, p.annotation))
           for p in inspect.signature(command).parameters.values() if p.name != "settings"]
    added = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                               annotation=declared)
             for name, (_, declared) in RECORDED_OPTIONS.items()]

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        given = {RECORDED_OPTIONS[name][0]: kwargs.pop(name, None) for name in RECORDED_OPTIONS}
        return command(*args, settings=given, **kwargs)

    run.__signature__ = inspect.Signature([*own, *added])  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in [*own, *added]}
    return run  # type: ignore[return-value]


def build_context(build_dir: Path, **options: Any):
    """The context a command runs the graph with (an LLM client when one is configured)."""
    from agent.runtime.session import open_build

    return open_build(build_dir, **options)


AllowUndrawnOpt = Annotated[
    bool,
    typer.Option(
        "--allow-undrawn",
        help="Build even though the backend cannot draw some requirement (see `plan`'s table).",
    ),
]
