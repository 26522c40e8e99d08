"""LLM configuration and structured calls with pydantic-validated repair rounds.

Any OpenAI-compatible endpoint works (OpenAI, vLLM, llama.cpp, Ollama, LM Studio ...), named
by the environment (`tools.settings.Settings`: OPENAI_BASE_URL, OPENAI_API_KEY,
FACETORY_LLM_MODEL, FACETORY_LLM_TIMEOUT). With neither an endpoint nor a key set, facetory
runs offline (rules instead of a model); `--offline` forces that.

`structured_call` asks for JSON matching a pydantic schema, validates the answer and, when
it does not validate, sends the validation errors back for up to `repair_rounds`
corrections: it works with servers that have no JSON mode.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from tools.errors import FacetoryError
from tools.settings import Settings

T = TypeVar("T", bound=BaseModel)
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


class LLMError(FacetoryError):
    """The model could not be reached or gave no valid answer."""


class LLMUnreachable(LLMError):
    """Nothing answered at the endpoint (refused, unknown host, timed out)."""


#: Endpoints nothing answered at lately in this process, with when and what was said: not
#: asked again for `RETRY_AFTER_S` (each try waits for the timeout, and the person has been
#: told once); a long-running web review tries again after that.
_UNREACHABLE: dict[str, tuple[float, LLMUnreachable]] = {}
RETRY_AFTER_S = 300.0


def _endpoint(model: Any) -> str:
    return getattr(model, "openai_api_base", None) or "api.openai.com"


def known_unreachable(model: Any) -> bool:
    """Whether a call to this model's endpoint already found nothing answering there."""
    seen = _UNREACHABLE.get(_endpoint(model)) if model is not None else None
    return seen is not None and time.monotonic() - seen[0] < RETRY_AFTER_S


def _failed(exc: Exception, model: Any) -> LLMError:
    """One line for an endpoint failure; an unreachable endpoint says so, with its address."""
    detail = " ".join(str(exc).split())[:300]
    name = type(exc).__name__
    if "Connection" in name or "Timeout" in name:
        where = _endpoint(model)
        failure = LLMUnreachable(f"the LLM endpoint {where} is unreachable ({name}: {detail})")
        _UNREACHABLE[where] = (time.monotonic(), failure)
        return failure
    return LLMError(f"the LLM endpoint failed: {name}: {detail}")


def chat_model(offline: bool | None = None, settings: Settings | None = None) -> Any:
    """A langchain `ChatOpenAI` for the configured endpoint, or None when running offline.

    offline=True: always None. offline=None: None unless an endpoint is configured.
    offline=False: LLM mode required; an error when nothing is configured. `settings`:
    what the command read from the environment (None: read it now).
    """
    if offline:
        return None
    settings = settings or Settings.from_environment()
    if not settings.llm_configured:
        if offline is False:
            raise LLMError(
                "LLM mode needs OPENAI_BASE_URL (an OpenAI-compatible endpoint) or "
                "OPENAI_API_KEY; or run offline"
            )
        return None
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=settings.llm_model,
        base_url=settings.base_url,
        api_key=settings.api_key or "not-needed",
        temperature=0,
        max_retries=1,
        timeout=settings.llm_timeout,
    )


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return str(content)


def extract_json(text: str) -> Any:
    """The JSON value in a reply: the whole text, a ```json fence, or the outermost {...}."""
    text = text.strip()
    candidates = [text]
    candidates += [m.strip() for m in _FENCE.findall(text)]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    last: Exception | None = None
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except ValueError as exc:
            last = exc
    raise ValueError(f"no JSON object in the answer ({last})")


def _errors(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        lines = []
        for err in exc.errors()[:12]:
            loc = ".".join(str(p) for p in err["loc"]) or "(root)"
            lines.append(f"- {loc}: {err['msg']}")
        return "\n".join(lines)
    return f"- {exc}"


def _messages(messages: Any) -> list[tuple[str, str]]:
    out = []
    for m in messages:
        if isinstance(m, tuple):
            out.append((m[0], _text(m[1])))
        elif isinstance(m, dict):
            out.append((m["role"], _text(m["content"])))
        else:  # a langchain message
            role = {"human": "user", "ai": "assistant"}.get(m.type, m.type)
            out.append((role, _text(m.content)))
    return out


def structured_call(
    model: Any,
    schema: type[T],
    messages: Any,
    repair_rounds: int = 3,
    check: Callable[[T], str | None] | None = None,
) -> T:
    """Ask `model` for an instance of `schema`; feed validation errors (and what `check` finds
    wrong with a valid answer) back up to `repair_rounds` times; raise LLMError with the last
    problem if it never validates. A valid answer `check` still faults after the last round is
    returned: the caller shows the person what is wrong with it."""
    if model is None:
        raise LLMError("no LLM is configured (set OPENAI_BASE_URL or OPENAI_API_KEY)")
    if known_unreachable(model):
        raise _UNREACHABLE[_endpoint(model)][1]
    convo = _messages(messages)
    instruction = (
        f"Answer with one JSON object (no prose, no code fence) that validates against this "
        f"JSON Schema for {schema.__name__}:\n"
        + json.dumps(schema.model_json_schema(), separators=(",", ":"))
    )
    convo.append(("system", instruction))
    last, checked = "", None
    for _ in range(repair_rounds + 1):
        try:
            reply = model.invoke(convo)
        except Exception as exc:  # network, auth, server errors: one line for the user
            raise _failed(exc, model) from None
        text = _text(reply.content)
        try:
            answer = schema.model_validate(extract_json(text))
            problem = check(answer) if check is not None else None
            if problem is None:
                return answer
            checked, last = answer, problem
            convo.append(("assistant", text))
            convo.append(("user", f"{problem}\nReply with the corrected JSON object only."))
        except (ValueError, ValidationError) as exc:
            last = _errors(exc)
            convo.append(("assistant", text))
            convo.append(
                (
                    "user",
                    f"That answer is not a valid {schema.__name__}:\n{last}\n"
                    "Reply with the corrected JSON object only.",
                )
            )
    if checked is not None:
        return checked
    summary = " ".join(last.replace("- ", "").split())[:300]
    raise LLMError(
        f"the LLM gave no valid {schema.__name__} after {repair_rounds} repair rounds "
        f"({summary}); try a stronger model, a YAML spec, or --offline"
    )
