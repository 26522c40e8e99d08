"""The planning commands: `plan`, `review`, `approve`, and the tables they print.

`plan` reads words (or a spec file), plans, writes DIR/spec.txt, spec.yaml and plan.yaml, and
prints per class the count of every factor level. Bad input is one line on stderr with exit
code 2, and then nothing is written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from agent.cli import console, err_console
from agent.plan import Plan
from tools.errors import FacetoryError

SourceArg = Annotated[
    str, typer.Argument(help="The description in words, or a .txt / .yaml spec file.")
]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="The build directory to write.")]
DirArg = Annotated[Path, typer.Argument(help="The build directory.")]
OfflineOpt = Annotated[
    bool, typer.Option("--offline", help="Read the words with the rules, never an LLM.")
]
SeedOpt = Annotated[int | None, typer.Option(min=0, help="Override the spec's seed.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a JSON summary instead of tables.")]
NoBrowserOpt = Annotated[bool, typer.Option("--no-browser", help="Print the URL only.")]
HostOpt = Annotated[
    str, typer.Option(help="Address to listen on; other than loopback needs the printed token.")
]
PortOpt = Annotated[int, typer.Option(min=0, max=65535, help="Port (0: a free one).")]


def fail(message: str) -> None:
    """One line on stderr (user text escaped, so brackets survive rich) and exit code 2."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def print_plan_summary(plan: Plan, summary: dict[str, Any] | None = None) -> None:
    """Rich tables: the classes, then one table per factor (levels x classes, with targets)."""
    summary = summary or plan.summary()
    spec = plan.spec
    classes = list(summary["classes"])
    table = Table(
        title=f"{escape(summary['name'])}: {summary['total']:,} images, seed {summary['seed']}"
    )
    for col in ("class", "images", "train", "val", "test"):
        table.add_column(col, justify="left" if col == "class" else "right")
    if "identities" in summary:
        table.add_column("people", justify="right")
    table.add_column("fixed")
    for cname in classes:
        cspec = spec.class_spec(cname)
        split = summary["splits"][cname]
        row = [escape(cname), f"{summary['classes'][cname]:,}", *(f"{split[s]:,}" for s in split)]
        if "identities" in summary:
            row.append(f"{summary['identities'][cname]:,}")
        fixed = ", ".join(f"{k}={v}" for k, v in (cspec.attributes if cspec else {}).items())
        table.add_row(*row, escape(fixed))
    console.print(table)
    factors = []
    for cname in classes:
        for factor in summary["per_class"][cname]:
            if factor not in factors:
                factors.append(factor)
    for factor in factors:
        f = spec.factor(factor)
        varied = any(
            len([v for v in summary["per_class"][c].get(factor, {}).values() if v]) > 1
            for c in classes
        )
        if not varied:
            continue
        scope = " (per person)" if f is not None and f.scope == "identity" else ""
        t = Table(title=f"{factor}{scope}")
        t.add_column("level")
        for cname in classes:
            t.add_column(escape(cname), justify="right")
        if f is not None:
            t.add_column("target", justify="right")
        levels: list[str] = []
        for cname in classes:
            for lv in summary["per_class"][cname].get(factor, {}):
                if lv not in levels:
                    levels.append(lv)
        targets = f.targets() if f is not None else {}
        for lv in levels:
            row = [escape(lv)] + [
                str(summary["per_class"][c].get(factor, {}).get(lv, "")) for c in classes
            ]
            if f is not None:
                share = targets.get(lv)
                row.append(f"{share * 100:.3g}%" if share is not None else "")
            t.add_row(*row)
        console.print(t)
    if "faces" in summary:
        t = Table(title="faces per image")
        t.add_column("faces")
        for cname in classes:
            t.add_column(escape(cname), justify="right")
        for k in next(iter(summary["faces"].values())):
            t.add_row(k, *(str(summary["faces"][c][k]) for c in classes))
        console.print(t)
    balance = plan.balance()
    console.print(
        f"balance: every level within {balance['marginal']:g} image(s) of its target, every "
        f"pair of factors within {balance['pairwise']:g} of its expected count",
        highlight=False,
    )


def plan_command(
    source: SourceArg,
    out: OutOpt,
    offline: OfflineOpt = False,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Describe a dataset in words (or give a spec file) and write a balanced plan to review."""
    from agent.parse import load_spec_source
    from agent.plan_io import APPROVAL, write_plan, write_spec
    from agent.planner import make_plan
    from tools.atomic import write_text

    try:
        if out.exists() and not out.is_dir():
            raise FacetoryError(f"{out} exists and is not a directory")
        if (out / "manifest.sqlite").exists():
            raise FacetoryError(
                f"{out} already holds a build that has started; plan into a new --out directory"
            )
        text, spec = load_spec_source(source, offline=offline or None)
        if seed is not None:
            spec = spec.model_copy(update={"seed": seed})
        plan = make_plan(spec)
        summary = plan.summary()
    except FacetoryError as exc:
        fail(str(exc))
        return
    write_text(out / "spec.txt", text if text.endswith("\n") else text + "\n")
    write_spec(spec, out / "spec.yaml")
    write_plan(plan, out / "plan.yaml")
    (out / APPROVAL).unlink(missing_ok=True)
    if as_json:
        _json({**summary, "balance": _balance_brief(plan), "plan": str(out / "plan.yaml")})
        return
    print_plan_summary(plan, summary)
    console.print(
        escape(
            f"wrote {out / 'plan.yaml'}: edit it if you like, then `facetory review {out}` and "
            f"`facetory approve {out}`"
        ),
        highlight=False,
    )


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
    offline: Annotated[bool, typer.Option("--offline", help="Never call an LLM.")] = False,
    web: Annotated[
        bool, typer.Option("--web", help="Review in the browser: tables, samples, cost, approve.")
    ] = False,
    no_browser: NoBrowserOpt = False,
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 0,
) -> None:
    """Validate an edited plan.yaml, rebalance what the edit implies, and show what changed."""
    from agent.plan_io import review_plan

    if web:
        serve_command(build_dir, no_browser=no_browser, host=host, port=port)
        return
    if feedback is not None:
        from agent.commands_run import review_with_feedback

        review_with_feedback(build_dir, feedback, offline=offline or None)
        return

    try:
        result = review_plan(build_dir)
    except FacetoryError as exc:
        fail(str(exc))
        return
    if as_json:
        _json(
            {
                "changed": result.changed,
                "kind": result.kind,
                "changes": result.changes,
                "warnings": result.warnings,
                "summary": result.plan.summary(),
                "balance": _balance_brief(result.plan),
            }
        )
        return
    print_plan_summary(result.plan)
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


def approve_command(build_dir: DirArg) -> None:
    """Accept plan.yaml as it is; `run` refuses a plan that is unapproved or edited since."""
    from agent.plan_io import approve

    try:
        record = approve(build_dir)
    except FacetoryError as exc:
        fail(str(exc))
        return
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

    try:
        serve(build_dir, host=host, port=port, open_browser=not no_browser,
              echo=lambda line: console.print(escape(line), highlight=False, soft_wrap=True))
    except FacetoryError as exc:
        fail(str(exc))
