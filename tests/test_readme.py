"""The README's commands are real: every `facetory ...` line names a command and options that
exist, and every `make` target it shows is in the Makefile (a docs check; the commands
themselves are run by the tests of each command)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli.app import COMMANDS, app

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def shown_commands(path: Path) -> list[list[str]]:
    """Each command line of the page's bash blocks, split as a shell would."""
    lines = []
    for block in re.findall(r"```(?:bash|sh|console)\n(.*?)```", path.read_text(), re.S):
        for line in block.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip().removeprefix("$ ")
            if line.startswith(("facetory ", "make ")):
                lines.append(shlex.split(line))
    return lines


CASES = [(p.name, argv) for p in DOCS for argv in shown_commands(p)]


def test_the_readme_shows_commands_to_check():
    assert any(argv[0] == "facetory" for name, argv in CASES if name == "README.md")
    assert ["make", "demo"] in [argv for _, argv in CASES]


@pytest.mark.parametrize(("page", "argv"), CASES, ids=[" ".join(a) for _, a in CASES])
def test_every_command_shown_exists_with_the_options_shown(page: str, argv: list[str]):
    if argv[0] == "make":
        makefile = (ROOT / "Makefile").read_text()
        for target in argv[1:]:
            if "=" not in target:
                assert re.search(rf"^{re.escape(target)}:", makefile, re.M), (page, target)
        return
    options = [a.split("=")[0] for a in argv[1:] if a.startswith("--")]
    if argv[1].startswith("--"):
        help_text = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"}).stdout
    else:
        assert argv[1] in COMMANDS, f"{page}: facetory {argv[1]} is not a command"
        help_text = CliRunner().invoke(app, [argv[1], "--help"], env={"COLUMNS": "200"}).stdout
    for option in options:
        assert re.search(rf"{re.escape(option)}\b", help_text), f"{page}: {' '.join(argv)}"
