"""LLM mode against a local OpenAI-compatible server started by the test (no network)."""

from __future__ import annotations

import json

import pytest

from agent.language.parse import parse_spec
from agent.language.safety import RefusedError
from agent.language.spec import DatasetSpec, SpecError
from agent.llm import LLMError, chat_model, structured_call
from tests.agent.openai_stub import serving

GOOD = {
    "name": "kids with glasses",
    "subject": "children",
    "classes": [
        {"name": "glasses", "quota": 6, "attributes": {"eyewear": "glasses", "age_group": "child"}},
        {"name": "none", "quota": 6, "attributes": {"eyewear": "none", "age_group": "child"}},
    ],
    "factors": [
        {"name": "gender", "balanced": True, "levels": [{"name": "female"}, {"name": "male"}]}
    ],
}


def was_told_it_was_wrong(messages) -> bool:
    return any("not a valid DatasetSpec" in str(m.get("content")) for m in messages)


def answer(model: str, messages) -> str:
    """Scripted models: 'good' answers well; 'repair' fixes its answer once told what is
    wrong; 'stubborn' never does; 'harmful' sneaks a refused request into a description."""
    if model == "repair" and not was_told_it_was_wrong(messages):
        return json.dumps({"classes": [{"name": "glasses", "quota": -3}]})
    if model == "stubborn":
        return "Sure! Here is your dataset: twelve faces, some with glasses."
    if model == "harmful":
        bad = json.loads(json.dumps(GOOD))
        bad["classes"][0]["description"] = "with bruises"
        return json.dumps(bad)
    return "```json\n" + json.dumps(GOOD) + "\n```"


@pytest.fixture()
def server(monkeypatch):
    with serving(answer, monkeypatch) as stub:
        yield stub


def use_model(monkeypatch, name: str) -> None:
    monkeypatch.setenv("FACETORY_LLM_MODEL", name)


def test_a_model_that_first_answers_invalid_output_repairs_it(server, monkeypatch):
    use_model(monkeypatch, "repair")
    spec = parse_spec("twelve children's faces, half with glasses, balanced by gender")
    assert [c.quota for c in spec.classes] == [6, 6]
    assert len(server.requests) == 2
    feedback = server.requests[1]["messages"][-1]["content"]
    assert "classes.0.quota: Input should be greater than or equal to 1" in feedback
    assert server.requests[1]["model"] == "repair"


def test_no_valid_answer_after_three_repair_rounds_is_a_clear_error(server, monkeypatch):
    use_model(monkeypatch, "stubborn")
    with pytest.raises(LLMError, match="no valid DatasetSpec after 3 repair rounds"):
        parse_spec("twelve faces")
    assert len(server.requests) == 4  # the question and three repair rounds


def test_the_llm_answer_goes_through_the_safety_check(server, monkeypatch):
    use_model(monkeypatch, "harmful")
    with pytest.raises(RefusedError, match="bruises"):
        parse_spec("twelve children's faces with glasses")


def test_offline_ignores_a_configured_endpoint(server, monkeypatch):
    use_model(monkeypatch, "good")
    assert chat_model(offline=True) is None
    spec = parse_spec("12 faces balanced across gender", offline=True)
    assert spec.total == 12 and server.requests == []


def test_structured_call_works_for_any_schema(server, monkeypatch):
    use_model(monkeypatch, "good")
    spec = structured_call(chat_model(), type(parse_spec("3 faces", offline=True)), [("user", "x")])
    assert spec.name == "kids with glasses"


