"""The rule table turns the dominant rejection reason of a cell into an adjustment."""

from collections import Counter

from agent.runtime.replan_policy import CellReport, decide, retry_seed, rule_adjustment


def test_attribute_mismatch_emphasises_the_level_and_raises_guidance() -> None:
    adj = rule_adjustment(Counter({"attribute_mismatch:eyewear": 3, "blurry": 1}),
                          {"eyewear": "sunglasses"})
    assert "sunglasses" in adj.prompt_addition
    assert adj.guidance_delta > 0


def test_dominant_reason_wins_and_ties_are_stable() -> None:
    assert "sharp" in rule_adjustment(Counter({"blurry": 2, "extra_face": 1}), {}).prompt_addition
    tie = Counter({"extra_face": 1, "blurry": 1})
    assert rule_adjustment(tie, {}) == rule_adjustment(Counter(dict(reversed(tie.items()))), {})


def test_decide_without_llm_uses_rules_for_every_cell() -> None:
    reports = [CellReport(cell="a|x=1", missing=2, reasons={"extra_face": 2}),
               CellReport(cell="b|x=2", missing=1, reasons={})]
    decisions = decide(reports, {"a|x=1": {"x": "1"}, "b|x=2": {"x": "2"}})
    assert decisions["a|x=1"].negative_addition.startswith("two people")
    assert {d.source for d in decisions.values()} == {"rules"}


def test_retry_seeds_are_reproducible_and_distinct() -> None:
    assert retry_seed(7, 1) == retry_seed(7, 1)
    assert len({retry_seed(7, a) for a in range(50)}) == 50


def test_every_variation_an_llm_words_for_a_childs_retry_falls_back_to_the_rules(
    monkeypatch,
) -> None:
    """The whole generated corpus, one short cell per phrase, in one answer of the model."""
    import json

    from agent.llm import chat_model
    from tests.agent.openai_stub import OpenAIStub
    from tests.tools.safety_corpus import corpus

    words = {f"kids|v={i}": phrase for i, (_, _, phrase) in enumerate(corpus())}
    words["kids|ok"] = "in a classroom, soft window light"

    def director(model: str, messages: list[dict]) -> str:
        cells = [json.loads(line)["cell"] for line in messages[1]["content"].splitlines()]
        return json.dumps({"decisions": [
            {"cell": c, "adjustment": {"prompt_addition": words[c], "reason": "realism"}}
            for c in cells]})

    reports = [CellReport(cell=c, missing=1, reasons={"blurry": 1}) for c in words]
    attributes = {c: {"age_group": "child"} for c in words}
    fallbacks: list[str] = []
    with OpenAIStub(director) as stub:
        monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        decisions = decide(reports, attributes, llm=chat_model(),
                           max_cells_for_llm=len(words), on_fallback=fallbacks.append)
    assert decisions.pop("kids|ok").source == "llm"
    assert {d.source for d in decisions.values()} == {"rules"}
    assert {d.prompt_addition for d in decisions.values()} == {"sharp focus, detailed"}
    assert len(fallbacks) == len(words) - 1
