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
