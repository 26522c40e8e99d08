"""Feedback in words keeps the person's edits of plan.yaml: edits and feedback compose, in order
(agent.planning.revise)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from agent.cli.app import app


def facetory(*args: str):
    return CliRunner().invoke(app, list(args))


def _plan_and_edit_the_quota(out: Path) -> None:
    words = "40 faces balanced across gender"
    assert facetory("plan", words, "-o", str(out), "--offline").exit_code == 0
    plan_yaml = out / "plan.yaml"
    plan_yaml.write_text(plan_yaml.read_text().replace("  quota: 40\n", "  quota: 50\n", 1))
    assert facetory("review", str(out)).exit_code == 0


def test_feedback_after_a_quota_edit_keeps_the_edited_quota(tmp_path: Path) -> None:
    out = tmp_path / "b"
    _plan_and_edit_the_quota(out)
    result = facetory("review", str(out), "--feedback", "30% wear glasses", "--offline")
    assert result.exit_code == 0, result.output
    review = json.loads(facetory("review", str(out), "--json").stdout)
    assert review["summary"]["total"] == 50
    assert any("glasses 30%" in line for line in review["understood"].split("; "))


def test_feedback_that_changes_the_count_still_wins_over_an_older_edit(tmp_path: Path) -> None:
    out = tmp_path / "b"
    _plan_and_edit_the_quota(out)
    result = facetory("review", str(out), "--feedback", "make it 80 faces", "--offline")
    assert result.exit_code == 0, result.output
    review = json.loads(facetory("review", str(out), "--json").stdout)
    assert review["summary"]["total"] == 80
