"""The planning commands: `plan`, `review`, `approve`.

They are clients of the build graph: `plan` writes the words and the parsed spec, then runs
the graph's parse and plan nodes up to the review pause, so prompts are enriched in one
place (`agent.runtime.nodes.plan`) whatever the command. Bad input is one line on stderr with exit
code 2, and then nothing is written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from agent.cli.plan_tables import print_plan_summary, print_requirements
from agent.cli.shared import (
    BackendOpt,
    ClipOpt,
    DirArg,
    EpochsOpt,
    ImgszOpt,
    IpAdapterOpt,
    JsonOpt,
    ModelOpt,
    OfflineOpt,
    RealFacesOpt,
    SeedOpt,
    TrainModelOpt,
    VlmModelOpt,
    VlmUrlOpt,
    WeightsOpt,
    build_context,
    console,
    fail,
    settings,
)
from agent.planning.plan import Plan

SourceArg = Annotated[
    str,
    typer.Argument(metavar="SPEC", help="The description in words, or a .txt / .yaml spec file."),
]
OutOpt = Annotated[
    Path, typer.Option("--out", "-o", metavar="DIR", help="The build directory to write.")
]
NoBrowserOpt = Annotated[bool, typer.Option("--no-browser", help="Print the URL only.")]
HostOpt = Annotated[
    str, typer.Option(help="Address to listen on; other than loopback needs the printed token.")
]
PortOpt = Annotated[int, typer.Option(min=0, max=65535, help="Port (0: a free one).")]
#: What `plan` writes into a directory that has not started building (replaced on re-plan).
PLAN_FILES = ("spec.txt", "spec.yaml", "plan.yaml", ".plan_base.yaml", "approval.json",
              "state.sqlite", "state.sqlite-wal", "state.sqlite-shm")


def _json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def prepare_build(
    source: str, out: Path, *, offline: bool | None, seed: int | None, options: dict[str, Any]
) -> tuple[str, Any]:
    """Read the words or spec file, apply the seed and the recorded-setting options, and check
    that the spec plans, all before anything is written: (text, spec)."""
    from agent.language.parse import load_spec_source
    from agent.planning.planner import make_plan
    from agent.runtime.overrides import with_options
    from agent.runtime.workspace import check_out_dir

    check_out_dir(out)  # a file, under a file, unwritable, or a folder of other files: refused
    text, spec = load_spec_source(source, offline=offline)
    if seed is not None:  # validated: a copy's seed is not, and spec.yaml was written with it
        spec = with_seed(spec, seed)
    spec, _ = with_options(spec, options)
    make_plan(spec, reuse=True)  # an infeasible request fails here, with nothing written
    return text, spec


def with_seed(spec: Any, seed: int) -> Any:
    """The spec with `--seed`, checked as a spec's seed is (one SpecError line)."""
    from pydantic import ValidationError

    from agent.language.spec import DatasetSpec, SpecError, validation_message

    try:
        return DatasetSpec.model_validate({**spec.model_dump(mode="json"), "seed": seed})
    except ValidationError as exc:
        raise SpecError(f"--seed: {validation_message(exc)}") from None


def answered_build(source: str, out: Path, *, ask: bool, **kwargs: Any) -> tuple[str, Any]:
    """prepare_build, asking the person in a terminal each question the reading leaves (the
    answers join their words, so spec.txt re-plans the same); elsewhere the question is the
    error, with its candidates."""
    from agent.language.accounting import Question
    from agent.language.parse import read_source

    for _ in range(5):
        try:
            return prepare_build(source, out, **kwargs)
        except Question as question:
            if not ask or not all(u.askable for u in question.items):
                raise
            text, _ = read_source(source)
            source = text.rstrip() + "\n" + "\n".join(_ask(u) for u in question.items) + "\n"
    return prepare_build(source, out, **kwargs)


def _ask(item: Any) -> str:
    """One question on the terminal -> the answer line spec.txt keeps."""
    from agent.language.answers import answer
    from agent.language.spec import SpecError

    options = " / ".join([*item.candidates, "other"])
    while True:
        choice = typer.prompt(f"{item.line()} {options}", default=item.candidates[0])
        try:
            return answer(item.words, choice)
        except SpecError as exc:
            console.print(escape(str(exc)), highlight=False)


def as_saved(text: str) -> str:
    """The request as spec.txt keeps it: ending in one newline (a sentence typed on the
    command line has none, and `build` compares the two to continue a build)."""
    return text if text.endswith("\n") else text + "\n"


def write_build_start(out: Path, text: str, spec: Any) -> None:
    """spec.txt and spec.yaml of a new build (an earlier plan in `out` is replaced)."""
    from agent.planning.plan_file import write_spec
    from tools.atomic import write_text

    out.mkdir(parents=True, exist_ok=True)
    for name in PLAN_FILES:
        (out / name).unlink(missing_ok=True)
    write_text(out / "spec.txt", as_saved(text))
    write_spec(spec, out / "spec.yaml")


