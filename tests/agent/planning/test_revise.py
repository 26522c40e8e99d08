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


# --- LLM mode: the feedback's words are accounted for against the revision -------------------

CREW = "300 faces in three classes: astronaut, chef and pilot"
GLASSES = {"name": "eyewear", "levels": [{"name": "glasses", "proportion": 0.3},
                                         {"name": "none", "proportion": 0.7}]}


def _editor(model: str, messages) -> str:
    """The LLM editing a spec: 'ignores' returns it unchanged, 'obeys' applies the feedback,
    'learns' ignores it until a repair round names what it left out."""
    import re

    user = str(messages[1]["content"])
    if "Current spec" not in user:  # prompt enrichment: not this test's concern
        return json.dumps({"detail": "a clear studio portrait"})
    spec = json.loads(re.search(r"Current spec \(JSON\): (\{.*\})\n\nFeedback:", user, re.S)[1])
    feedback = user.split("Feedback: ", 1)[1]
    repaired = any("unexplained" in str(m["content"]) for m in messages[2:])
    if model == "ignores" or (model == "learns" and not repaired):
        return json.dumps(spec)
    if "drop the pilot" in feedback:
        spec["classes"] = [dict(c, quota=150) for c in spec["classes"] if c["name"] != "pilot"]
    if "glasses" in feedback:
        spec["factors"] = [*spec["factors"], GLASSES]
    return json.dumps(spec)


def _llm_feedback(monkeypatch, model: str, out: Path, *feedback: str):
    """`review --feedback` in LLM mode (a local OpenAI-compatible stub) on an offline plan."""
    from tests.agent.openai_stub import serving

    with serving(_editor, monkeypatch) as stub:
        monkeypatch.setenv("FACETORY_LLM_MODEL", model)
        results = [facetory("review", str(out), "--feedback", f) for f in feedback]
    edits = [r for r in stub.requests if "You edit" in str(r["messages"][0]["content"])]
    return results, edits  # the revision's rounds (prompt enrichment asks the model too)


def test_llm_feedback_the_model_did_not_apply_is_named_after_one_repair_round(
        monkeypatch, tmp_path: Path) -> None:
    out = tmp_path / "b"
    assert facetory("plan", CREW, "-o", str(out), "--offline").exit_code == 0
    before = (out / "spec.yaml").read_text()
    (result,), requests = _llm_feedback(monkeypatch, "ignores", out, "30% wear glasses")
    assert result.exit_code == 2
    assert "'30%' - no share of the plan is this" in result.output
    assert "Traceback" not in result.output
    assert len(requests) == 2  # the revision, and one repair round naming '30%'
    assert "'30%'" in str(requests[1]["messages"][-1]["content"])
    assert (out / "spec.yaml").read_text() == before


def test_llm_feedback_repaired_in_its_round_is_applied(monkeypatch, tmp_path: Path) -> None:
    out = tmp_path / "b"
    assert facetory("plan", CREW, "-o", str(out), "--offline").exit_code == 0
    (result,), requests = _llm_feedback(monkeypatch, "learns", out, "30% wear glasses")
    assert result.exit_code == 0, result.output
    assert len(requests) == 2
    review = json.loads(facetory("review", str(out), "--json").stdout)
    assert any("glasses 30%" in line for line in review["understood"].split("; "))


def test_llm_feedback_that_removes_a_class_is_explained_by_its_absence(
        monkeypatch, tmp_path: Path) -> None:
    out = tmp_path / "b"
    assert facetory("plan", CREW, "-o", str(out), "--offline").exit_code == 0
    (dropped,), requests = _llm_feedback(monkeypatch, "obeys", out, "drop the pilot class")
    assert dropped.exit_code == 0, dropped.output
    assert len(requests) == 1  # nothing unexplained: no repair round
    assert "pilot" not in (out / "spec.yaml").read_text()


def test_llm_feedback_that_keeps_what_it_says_to_drop_is_asked_about(
        monkeypatch, tmp_path: Path) -> None:
    out = tmp_path / "b"
    assert facetory("plan", CREW, "-o", str(out), "--offline").exit_code == 0
    (kept,), _ = _llm_feedback(monkeypatch, "ignores", out, "drop the pilot class")
    assert kept.exit_code == 2
    assert "'drop' - not in the plan" in kept.output


def test_llm_feedback_after_a_quota_edit_keeps_the_edited_quota(monkeypatch,
                                                                 tmp_path: Path) -> None:
    out = tmp_path / "b"
    _plan_and_edit_the_quota(out)
    (result,), requests = _llm_feedback(monkeypatch, "obeys", out, "30% wear glasses")
    assert result.exit_code == 0, result.output
    assert '"quota":50' in str(requests[0]["messages"][1]["content"]).replace(" ", "")
    review = json.loads(facetory("review", str(out), "--json").stdout)
    assert review["summary"]["total"] == 50
    assert any("glasses 30%" in line for line in review["understood"].split("; "))
