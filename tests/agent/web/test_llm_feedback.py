"""Feedback on the web review in LLM mode (a local OpenAI-compatible stub): what the model's
revision leaves unexplained is asked in the same question box as offline, its answer is
applied, and feedback after a quota edit keeps the edit."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.agent.openai_stub import serving
from tests.agent.web.builds import facetory
from tests.agent.web.test_app import client, post

WORDS = "60 faces in three eyewear classes (none, glasses, sunglasses), 20 per class"


def _editor(model: str, messages) -> str:
    """The LLM editing a spec: 'hats' puts a hat on everyone unless the feedback gives the
    share, then that share; 'ignores' returns the spec unchanged."""
    user = str(messages[1]["content"])
    if "Current spec" not in user:  # prompt enrichment: not this test's concern
        return json.dumps({"detail": "a clear studio portrait"})
    spec = json.loads(re.search(r"Current spec \(JSON\): (\{.*\})\n\nFeedback:", user, re.S)[1])
    if model == "hats":
        share = re.search(r"(\d+)% of people wearing hats", user)
        levels = [{"name": "hat", "proportion": int(share[1]) / 100}, {"name": "none"}] \
            if share else [{"name": "hat"}]
        spec["factors"] = [*spec["factors"], {"name": "hat", "levels": levels}]
    return json.dumps(spec)


@pytest.fixture()
def planned_llm(monkeypatch, tmp_path: Path):
    """A build planned offline, reviewed with an LLM configured (model chosen per test)."""
    root = tmp_path / "b"
    assert facetory("plan", WORDS, "--out", str(root), "--offline").returncode == 0
    with serving(_editor, monkeypatch):
        yield root


def test_a_share_the_llm_left_vague_is_asked_in_the_question_box_and_answered(
        planned_llm: Path, monkeypatch) -> None:
    monkeypatch.setenv("FACETORY_LLM_MODEL", "hats")
    c = client(planned_llm)
    asked = post(c, "/review/feedback", {"feedback": "some people wearing hats"})
    assert asked.status_code == 422 and 'id="question"' in asked.text
    assert "&#39;some people wearing hats&#39; - what share?" in asked.text
    factors = yaml.safe_load((planned_llm / "spec.yaml").read_text())["factors"]
    assert not any(f["name"] == "hat" for f in factors)  # nothing planned on a guess
    answer = {"feedback": "some people wearing hats", "phrase": "some people wearing hats",
              "answer": "50%"}
    assert post(c, "/review/feedback", answer).status_code == 200
    spec = yaml.safe_load((planned_llm / "spec.yaml").read_text())
    hat = next(f for f in spec["factors"] if f["name"] == "hat")
    assert {lv["name"]: lv.get("proportion") for lv in hat["levels"]}["hat"] == 0.5


def test_feedback_the_llm_did_not_apply_is_named_on_the_page_and_changes_nothing(
        planned_llm: Path, monkeypatch) -> None:
    monkeypatch.setenv("FACETORY_LLM_MODEL", "ignores")
    before = (planned_llm / "spec.yaml").read_bytes()
    page = post(client(planned_llm), "/review/feedback", {"feedback": "30% wear hats"})
    assert page.status_code == 422 and 'id="error-feedback"' in page.text
    assert "&#39;30%&#39; - no share of the plan is this" in page.text
    assert (planned_llm / "spec.yaml").read_bytes() == before


def test_llm_feedback_on_the_web_after_a_quota_edit_keeps_the_edit(planned_llm: Path,
                                                                   monkeypatch) -> None:
    monkeypatch.setenv("FACETORY_LLM_MODEL", "hats")
    c = client(planned_llm)
    post(c, "/review/edit", {"quota:none": "8"})
    assert post(c, "/review/feedback", {"feedback": "30% of people wearing hats"}
                ).status_code == 200
    spec = yaml.safe_load((planned_llm / "spec.yaml").read_text())
    assert {k["name"]: k["quota"] for k in spec["classes"]}["none"] == 8
    assert any(f["name"] == "hat" for f in spec["factors"])
