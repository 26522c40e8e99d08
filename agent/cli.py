"""The `facetory` command line: plan, review, approve, run, status, train, report, build.

Every command turns a `FacetoryError` into one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

from tools.errors import FacetoryError

app = typer.Typer(
    name="facetory",
    help="Describe a synthetic face dataset in plain language; plan, review, build and check it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> None:
    """Print one line and exit with `code` (2: bad input)."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@app.callback()
def _root() -> None:
    """facetory: synthetic face datasets you can describe, check, trust and resume."""


def main() -> None:
    """Console entry point: user errors become one line on stderr and exit code 2."""
    try:
        app()  # standalone: typer itself turns usage errors into exit 2 and Ctrl-C into exit 1
    except FacetoryError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False,
                          soft_wrap=True)
        sys.exit(2)


# Commands live in their own modules; each registers here with one import and one line.
from agent.commands_plan import (  # noqa: E402
    approve_command,
    plan_command,
    review_command,
    serve_command,
)

app.command("plan")(plan_command)
app.command("review")(review_command)
app.command("approve")(approve_command)
app.command("serve")(serve_command)

from agent.commands_run import build_command, run_command, status_command  # noqa: E402

app.command("run")(run_command)
app.command("status")(status_command)
app.command("build")(build_command)

from agent.commands_run import report_command, train_command  # noqa: E402

app.command("train")(train_command)
app.command("report")(report_command)
