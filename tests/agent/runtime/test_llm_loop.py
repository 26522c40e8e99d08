"""The whole build graph with an LLM configured, against a local OpenAI-compatible server:
prompt enrichment and replan decisions come from the model; a model that talks garbage or
never answers in time makes the build fall back to rules, losing nothing."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from agent.language.spec import DatasetSpec
from agent.llm import chat_model
from agent.planning.plan_file import write_spec
from agent.runtime.context import BuildContext, Options, Services
from agent.runtime.runner import run_graph
from tests.agent.fakes import FakeCritic, FakeGenerator, fake_embedder
from tests.agent.openai_stub import OpenAIStub
from tools.atomic import write_text
from tools.build_dir import BuildPaths
from tools.contracts import Status


def director(model: str, messages: list[dict]) -> str:
    """'director' answers every request well; 'garbage' never gives JSON; 'slow' times out."""
    if model == "garbage":
        return "I am a teapot."
    if model == "slow":
        time.sleep(3)
    system = " ".join(m["content"] for m in messages if m["role"] == "system")
    if "ReplanDecisions" in system:
        cells = [json.loads(line)["cell"] for line in messages[1]["content"].splitlines()]
        return json.dumps({"decisions": [
            {"cell": c, "adjustment": {"prompt_addition": "studio lighting, tack sharp",
                                       "negative_addition": "smudge", "guidance_delta": 0.5,
                                       "reason": "the critic saw blur"}} for c in cells]})
    return json.dumps({"detail": "soft window light, natural skin texture",
                       "negative": "cartoon"})


@pytest.fixture()
def endpoint(monkeypatch):
    with OpenAIStub(director) as stub:
        monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        monkeypatch.delenv("FACETORY_LLM_TIMEOUT", raising=False)  # two minutes: a busy
        yield stub  # machine answers late, not never; only 'slow' must miss its timeout


def fresh_build(root: Path) -> BuildContext:
    spec = DatasetSpec(
        name="llm", classes=[{"name": "a", "quota": 6}, {"name": "b", "quota": 6}],
        factors=[{"name": "gender", "balanced": True,
                  "levels": [{"name": "female"}, {"name": "male"}]}],
        budget={"batch_size": 4}, seed=2)
    paths = BuildPaths(root)
    paths.root.mkdir(parents=True)
    write_text(paths.spec_txt, "twelve faces")
    write_spec(spec, paths.spec_yaml)
    services = Services(generator=FakeGenerator(), critic=FakeCritic(reject_share=0.4),
                        embedder=fake_embedder, llm=chat_model())
    return BuildContext(paths=paths, options=Options(no_train=True), services=services)


def build(ctx: BuildContext) -> dict:
    assert run_graph(ctx).outcome == "review"
    result = run_graph(ctx, resume={"action": "approve"})
    assert result.outcome == "done"
    return result.state


def test_the_model_enriches_prompts_and_directs_retries(endpoint, monkeypatch, tmp_path: Path
                                                         ) -> None:
    monkeypatch.setenv("FACETORY_LLM_MODEL", "director")
    ctx = fresh_build(tmp_path / "b")
    state = build(ctx)
    assert state["stop_reason"] == "complete"
    assert all("soft window light" in item.prompt for item in ctx.plan.items)
    assert all("cartoon" in item.negative_prompt for item in ctx.plan.items)
    decisions = ctx.manifest.decisions()
    assert decisions and {d["source"] for _, _, d in decisions} == {"llm"}
    retried = [r for r in ctx.manifest.records() if r.attempt > 0]
    assert retried and all("tack sharp" in r.prompt for r in retried)


@pytest.mark.parametrize("model", ["garbage", "slow"])
def test_a_broken_endpoint_falls_back_to_rules_and_the_build_completes(
        endpoint, monkeypatch, tmp_path: Path, model: str) -> None:
    monkeypatch.setenv("FACETORY_LLM_MODEL", model)
    monkeypatch.setenv("FACETORY_LLM_TIMEOUT", "1")  # 'slow' answers after 3 s: always too late
    ctx = fresh_build(tmp_path / "b")
    state = build(ctx)
    assert state["stop_reason"] == "complete"
    assert len(ctx.manifest.records(Status.accepted)) == 12
    assert {d["source"] for _, _, d in ctx.manifest.decisions()} == {"rules"}
    fallbacks = {e["step"] for e in ctx.events.read() if e["event"] == "llm_fallback"}
    assert fallbacks == {"enrich", "replan"}


def harmful(model: str, messages: list[dict]) -> str:
    """A model that answers in the right shape with harmful words for children's prompts."""
    system = " ".join(m["content"] for m in messages if m["role"] == "system")
    if "ReplanDecisions" in system:
        cells = [json.loads(line)["cell"] for line in messages[1]["content"].splitlines()]
        return json.dumps({"decisions": [
            {"cell": c, "adjustment": {
                "prompt_addition": "with bruises and a bloody nose, crying in pain",
                "negative_addition": "", "guidance_delta": 0.5, "reason": "more realism"}}
            for c in cells]})
    return json.dumps({"detail": "with welts and a split lip", "negative": "clothing"})


def test_harmful_llm_wording_falls_back_to_rules_and_is_logged(monkeypatch, tmp_path: Path
                                                                ) -> None:
    with OpenAIStub(harmful) as stub:
        monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        monkeypatch.setenv("FACETORY_LLM_MODEL", "harmful")
        ctx = fresh_build(tmp_path / "b")
        spec = ctx.spec.model_copy(update={"classes": [
            c.model_copy(update={"attributes": {"age_group": "child"}}) for c in ctx.spec.classes
        ]})
        write_spec(spec, ctx.paths.spec_yaml)
        ctx.reload()
        state = build(ctx)
    assert state["stop_reason"] == "complete"
    records = ctx.manifest.records()
    assert any(r.attempt > 0 for r in records)  # retries happened, with the rules' wording
    texts = [r.prompt for r in records] + [i.prompt + i.negative_prompt for i in ctx.plan.items]
    for text in texts:
        assert "bruises" not in text and "welts" not in text and "clothing" not in text
    assert {d["source"] for _, _, d in ctx.manifest.decisions()} == {"rules"}
    refused = [e for e in ctx.events.read()
               if e["event"] == "llm_fallback" and "refused" in e["error"]]
    assert {e["step"] for e in refused} == {"enrich", "replan"}
    assert any("bloody" in e["error"] for e in refused)
