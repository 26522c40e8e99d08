"""`facetory plan` in LLM mode asks what the model's spec leaves unexplained, as the offline
reader's questions are asked: in a terminal a share question is asked and the answer kept in
spec.txt; with `--yes`, `--json` or no terminal the words are the error (exit 2). An endpoint
nothing answers at is one line, and the offline reader plans instead."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from agent.cli.app import app
from tests.agent.cli.test_plan_questions import in_a_terminal
from tests.agent.openai_stub import serving

CREW = "300 faces in three classes: astronaut, chef and pilot"
HATS = "2000 faces, some people wearing hats"


def _model(model: str, messages) -> str:
    """'drops-pilot' never plans the pilot class; 'hats' plans a hat on everyone unless the
    request gives the share, then that share."""
    if model == "drops-pilot":
        return json.dumps({"classes": [{"name": n, "quota": 150} for n in ("astronaut", "chef")]})
    request = str(messages[1]["content"])
    share = 0.3 if "30% of people wearing hats" in request else None
    levels = [{"name": "hat", "proportion": share}] + ([{"name": "none"}] if share else [])
    return json.dumps({"classes": [{"name": "face", "quota": 2000}],
                       "factors": [{"name": "hat", "levels": levels}]})


@pytest.fixture()
def llm(monkeypatch):
    with serving(_model, monkeypatch) as stub:
        yield stub


def facetory(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_a_class_the_model_dropped_fails_plan_without_a_terminal_naming_it(llm, monkeypatch,
                                                                           tmp_path):
    monkeypatch.setenv("FACETORY_LLM_MODEL", "drops-pilot")
    result = facetory("plan", CREW, "--out", tmp_path / "b")
    assert result.exit_code == 2
    assert "'pilot' - not in the plan: what should it change?" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "b" / "spec.txt").exists()


def test_build_yes_and_json_fail_with_the_words_and_write_nothing(llm, monkeypatch, tmp_path):
    monkeypatch.setenv("FACETORY_LLM_MODEL", "drops-pilot")
    built = facetory("build", CREW, "--out", tmp_path / "b", "--yes", "--no-train")
    as_json = facetory("plan", CREW, "--out", tmp_path / "j", "--json")
    for result in (built, as_json):
        assert result.exit_code == 2
        assert "'pilot' - not in the plan" in result.output
    assert not (tmp_path / "b" / "plan.yaml").exists()


def test_a_share_the_model_left_out_is_asked_in_a_terminal_and_kept(llm, monkeypatch,
                                                                     tmp_path):
    monkeypatch.setenv("FACETORY_LLM_MODEL", "hats")
    out = tmp_path / "build"
    shown = _plan_in_a_terminal(HATS, out, "30%")
    assert "'some people wearing hats' - what share? 25% / 50% / other" in shown
    assert "answer: 'some people wearing hats'" in (out / "spec.txt").read_text()
    spec = yaml.safe_load((out / "spec.yaml").read_text())
    (hat,) = spec["factors"]
    assert {lv["name"]: lv.get("proportion") for lv in hat["levels"]}["hat"] == 0.3
    asked = [str(r["messages"][1]["content"]) for r in llm.requests
             if "into a DatasetSpec" in str(r["messages"][0]["content"])]
    assert asked[0] == HATS and "30% of people wearing hats" in asked[-1]  # read the answer


def test_an_unreachable_endpoint_is_one_line_and_the_offline_reader_plans(monkeypatch,
                                                                          tmp_path):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # discard port: refused
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("FACETORY_LLM_TIMEOUT", "5")
    result = facetory("plan", "300 faces, 20% wear glasses", "--out", tmp_path / "b")
    assert result.exit_code == 0, result.output
    notices = [line for line in result.stderr.splitlines() if "unreachable" in line]
    assert len(notices) == 1
    assert notices[0].startswith("notice: the LLM endpoint http://127.0.0.1:9/v1 is unreachable")
    assert notices[0].endswith("reading the request offline instead")
    assert (tmp_path / "b" / "plan.yaml").exists()


def test_feedback_the_model_left_vague_is_asked_in_a_terminal_as_plan_asks(llm, monkeypatch,
                                                                           tmp_path):
    monkeypatch.setenv("FACETORY_LLM_MODEL", "hats")
    out = tmp_path / "build"
    assert facetory("plan", "2000 faces", "--out", out, "--offline").exit_code == 0
    shown = in_a_terminal("review", out, "--feedback", "some people wearing hats", answer="30%")
    assert "'some people wearing hats' - what share? 25% / 50% / other" in shown
    spec = yaml.safe_load((out / "spec.yaml").read_text())
    (hat,) = spec["factors"]
    assert {lv["name"]: lv.get("proportion") for lv in hat["levels"]}["hat"] == 0.3
    assert "answer: 'some people wearing hats'" in (out / "spec.txt").read_text()
    before = (out / "spec.yaml").read_bytes()
    without = facetory("review", out, "--feedback", "some people wearing glasses")
    assert without.exit_code == 2  # no terminal: the question is the error, nothing changed
    assert "'glasses' - the plan has no such level" in without.output
    assert (out / "spec.yaml").read_bytes() == before


def _plan_in_a_terminal(request: str, out: Path, answer: str) -> str:
    return in_a_terminal("plan", request, "--out", out, answer=answer)
