"""LLM settings from the environment: a bad value is one line and exit 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.llm import chat_model
from tools.errors import FacetoryError
from tools.settings import Settings


@pytest.mark.parametrize("value", ["abc", "", "0", "-5", "nan", "inf"])
def test_a_timeout_that_is_not_a_positive_number_is_refused(monkeypatch, value):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("FACETORY_LLM_TIMEOUT", value)
    with pytest.raises(FacetoryError, match="FACETORY_LLM_TIMEOUT=.* is not a number of seconds"):
        chat_model()


def test_the_timeout_defaults_to_two_minutes_and_takes_seconds():
    assert Settings.from_environment({}).llm_timeout == 120.0
    assert Settings.from_environment({"FACETORY_LLM_TIMEOUT": "7.5"}).llm_timeout == 7.5


@pytest.mark.parametrize("value", ["abc", ""])
def test_plan_with_a_bad_timeout_is_one_line_and_exit_2(tmp_path: Path, value: str):
    env = {**os.environ, "OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "FACETORY_LLM_TIMEOUT": value}
    done = subprocess.run([sys.executable, "-m", "agent", "plan", "20 faces", "--out",
                           str(tmp_path / "b")], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "FACETORY_LLM_TIMEOUT" in done.stderr
    assert not (tmp_path / "b").exists()


def test_an_endpoint_found_unreachable_is_said_once_and_not_asked_again(tmp_path: Path):
    env = {**os.environ, "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",  # discard port: refused
           "OPENAI_API_KEY": "test-key", "FACETORY_LLM_TIMEOUT": "5"}
    done = subprocess.run([sys.executable, "-m", "agent", "plan", "300 faces, 20% wear glasses",
                           "--out", str(tmp_path / "b")], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if "127.0.0.1:9" in line]
    assert len(said) == 1 and said[0].endswith("reading the request offline instead"), said
    assert (tmp_path / "b" / "plan.yaml").exists()  # planned offline, prompts not enriched


def test_a_model_whose_endpoint_did_not_answer_is_not_called_again():
    from agent.llm import LLMUnreachable, structured_call
    from agent.planning.plan import Plan

    class Refused:
        openai_api_base = "http://127.0.0.1:1/v1"
        calls = 0

        def invoke(self, messages):
            Refused.calls += 1
            raise ConnectionRefusedError("refused")  # what a closed port raises

    model = Refused()
    for _ in range(2):
        with pytest.raises(LLMUnreachable, match="127.0.0.1:1/v1 is unreachable"):
            structured_call(model, Plan, [("user", "hi")])
    assert Refused.calls == 1