def test_no_endpoint_means_offline_and_forcing_llm_mode_says_what_is_missing(monkeypatch):
    for var in ("OPENAI_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    assert chat_model() is None
    with pytest.raises(LLMError, match="needs OPENAI_BASE_URL"):
        chat_model(offline=False)


def test_an_unreachable_endpoint_is_one_line_that_says_so(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # discard port: refused
    monkeypatch.setenv("OPENAI_API_KEY", "x")
    monkeypatch.setenv("FACETORY_LLM_TIMEOUT", "5")
    unreachable = "^the LLM endpoint http://127.0.0.1:9/v1 is unreachable"
    with pytest.raises(LLMError, match=unreachable) as err:
        structured_call(chat_model(), DatasetSpec, [("user", "12 faces")])
    assert "\n" not in str(err.value)


def _forgetful(model: str, messages) -> str:
    """'forgetful' drops the glasses half until told which words its spec leaves unexplained;
    'forgetful-stubborn' never listens."""
    told = any("unexplained" in str(m.get("content")) for m in messages)
    if model == "forgetful" and told:
        return json.dumps(GOOD)
    dropped = json.loads(json.dumps(GOOD))
    dropped["classes"] = [{"name": "child", "quota": 12, "attributes": {"age_group": "child"}}]
    dropped["factors"] = []
    return json.dumps(dropped)


def test_an_llm_spec_that_leaves_words_unexplained_goes_back_for_repair(monkeypatch):
    with serving(_forgetful, monkeypatch) as stub:
        use_model(monkeypatch, "forgetful")
        spec = parse_spec("twelve children's faces, half with glasses, balanced by gender")
        told = [m for req in stub.requests for m in req["messages"] if "unexplained" in
                str(m.get("content"))]
    assert [c.quota for c in spec.classes] == [6, 6]
    assert any("'50%'" in str(m["content"]) for m in told)


def test_an_llm_spec_still_unexplained_after_repair_is_asked_about(monkeypatch):
    from agent.language.accounting import Question

    with serving(_forgetful, monkeypatch):
        use_model(monkeypatch, "forgetful-stubborn")
        with pytest.raises(Question, match="'50%' - no share of the plan is this"):
            parse_spec("twelve children's faces, half with glasses, balanced by gender")


def test_an_unreachable_endpoint_says_so_and_reads_offline(monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("FACETORY_LLM_TIMEOUT", "5")
    spec = parse_spec("300 faces, 20% wear glasses")
    assert spec.total == 300
    err = capsys.readouterr().err
    assert "http://127.0.0.1:9/v1 is unreachable" in err and "offline instead" in err


# --- content words the LLM's spec drops (issue 24, part 3) ------------------------------------

CREW = "300 faces in three classes: astronaut, chef and pilot"
CREW_SPEC = {"classes": [{"name": n, "quota": 100} for n in ("astronaut", "chef", "pilot")]}
CREW_DROPPED = {"classes": [{"name": n, "quota": 150} for n in ("astronaut", "chef")]}
SMILES = "200 faces, half of them smiling, balanced across gender"
SMILES_DROPPED = {"classes": [{"name": "face", "quota": 200}], "factors": GOOD["factors"]}


def repair_messages(requests) -> list[str]:
    """What facetory told the model in its repair rounds."""
    return [str(m["content"]) for req in requests[1:] for m in req["messages"][-1:]]


def _drops(model: str, messages) -> str:
    """'drops-class' leaves out the pilot class until told which words its spec leaves
    unexplained; 'drops-class-stubborn' never listens; 'drops-smile' never plans the smile;
    'kiosk' answers the kiosk request well at once."""
    told = any("unexplained" in str(m.get("content")) for m in messages)
    if model == "drops-class":
        return json.dumps(CREW_SPEC if told else CREW_DROPPED)
    if model == "drops-smile":
        return json.dumps(SMILES_DROPPED)
    if model == "kiosk":
        return json.dumps(GOOD)
    return json.dumps(CREW_DROPPED)


@pytest.fixture()
def drops(monkeypatch):
    with serving(_drops, monkeypatch) as stub:
        yield stub


def test_a_dropped_class_goes_back_to_the_model_named(drops, monkeypatch):
    use_model(monkeypatch, "drops-class")
    spec = parse_spec(CREW)
    assert [c.name for c in spec.classes] == ["astronaut", "chef", "pilot"]
    (told,) = repair_messages(drops.requests)
    assert "- 'pilot'" in told and "astronaut" not in told


def test_a_class_still_dropped_after_the_repair_rounds_is_asked_about(drops, monkeypatch):
    from agent.language.accounting import Question

    use_model(monkeypatch, "drops-class-stubborn")
    with pytest.raises(Question, match="'pilot' - not in the plan: what should it change?"):
        parse_spec(CREW)
    assert len(drops.requests) == 4  # the question and three repair rounds


def test_a_dropped_level_word_is_asked_about_not_planned(drops, monkeypatch):
    from agent.language.accounting import Question

    use_model(monkeypatch, "drops-smile")
    with pytest.raises(Question, match="'smiling' - the plan has no such level"):
        parse_spec(SMILES)


def test_a_good_spec_of_a_request_with_harmless_context_is_planned_at_once(drops, monkeypatch):
    use_model(monkeypatch, "kiosk")
    text = ("Hi! Could you please make twelve children's faces, half with glasses, balanced by "
            "gender, for a kiosk demo? Thanks!")
    assert parse_spec(text).total == 12
    assert len(drops.requests) == 1


def test_the_repair_prompt_names_a_few_words_and_nothing_else(drops, monkeypatch):
    use_model(monkeypatch, "drops-class-stubborn")
    many = (f"{CREW}, blurry, grainy, tilted, sunlit, rainy, foggy, snowy, windy, dusty, "
            "smoky, muddy, sandy")
    with pytest.raises(SpecError):
        parse_spec(many)
    told = repair_messages(drops.requests)[0]
    assert told.count("\n- ") == 8  # the first eight words
    assert len(told) < 500
