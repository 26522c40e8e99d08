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


#: README commands too slow or too long-lived for the docs check below, with the test that runs
#: each (the same command on a small build). Every other README command runs as written.
RUN_BY = {
    "make demo": "tests/agent/cli/test_terminal_session.py::"
                 "test_a_small_demo_reads_well_in_an_80_column_terminal",
    "make test": None,  # the suite itself
    "pip install -e '.[test]'": None,
    "facetory review builds/smile --web": "tests/agent/web/test_server.py::"
        "test_review_web_listens_on_loopback_at_a_free_port_and_prints_the_url",
    "facetory run builds/smile": "tests/agent/cli/test_run_commands.py::"
        "test_ctrl_c_stops_after_the_batch_then_run_continues_and_status_reports",
    "facetory train builds/smile --epochs 30 --imgsz 256": "tests/agent/cli/test_run_commands.py::"
        "test_ctrl_c_stops_after_the_batch_then_run_continues_and_status_reports",
    "facetory evaluate builds/smile": "tests/agent/cli/test_evaluate_commands.py::"
        "test_evaluate_prints_the_table_and_saves_the_scores_beside_the_metrics",
    "facetory build SPEC --out DIR --yes": "tests/agent/cli/test_terminal_session.py::"
        "test_a_small_demo_reads_well_in_an_80_column_terminal",
}


def readme_session() -> list[tuple[str, dict[str, str]]]:
    """The README's command lines in order as a person copies them, each with the variables
    the `export` lines above it have set by then."""
    text = (ROOT / "README.md").read_text()
    lines, exported = [], {}
    for block in re.findall(r"```(?:bash|sh|console)\n(.*?)```", text, re.S):
        for line in block.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line.startswith("export "):
                name, value = line.removeprefix("export ").split("=", 1)
                exported = {**exported, name: value}
            elif line and not line.startswith(("#", "source ")):
                lines.append((line, exported))
    return lines


def readme_commands() -> list[str]:
    return [line for line, _ in readme_session()]


def test_every_readme_command_runs_here_or_in_the_test_named_for_it():
    for line, test in RUN_BY.items():
        assert line in readme_commands(), f"RUN_BY names {line!r}, which the README no longer has"
        if test:
            path, name = test.split("::")
            assert f"def {name}(" in (ROOT / path).read_text(), test


@pytest.mark.slow
def test_the_readme_commands_run_as_written(tmp_path: Path):
    """In a fresh folder with the repo's specs: exit 0, but the GPU line, which (with no
    model at that path) is one line saying where facetory looked; the LLM line falls back to
    the offline reader when its server is not there (the variables its `export` lines set)."""
    import os
    import subprocess
    import sys

    (tmp_path / "specs").symlink_to(ROOT / "specs")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "FACETORY_"))}
    env.update(PYTHONPATH=str(ROOT), COLUMNS="80")
    for line, exported in readme_session():
        if line in RUN_BY:
            continue
        argv = shlex.split(line)
        assert argv[0] == "facetory", line
        if "OPENAI_BASE_URL" in exported:  # no server here: a port nothing listens on
            exported = {**exported, "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
        done = subprocess.run([sys.executable, "-m", "agent", *argv[1:]], cwd=tmp_path,
                              env={**env, **exported}, capture_output=True, text=True,
                              timeout=600)
        if "--backend diffusers" in line:
            assert done.returncode == 2, line
            assert done.stderr.strip() == "error: model directory /models/stable-diffusion-v1-5 " \
                                          "does not exist", line
            continue
        assert done.returncode == 0, f"{line}\n{done.stderr}"
    assert (tmp_path / "builds" / "smile" / "approval.json").exists()
    assert (tmp_path / "builds" / "smile" / "report.html").exists()
    assert (tmp_path / "builds" / "masks" / "plan.yaml").exists()