def plan_command(
    source: SourceArg,
    out: OutOpt,
    offline: OfflineOpt = False,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
    backend: BackendOpt = None,
    model: ModelOpt = None,
    ip_adapter: IpAdapterOpt = None,
    vlm_url: VlmUrlOpt = None,
    vlm_model: VlmModelOpt = None,
    clip_checkpoint: ClipOpt = None,
    epochs: EpochsOpt = None,
    imgsz: ImgszOpt = None,
    weights: WeightsOpt = None,
    train_model: TrainModelOpt = None,
    real_faces: RealFacesOpt = None,
) -> None:
    """Describe a dataset in words (or give a spec file) and write a balanced plan to review."""
    from agent.runtime.runner import run_graph
    from agent.runtime.workspace import first_files

    if (out / "manifest.sqlite").exists():
        fail(f"{out} already holds a build that has started; plan into a new --out directory")
    options = settings(
        backend=backend, model=model, ip_adapter=ip_adapter, vlm_url=vlm_url,
        vlm_model=vlm_model, clip_checkpoint=clip_checkpoint, epochs=epochs, imgsz=imgsz,
        weights=weights, train_model=train_model, real_faces=real_faces,
    )
    ask = not as_json and sys.stdin.isatty()
    text, spec = answered_build(
        source, out, ask=ask, offline=offline or None, seed=seed, options=options
    )
    with first_files(out, PLAN_FILES):  # a full disk, Ctrl-C or a second plan: no half a build
        write_build_start(out, text, spec)
        ctx = build_context(out, offline=offline or None)
        run_graph(ctx)  # parse -> plan (prompts enriched) -> review: pauses there
    plan = ctx.plan
    summary = plan.summary()
    if as_json:
        _json({**summary, "balance": _balance_brief(plan), "variants": _variants(plan),
               **_trace(plan.spec), "plan": str(out / "plan.yaml")})
        return
    print_requirements(plan.spec)
    print_plan_summary(plan, summary)
    console.print(
        escape(
            f"wrote {out / 'plan.yaml'}: edit it if you like, then `facetory review {out}` and "
            f"`facetory approve {out}`"
        ),
        highlight=False,
    )


def _trace(spec: Any) -> dict[str, Any]:
    """`understood` and `requirements` for --json (agent.language.requirements)."""
    from agent.language.requirements import trace, understood

    return {
        "understood": understood(spec),
        "requirements": [r.model_dump() for r in trace(spec)],
    }


def _variants(plan: Plan) -> dict[str, int]:
    """Planned augmentation variants per status row (`<class> ~ <augmentation>`)."""
    from agent.planning.variants import plan_variants, variant_rows

    return variant_rows(plan_variants(plan))


def _balance_brief(plan: Plan) -> dict[str, float]:
    b = plan.balance()
    return {"marginal": b["marginal"], "pairwise": b["pairwise"]}


def review_command(
    build_dir: DirArg,
    as_json: JsonOpt = False,
    feedback: Annotated[
        str | None,
        typer.Option("--feedback", "-f", help="Change the plan by saying how, in words."),
    ] = None,
    offline: OfflineOpt = False,
    web: Annotated[
        bool, typer.Option("--web", help="Review in the browser: tables, samples, cost, approve.")
    ] = False,
    no_browser: NoBrowserOpt = False,
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 0,
) -> None:
    """Validate an edited plan.yaml, rebalance what the edit implies, and show what changed.

    The edit reaches the graph's review node (and an edited spec its plan node), the same
    steps `run` and `build` take; a build past its review pause is revised in place.
    """
    from agent.planning.feedback import apply_edit

    if web:
        serve_command(build_dir, no_browser=no_browser, host=host, port=port)
        return
    if feedback is not None:
        review_with_feedback(build_dir, feedback, offline=offline or None)
        return
    result, plan = apply_edit(build_dir, offline=offline or None)
    if as_json:
        _json(
            {
                "changed": result.changed,
                "kind": result.kind,
                "changes": result.changes,
                "warnings": result.warnings,
                "summary": plan.summary(),
                "balance": _balance_brief(plan),
                "variants": _variants(plan),
                **_trace(plan.spec),
            }
        )
        return
    print_requirements(plan.spec)
    print_plan_summary(plan)
    if not result.changed:
        console.print("plan.yaml is valid and unchanged.")
    else:
        what = "quotas/proportions" if result.kind == "spec" else "items"
        console.print(f"applied your edit of the {what}; what changed:", highlight=False)
        for line in result.changes:
            console.print(f"  {escape(line)}", highlight=False, soft_wrap=True)
        for line in result.warnings:
            console.print(f"[yellow]off target:[/] {escape(line)}", highlight=False, soft_wrap=True)
    console.print(escape(f"approve it with `facetory approve {build_dir}`"), highlight=False)


def review_with_feedback(build_dir: Path, feedback: str, *, offline: bool | None) -> None:
    """`facetory review DIR --feedback WORDS`: apply it (`agent.planning.feedback.apply_feedback`,
    the
    one function the web review's feedback form calls too), print the new plan and the
    changes."""
    from agent.planning.feedback import apply_feedback
    from agent.runtime.context import BuildContext
    from tools.build_dir import BuildPaths

    changes = apply_feedback(build_dir, feedback, offline=offline)
    print_plan_summary(BuildContext(paths=BuildPaths(build_dir)).plan)
    console.print("what your feedback changed:", highlight=False)
    for line in changes:
        console.print(f"  {line}", highlight=False, markup=False)
    console.print(f"approve it with `facetory approve {build_dir}`", highlight=False, markup=False)


def approve_command(build_dir: DirArg) -> None:
    """Accept plan.yaml as it is; `run` refuses a plan that is unapproved or edited since.

    The graph's review node reads the approval when `run` continues the build.
    """
    from agent.planning.approval import approve
    from agent.runtime.lock import writer_lock

    with writer_lock(build_dir):  # not while a run holds the build: one line, nothing changed
        record = approve(build_dir)
    console.print(
        f"approved {record['items']:,} items in {build_dir / 'plan.yaml'}", highlight=False
    )


def serve_command(
    build_dir: DirArg,
    no_browser: NoBrowserOpt = False,
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 0,
) -> None:
    """Review the plan, watch the build and curate the gallery in a local web app."""
    from agent.web.server import serve

    serve(build_dir, host=host, port=port, open_browser=not no_browser,
          echo=lambda line: console.print(escape(line), highlight=False, soft_wrap=True))
