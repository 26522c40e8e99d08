"""The `facetory` command line: plan, review, approve, serve, run, status, train, evaluate,
report, build.

Imports go one way: this module registers the commands of `agent.cli.plan_commands` and
`agent.cli.run_commands`, which share `agent.cli.shared` and never import this module. Every
command is wrapped once (`one_line_errors`): a FacetoryError is one line on stderr and exit
code 2, never a traceback, whether run as the console script or through typer's CliRunner.
`main` adds what only the console script meets: Ctrl-C while starting, and failures of the
machine rather than of the input (a full disk, a read-only place, a damaged database).
"""

from __future__ import annotations

import errno
import signal
import sqlite3
import sys
from types import FrameType

import typer
from rich.markup import escape

from agent.cli.evaluate_commands import evaluate_command
from agent.cli.info_commands import facetory_version, vocabulary_command
from agent.cli.plan_commands import approve_command, plan_command, review_command, serve_command
from agent.cli.run_commands import (
    build_command,
    report_command,
    run_command,
    status_command,
    train_command,
)
from agent.cli.shared import err_console, one_line_errors
from agent.wording import INTERRUPTED

try:  # typer 0.26 carries its own copy of click; its usage errors are that copy's
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - a typer that uses click itself
    from click import exceptions as click_errors

app = typer.Typer(
    name="facetory",
    help="Describe a synthetic face dataset in plain language; plan, review, build and check it.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        print(f"facetory {facetory_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print facetory's version and exit."),
) -> None:
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
    "evaluate": evaluate_command,
    "report": report_command,
    "vocabulary": vocabulary_command,
}
for _name, _command in COMMANDS.items():
    app.command(_name)(one_line_errors(_command))


class Interrupted(BaseException):
    """Ctrl-C outside a build's batch loop (which stops cleanly after its batch instead).

    A BaseException, so no `except Exception` on the way swallows it, and not a
    KeyboardInterrupt, so typer does not turn it into a silent exit 130.
    """


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise Interrupted


def main() -> None:
    """Console entry point: usage errors (typer), user errors, Ctrl-C and machine failures are
    one line on stderr and exit code 2."""
    previous = signal.getsignal(signal.SIGINT)
    if previous is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, _interrupt)
    try:
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except click_errors.NoArgsIsHelpError as exc:  # bare `facetory`: the help, as before
        exc.show()
        sys.exit(exc.exit_code)
    except click_errors.UsageError as exc:
        err_console.print(f"[bold red]error:[/] {escape(usage_line(exc))}", highlight=False,
                          soft_wrap=True)
        sys.exit(2)
    except click_errors.Abort:  # Ctrl-C or end of input at a prompt
        err_console.print(f"[bold red]error:[/] {INTERRUPTED}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except Interrupted:
        err_console.print(f"[bold red]error:[/] {INTERRUPTED}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except (OSError, sqlite3.DatabaseError) as exc:  # a full disk, a read-only place ...
        err_console.print(f"[bold red]error:[/] {escape(os_error_line(exc))}", highlight=False,
                          soft_wrap=True)
        sys.exit(2)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def usage_line(exc: click_errors.UsageError) -> str:
    """A usage error as one line naming the help to read (typer would draw a boxed panel)."""
    where = exc.ctx.command_path if exc.ctx is not None else "facetory"
    return f"{exc.format_message().rstrip('.')} ({where} --help)"


_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def os_error_line(exc: BaseException) -> str:
    """One line for a failure of the machine rather than of the input, saying what to do.

    Files are written atomically and batches commit whole, so after a full disk the build
    continues exactly where it stopped once space is freed.
    """
    where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
    full = getattr(exc, "errno", None) in _DISK_FULL or "disk is full" in str(exc)
    if full:
        return (f"no space left on the device{where}: free some space, then run the command "
                "again (a build continues where it stopped; nothing half-written is kept)")
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    if isinstance(exc, sqlite3.DatabaseError):
        return (f"a build database cannot be read ({reason}); `facetory run DIR` names the "
                "damaged file and what to do")
    return f"{reason}{where}"
