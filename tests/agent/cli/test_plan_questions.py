"""`facetory plan` asks instead of refusing or guessing: in a terminal it asks the question the
reading leaves and keeps the answer in spec.txt; without one it fails with the candidates."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import yaml
from typer.testing import CliRunner

from agent.cli.app import app

REQUEST = "2000 faces, some people wearing hats"


def in_a_terminal(*args: object, answer: str) -> str:
    """Run `facetory ARGS` with a pseudo-terminal as its stdin and stdout; type `answer` at the
    question. Returns what the terminal showed."""
    main, child = pty.openpty()
    cmd = [sys.executable, "-m", "agent", *map(str, args)]
    proc = subprocess.Popen(cmd, stdin=child, stdout=child, stderr=child, env=os.environ.copy())
    os.close(child)
    shown, sent = b"", False
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the child closed the terminal
            break
        shown += chunk
        if not sent and b"other" in shown:
            os.write(main, answer.encode() + b"\r")
            sent = True
    proc.wait(timeout=60)
    os.close(main)
    return shown.decode(errors="replace")


def _plan_in_a_terminal(out: Path, answer: str) -> str:
    return in_a_terminal("plan", REQUEST, "--out", out, "--offline", answer=answer)


def test_a_terminal_plan_asks_what_share_and_records_the_answer(tmp_path: Path) -> None:
    out = tmp_path / "build"
    shown = _plan_in_a_terminal(out, "30%")
    assert "'some people wearing hats' - what share? 25% / 50% / other" in shown
    assert "answer: 'some people wearing hats'" in (out / "spec.txt").read_text()
    spec = yaml.safe_load((out / "spec.yaml").read_text())
    hat = next(f for f in spec["factors"] if f["name"] == "hat")
    assert {lv["name"]: lv.get("proportion") for lv in hat["levels"]}["hat"] == 0.3


def test_without_a_terminal_the_question_is_the_error_with_its_candidates(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["plan", REQUEST, "--out", str(tmp_path / "b"), "--offline"])
    assert result.exit_code == 2
    assert "what share? 25% / 50% / other" in result.output
    assert not (tmp_path / "b" / "spec.txt").exists()


def test_json_never_asks(tmp_path: Path) -> None:
    args = ["plan", REQUEST, "--out", str(tmp_path / "b"), "--offline", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "some people wearing hats" in result.output


def test_build_yes_fails_with_the_candidates_and_writes_nothing(tmp_path: Path) -> None:
    args = ["build", REQUEST, "--out", str(tmp_path / "b"), "--offline", "--yes", "--no-train"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "'some people wearing hats' - what share? 25% / 50% / other" in result.output
    assert not (tmp_path / "b" / "plan.yaml").exists()
