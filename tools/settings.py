"""What facetory takes from the environment, read in this one place into a typed object.

    settings = Settings.from_environment()      # once, where a command starts
    chat_model(offline=False, settings=settings)

The variables (none is required; with neither endpoint nor key set, facetory runs offline):

    OPENAI_BASE_URL       an OpenAI-compatible endpoint, e.g. http://localhost:8000/v1
    OPENAI_API_KEY        its key (local servers usually accept anything); also the vision
                          critic's, when `quality.vlm.api_key` is not set
    FACETORY_LLM_MODEL    the LLM's name at that endpoint (default gpt-4o-mini)
    FACETORY_LLM_TIMEOUT  seconds to wait for an answer (default 120)

A bad value is one `FacetoryError` line naming the variable. Settings are not part of a build
(spec.yaml): they say where things are, not what the dataset is.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

from tools.errors import FacetoryError

DEFAULT_LLM_MODEL = "gpt-4o-mini"
DEFAULT_LLM_TIMEOUT = 120.0


class Settings(BaseModel):
    """The environment's answers, typed; `from_environment` is the only reader."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str | None = None
    """OPENAI_BASE_URL: the LLM endpoint (None: api.openai.com, when a key is set)."""
    api_key: str | None = None
    """OPENAI_API_KEY: the endpoint's key, also the vision critic's fallback key."""
    llm_model: str = DEFAULT_LLM_MODEL
    """FACETORY_LLM_MODEL: the chat model's name at the endpoint."""
    llm_timeout: float = DEFAULT_LLM_TIMEOUT
    """FACETORY_LLM_TIMEOUT: seconds to wait for one answer."""

    @property
    def llm_configured(self) -> bool:
        """An endpoint or a key is set: LLM mode is possible (else offline rules)."""
        return bool(self.base_url or self.api_key)

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings `env` (default: this process's environment) holds; an empty endpoint,
        key or model name counts as unset."""
        env = os.environ if env is None else env
        return cls(
            base_url=env.get("OPENAI_BASE_URL") or None,
            api_key=env.get("OPENAI_API_KEY") or None,
            llm_model=env.get("FACETORY_LLM_MODEL") or DEFAULT_LLM_MODEL,
            llm_timeout=_seconds(env.get("FACETORY_LLM_TIMEOUT")),
        )


def _seconds(raw: str | None) -> float:
    """FACETORY_LLM_TIMEOUT as a positive number of seconds, else one line naming it."""
    if raw is None:
        return DEFAULT_LLM_TIMEOUT
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise FacetoryError(
            f"FACETORY_LLM_TIMEOUT={raw!r} is not a number of seconds above 0 "
            "(e.g. FACETORY_LLM_TIMEOUT=60, or unset it for the default 120)"
        )
    return seconds
