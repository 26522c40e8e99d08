"""The planning commands: `plan`, `review`, `approve`.

They are clients of the build graph: `plan` writes the words, then runs the graph's parse and
plan nodes up to the review pause; `review`, `review --feedback` and `approve` answer that pause
through `agent.runtime.review_answer.answer_review`, as `run`, `build` and the web review do.
Bad input is one line on stderr with exit code 2, and then nothing is written.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from agent.cli.plan_tables import print_plan_summary, print_requirements
from agent.cli.shared import (
    DirArg,
    JsonOpt,
    OfflineOpt,
    SeedOpt,
    console,
    fail,
    with_settings,
)
from agent.planning.plan import Plan
from tools.errors import FacetoryError

SourceArg = Annotated[
    str,
    typer.Argument(metavar="SPEC", help="The description in words, or a .txt / .yaml spec file."),
]
OutOpt = Annotated[
    Path, typer.Option("--out", "-o", metavar="DIR", help="The build directory to write.")
]
NoBrowserOpt = Annotated[bool, typer.Option("--no-browser", help="Print the URL only.")]
HostOpt = Annotated[
    str,
    typer.Option(metavar="HOST",
                 help="Address to listen on; other than loopback needs the printed token."),
]
PortOpt = Annotated[
    int, typer.Option(min=0, max=65535, metavar="PORT", help="Port (0: a free one).")
]
#: What `plan` writes into a directory that has not started building (replaced on re-plan).
PLAN_FILES = ("spec.txt", "spec.yaml", "plan.yaml", ".plan_base.yaml", "approval.json",
              "state.sqlite", "state.sqlite-wal", "state.sqlite-shm")


def _json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def request_of(source: str, *, seed: int | None, settings: dict[str, Any]
               ) -> tuple[str, dict[str, Any]]:
    """The words (or spec file) to save as spec.txt, and what the graph's parse node applies
    to them (`BuildState.request`): nothing is parsed here."""
    from agent.language.parse import read_source

    text, is_yaml = read_source(source)
    given = {k: str(v) if isinstance(v, Path) else v for k, v in settings.items()}
    return text, {"is_yaml": is_yaml, "newline_added": not text.endswith("\n"), "seed": seed,
                  "settings": given}


def start_build(source: str, out: Path, *, ask: bool, seed: int | None,
                settings: dict[str, Any], parsed: Callable[[Any], None] | None = None,
                **options: Any) -> Any:
    """Write a new build's words and run its graph to the review pause (parse, plan); undone
    when that fails, or when `parsed` (given the context once the parse node wrote the spec,
    before planning) refuses it; a pool it starts is kept for the build. In a terminal each
    question the reading leaves is asked and the answer joins the words (so spec.txt re-plans
    the same); elsewhere the question is the error."""
    from agent.language.accounting import Question
    from agent.runtime.lock import is_locked
    from agent.runtime.review_answer import answer_review
    from agent.runtime.session import open_build
    from agent.runtime.workspace import check_out_dir, first_files

    try:  # a file, under a file, unwritable, or a folder of other files: refused
        check_out_dir(out)
    except FacetoryError:
        if not is_locked(out):
            raise  # else a command planning into it now: its lock refuses this one below
    text, request = request_of(source, seed=seed, settings=settings)
    for round_ in range(6):  # five rounds of answers at most, then the question is the error
        try:
            with first_files(out, PLAN_FILES):  # failing (bad words, Ctrl-C): no half a build
                check_out_dir(out)  # again, holding the lock
                write_build_start(out, text)
                ctx = open_build(out, **options)
                try:  # parse -> plan -> review pause
                    answer_review(ctx, None, request=request, keep_pool=parsed is not None,
                                  on_update=_after_parse(ctx, parsed))
                except BaseException:
                    ctx.close()
                    raise
            return ctx
        except Question as question:
            if not ask or round_ == 5 or not all(u.askable for u in question.items):
                raise
            text = text.rstrip() + "\n" + "\n".join(_ask(u) for u in question.items) + "\n"
            request["newline_added"] = False
    raise AssertionError("unreachable: the last round raises")


def _after_parse(ctx: Any, parsed: Callable[[Any], None] | None
                 ) -> Callable[[dict[str, Any]], None] | None:
    """The graph's update hook that hands the context to `parsed` once the spec is parsed."""
    if parsed is None:
        return None

    def on_update(update: dict[str, Any]) -> None:
        if "parse" in update:
            parsed(ctx)

    return on_update


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


