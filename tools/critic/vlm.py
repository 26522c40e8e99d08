"""Optional vision-language critic: any OpenAI-compatible chat model that accepts images.

It answers, for each requested attribute the local measurements cannot judge (age group,
gender, hair, ...), what it sees and whether that matches, as JSON validated by pydantic.
A malformed answer is sent back once with the validation error; if it is still unusable,
the image is not judged on those attributes (never rejected because the model rambled).
An unreachable or misconfigured endpoint is the operator's problem and raises FacetoryError.
Off by default.
"""

from __future__ import annotations

import base64
import io
import json
import re

import numpy as np
import openai
from PIL import Image
from pydantic import BaseModel, Field, ValidationError

from tools.config import VlmConfig
from tools.contracts import CheckResult, PlanItem
from tools.errors import FacetoryError
from tools.settings import Settings
from tools.vocabulary import FACTORS


class AttributeAnswer(BaseModel):
    """The model's verdict on one attribute."""

    factor: str
    observed: str
    matches: bool
    confidence: float = Field(ge=0.0, le=1.0)


class VlmAnswer(BaseModel):
    """The whole structured answer for one image."""

    faces: int | None = Field(default=None, ge=0)
    attributes: list[AttributeAnswer]


_SYSTEM = (
    "You inspect images for a synthetic face dataset. Judge only what is visible. "
    "Reply with one JSON object and nothing else, of this form: "
    '{"faces": <number of human faces>, "attributes": [{"factor": "<factor>", '
    '"observed": "<level you see>", "matches": <true|false>, "confidence": <0..1>}]} '
    "with one entry per requested factor."
)


def _data_url(rgb: np.ndarray, side: int) -> str:
    image = Image.fromarray(rgb)
    image.thumbnail((side, side))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _question(factors: dict[str, str]) -> str:
    lines = ["Requested attributes (factor: requested level; allowed levels in brackets):"]
    for factor, level in sorted(factors.items()):
        allowed = FACTORS.get(factor)
        suffix = f" [{', '.join(allowed)}]" if allowed else ""
        lines.append(f"- {factor}: {level}{suffix}")
    return "\n".join(lines)


def parse_answer(text: str, factors: set[str]) -> VlmAnswer:
    """The JSON object inside `text` (code fences and chatter tolerated), validated.

    Raises ValueError (or ValidationError) when there is none or a factor is missing.
    """
    match = re.search(r"\{.*\}", text, flags=re.DOTALL)
    if match is None:
        raise ValueError("no JSON object in the answer")
    answer = VlmAnswer.model_validate(json.loads(match.group(0)))
    missing = factors - {a.factor for a in answer.attributes}
    if missing:
        raise ValueError(f"answer lacks factors: {', '.join(sorted(missing))}")
    return answer


class VlmCritic:
    """Asks the configured vision chat model about one image at a time."""

    def __init__(self, config: VlmConfig, settings: Settings | None = None) -> None:
        self.config = config
        settings = settings or Settings.from_environment()
        key = config.api_key or settings.api_key or "not-needed"
        self._client = openai.OpenAI(
            base_url=config.base_url, api_key=key, timeout=config.timeout_s, max_retries=1
        )

    def ask(self, rgb: np.ndarray, factors: dict[str, str]) -> VlmAnswer | None:
        """The validated answer about `factors` (factor -> requested level), or None."""
        messages: list[dict] = [
            {"role": "system", "content": _SYSTEM},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": _question(factors)},
                    {"type": "image_url",
                     "image_url": {"url": _data_url(rgb, self.config.image_side)}},
                ],
            },
        ]
        extra = {"response_format": {"type": "json_object"}} if self.config.json_mode else {}
        for _ in range(2):
            text = self._complete(messages, extra)
            try:
                return parse_answer(text, set(factors))
            except (ValueError, ValidationError) as exc:
                error = str(exc).splitlines()[0]
                messages += [
                    {"role": "assistant", "content": text},
                    {"role": "user", "content": f"That was not valid: {error}. "
                     "Reply again with only the JSON object, one entry per requested factor."},
                ]
        return None

    def _complete(self, messages: list[dict], extra: dict) -> str:
        try:
            response = self._client.chat.completions.create(
                model=self.config.model, messages=messages, temperature=0.0, **extra
            )
        except openai.APIConnectionError as exc:
            raise FacetoryError(
                f"vision critic unreachable at {self.config.base_url}: {exc}"
            ) from exc
        except openai.APIStatusError as exc:
            raise FacetoryError(
                f"vision critic at {self.config.base_url} refused the request "
                f"(HTTP {exc.status_code}): {exc.message}"
            ) from exc
        if not response.choices:
            return ""
        return response.choices[0].message.content or ""

    def check(
        self, rgb: np.ndarray, item: PlanItem, *, skip: set[str]
    ) -> tuple[list[CheckResult], dict[str, str]]:
        """Attribute checks for the requested factors it is to judge, and what it observed."""
        allowed = self.config.factors
        factors = {
            f: lv for f, lv in item.attributes.items()
            if f not in skip and (allowed is None or f in allowed)
        }
        if not factors:
            return [], {}
        answer = self.ask(rgb, factors)
        if answer is None:
            return [CheckResult(name="vlm", score=1.0, passed=True,
                                detail="vision critic gave no usable answer; not judged")], {}
        checks, observed = [], {}
        for entry in answer.attributes:
            if entry.factor not in factors:
                continue
            observed[entry.factor] = entry.observed
            counts = not entry.matches and entry.confidence >= self.config.min_confidence
            score = entry.confidence if entry.matches else 1.0 - entry.confidence
            checks.append(
                CheckResult(
                    name=f"attribute:{entry.factor}",
                    score=float(score),
                    passed=not counts,
                    reason=f"attribute_mismatch:{entry.factor}" if counts else None,
                    detail=f"vlm: requested {factors[entry.factor]}, observed {entry.observed} "
                    f"(confidence {entry.confidence:.2f})",
                )
            )
        return checks, observed
