"""The `facetory` command line: plan, review, approve, serve, run, status, train, report, build.

Imports go one way: this module registers the commands of `agent.commands_plan` and
`agent.commands_run`, which share `agent.cli_shared` and never import this module. Every
command is wrapped once (`one_line_errors`): a FacetoryError is one line on stderr and exit
code 2, never a traceback, whether run as the console script or through typer's CliRunner.
"""

from __future__ import annotations

import typer

from agent.cli_shared import one_line_errors
from agent.commands_plan import approve_command, plan_command, review_command, serve_command
from agent.commands_run import (
    build_command,
    report_command,
    run_command,
    status_command,
    train_command,
)

app = typer.Typer(
    name="facetory",
    help="Describe a synthetic face dataset in plain language; plan, review, build and check it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """facetory: synthetic face datasets you can describe, check, trust and resume."""


COMMANDS = {
    "plan": plan_command,
    "review": review_command,
    "approve": approve_command,
    "serve": serve_command,
    "run": run_command,
    "status": status_command,
    "build": build_command,
    "train": train_command,
    "report": report_command,
}
for _name, _command in COMMANDS.items():
    app.command(_name)(one_line_errors(_command))


def main() -> None:
    """Console entry point (typer turns usage errors into exit 2 and Ctrl-C into exit 1)."""
    app()
