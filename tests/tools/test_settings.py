"""The environment is read once, into typed settings that commands pass down."""

from __future__ import annotations

import pytest

from tools.errors import FacetoryError
from tools.settings import Settings


def test_nothing_set_means_offline_with_the_default_model_and_timeout() -> None:
    settings = Settings.from_environment({})
    assert not settings.llm_configured
    assert (settings.llm_model, settings.llm_timeout) == ("gpt-4o-mini", 120.0)


def test_an_endpoint_or_a_key_turns_llm_mode_on_and_empty_values_count_as_unset() -> None:
    local = Settings.from_environment({"OPENAI_BASE_URL": "http://localhost:11434/v1",
                                       "FACETORY_LLM_MODEL": "qwen2.5:7b-instruct"})
    assert local.llm_configured and local.llm_model == "qwen2.5:7b-instruct"
    assert Settings.from_environment({"OPENAI_API_KEY": "k"}).llm_configured
    empty = Settings.from_environment({"OPENAI_BASE_URL": "", "FACETORY_LLM_MODEL": ""})
    assert not empty.llm_configured and empty.llm_model == "gpt-4o-mini"


def test_a_timeout_that_is_not_a_positive_number_names_the_variable() -> None:
    with pytest.raises(FacetoryError, match="FACETORY_LLM_TIMEOUT='-1' is not a number"):
        Settings.from_environment({"FACETORY_LLM_TIMEOUT": "-1"})
