"""LLM prompt enrichment against a local OpenAI-compatible server: the model's words reach
the prompts only when the safety check allows them; refused words fall back to the template
prompts, logged, and never stop the plan."""

from __future__ import annotations

import json

import pytest

from agent.language.spec import DatasetSpec
from agent.llm import chat_model
from agent.planning.enrich import enrich_prompts
from agent.planning.plan import Plan
from agent.runtime.events import EventLog
from tests.agent.openai_stub import OpenAIStub
from tests.tools.safety_corpus import corpus
from tools.contracts import PlanItem

CHILD = {"age_group": "child", "gender": "female"}
# one phrase of each kind of variation (the full corpus is checked in tests/tools/test_safety.py)
SAMPLE = list({kind: phrase for _, kind, phrase in corpus()}.values())
DETAIL = {f"c{i}": phrase for i, phrase in enumerate(SAMPLE)} | {"ok": "in a classroom"}


def guidance(model: str, messages: list[dict]) -> str:
    """Per class, the detail DETAIL holds for it (the class name opens the user message)."""
    cls = messages[1]["content"].split("Class: ", 1)[1].split(".", 1)[0]
    return json.dumps({"detail": DETAIL[cls], "negative": "blurry"})


@pytest.fixture()
def llm(monkeypatch):
    with OpenAIStub(guidance) as stub:
        monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        monkeypatch.setenv("FACETORY_LLM_MODEL", "stub")
        yield chat_model()


def test_every_kind_of_variation_an_llm_suggests_for_children_falls_back(llm, tmp_path):
    items = [PlanItem(id=f"{c}-0", class_name=c, attributes=CHILD, seed=1,
                      prompt="portrait photo of a girl") for c in DETAIL]
    spec = DatasetSpec.from_data({"classes": [{"name": "c", "quota": 1}]})
    events = EventLog(tmp_path / "events.jsonl")
    plan = enrich_prompts(Plan(spec=spec, seed=0, items=items), llm=llm, events=events)
    prompts = {item.class_name: item.prompt for item in plan.items}
    assert prompts.pop("ok") == "portrait photo of a girl, in a classroom"
    assert set(prompts.values()) == {"portrait photo of a girl"}
    refused = [e for e in events.read() if e["event"] == "llm_fallback"]
    assert len(refused) == len(SAMPLE) and all("refused" in e["error"] for e in refused)