def write_build_start(out: Path, text: str) -> None:
    """spec.txt of a new build (an earlier plan in `out` is replaced)."""
    from tools.atomic import write_text

    out.mkdir(parents=True, exist_ok=True)
    for name in PLAN_FILES:
        (out / name).unlink(missing_ok=True)
    write_text(out / "spec.txt", as_saved(text))


@with_settings
def plan_command(
    source: SourceArg,
    out: OutOpt,
    offline: OfflineOpt = False,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
    settings: dict[str, Any] | None = None,
) -> None:
    """Describe a dataset in words (or give a spec file) and write a balanced plan to review."""
    if (out / "manifest.sqlite").exists():
        fail(f"{out} already holds a build that has started; plan into a new --out directory")
    ask = not as_json and sys.stdin.isatty()
    ctx = start_build(source, out, ask=ask, seed=seed, settings=settings or {},
                      offline=offline or None)
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
        typer.Option("--feedback", "-f", metavar="WORDS",
                     help="Change the plan by saying how, in words."),
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

    The edit reaches the graph's review node (`agent.runtime.review_answer.answer_review`, as
    every answer to the review does); a build past its review pause is revised in place.
    """
    from agent.runtime.review_answer import answer_review
    from agent.runtime.session import open_build

    if web:
        serve_command(build_dir, no_browser=no_browser, host=host, port=port)
        return
    ctx = open_build(build_dir, offline=offline or None)
    if feedback is not None:
        answered = _feedback_asked(ctx, feedback, ask=not as_json and sys.stdin.isatty())
        _print_feedback(build_dir, answered.plan, answered.changes)
        return
    answered = answer_review(ctx, {"action": "edit"})
    if as_json:
        _json(_review_json(answered.review, answered.plan))
        return
    _print_review(build_dir, answered.review, answered.plan)


def _feedback_asked(ctx: Any, feedback: str, *, ask: bool) -> Any:
    """Feedback answered as `plan` answers its words: in a terminal each share question the
    reading leaves (offline or LLM) is asked and the answer joins the feedback; elsewhere the
    question is the error."""
    from agent.language.accounting import Question
    from agent.runtime.review_answer import answer_review

    for round_ in range(6):
        try:
            return answer_review(ctx, {"action": "feedback", "text": feedback})
        except Question as question:
            if not ask or round_ == 5 or not all(u.askable for u in question.items):
                raise
            feedback = feedback.rstrip() + "\n" + "\n".join(_ask(u) for u in question.items)
    raise AssertionError("unreachable: the last round raises")


def _review_json(result: Any, plan: Plan) -> dict[str, Any]:
    return {
        "changed": result.changed,
        "kind": result.kind,
        "changes": result.changes,
        "warnings": result.warnings,
        "summary": plan.summary(),
        "balance": _balance_brief(plan),
        "variants": _variants(plan),
        **_trace(plan.spec),
    }


def _print_review(build_dir: Path, result: Any, plan: Plan) -> None:
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


def _print_feedback(build_dir: Path, plan: Plan, changes: list[str]) -> None:
    """The plan feedback revised, and what it changed."""
    print_plan_summary(plan)
    console.print("what your feedback changed:", highlight=False)
    for line in changes:
        console.print(f"  {line}", highlight=False, markup=False)
    console.print(f"approve it with `facetory approve {build_dir}`", highlight=False, markup=False)


def approve_command(build_dir: DirArg) -> None:
    """Accept plan.yaml as it is; `run` refuses a plan that is unapproved or edited since.

    The graph's review node reads the approval when `run` continues the build.
    """
    from agent.runtime.review_answer import answer_review
    from agent.runtime.session import open_build

    answered = answer_review(open_build(build_dir, offline=True), {"action": "approve"})
    console.print(
        f"approved {answered.items:,} items in {build_dir / 'plan.yaml'}", highlight=False
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
