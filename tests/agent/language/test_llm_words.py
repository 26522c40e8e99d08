"""The words of a request an LLM's spec leaves unexplained, found from the spec's own strings."""

from __future__ import annotations

from agent.language.llm_words import spec_words, unexplained_content
from agent.language.spec import DatasetSpec

KIDS = {
    "classes": [
        {"name": "glasses", "quota": 6, "attributes": {"eyewear": "glasses", "age_group": "child"}},
        {"name": "none", "quota": 6, "attributes": {"eyewear": "none", "age_group": "child"}},
    ],
    "factors": [
        {"name": "gender", "balanced": True, "levels": [{"name": "female"}, {"name": "male"}]}
    ],
}
REQUEST = "twelve children's faces, half with glasses, balanced by gender"


def spec(**changes) -> DatasetSpec:
    return DatasetSpec.model_validate({**KIDS, **changes})


def left(text: str, s: DatasetSpec | None = None) -> list[str]:
    return [u.line() for u in unexplained_content(text, s or spec())]


def test_a_spec_that_says_every_word_of_the_request_leaves_nothing():
    assert left(REQUEST) == []


def test_a_word_the_spec_dropped_is_named_as_the_offline_reader_names_it():
    assert left("twelve blurry children's faces, half with glasses, balanced by gender") == [
        "'blurry' - not in the plan: what should it change?"
    ]


def test_a_class_the_spec_dropped_is_unexplained_and_one_it_kept_is_not():
    two = {"classes": [{"name": "astronaut", "quota": 150}, {"name": "chef", "quota": 150}]}
    found = left("300 faces in three classes: astronaut, chef and pilot", spec(**two))
    assert found == ["'pilot' - not in the plan: what should it change?"]


def test_harmless_context_and_politeness_are_never_asked_about():
    text = f"Hi! Could you please make {REQUEST} for a kiosk demo? Thanks!"
    assert left(text) == []
    assert left(f"{REQUEST}. We're building a classifier for school photos. Cheers") == []


def test_a_class_description_explains_the_words_it_says():
    described = spec(classes=[{**KIDS["classes"][0], "description": "slightly blurry photos"},
                              KIDS["classes"][1]])
    assert left("twelve blurry children's faces, half with glasses, balanced by gender",
                described) == []


def test_words_are_matched_in_their_plain_forms():
    masked = spec(classes=[{"name": "masked", "quota": 6}, {"name": "unmasked", "quota": 6}],
                  factors=[])
    assert left("twelve faces: masks and unmasked faces", masked) == []


def test_a_setting_the_spec_moves_off_its_default_explains_its_words():
    assert left(f"{REQUEST}, trained for 40 epochs") == ["'epochs' - not in the plan: what "
                                                           "should it change?"]
    assert left(f"{REQUEST}, trained for 40 epochs", spec(training={"epochs": 40})) == []


def test_the_vocabulary_words_of_the_spec_levels_are_its_words():
    assert {"bespectacled", "kid", "gender"} <= spec_words(spec())
    assert "sunglasses" not in spec_words(spec())


def test_the_dataset_name_explains_nothing():
    """An LLM that moves a word into the name has not planned it."""
    named = spec(name="blurry kids")
    assert left("twelve blurry children's faces, half with glasses, balanced by gender",
                named) == ["'blurry' - not in the plan: what should it change?"]


def test_a_vague_count_asks_for_the_number_as_offline():
    assert left("a few hundred children's faces, half with glasses, balanced by gender") == [
        "'a few 100' - how many exactly? give the number"
    ]


def test_a_setting_is_said_by_the_number_the_request_gives_even_at_its_default():
    """'threshold' names the kind of a fact (tools/vocabulary/llm_words.yaml): explained when
    the spec has that setting at the number asked, asked about when it does not."""
    text = f"{REQUEST}, identity similarity threshold 0.6"
    assert left(text, spec(quality={"identity_similarity": 0.6})) == []
    assert left(f"{REQUEST}, identity similarity threshold 0.9") == []  # 0.9 is the default
    assert left(text) == ["'similarity threshold' - not in the plan: what should it change?"]


def test_a_title_is_explained_by_the_spec_name_only_where_the_request_opens_with_it():
    titled = spec(name="Crowd detection")
    assert left(f"Crowd detection: {REQUEST}", titled) == []
    assert left(f"Crowd detection: {REQUEST}") == [
        "'crowd' - not in the plan: what should it change?"]
    assert left(f"{REQUEST}, crowd scenes", titled) == [
        "'crowd scenes' - not in the plan: what should it change?"]


def test_a_photographic_style_explains_every_word_that_asks_for_photographs():
    text = f"{REQUEST}, realistic and lifelike"
    assert left(text, spec(generation={"style": "photorealistic"})) == []
    (asked,) = left(text)
    assert asked.startswith("'realistic and lifelike' - not in the plan")


def test_what_a_revision_removed_explains_feedback_that_asks_for_its_removal() -> None:
    from agent.language.llm_words import changed_words

    crew = DatasetSpec.from_data({"classes": [{"name": n, "quota": 100}
                                              for n in ("astronaut", "chef", "pilot")]})
    two = DatasetSpec.from_data({"classes": [{"name": n, "quota": 150}
                                             for n in ("astronaut", "chef")]})
    assert {"pilot", "drop", "remove"} <= changed_words(crew, two)
    assert "add" not in changed_words(crew, two)  # nothing was added
    assert "add" in changed_words(two, crew) and "pilot" not in changed_words(two, crew)
    assert changed_words(crew, crew) == frozenset()  # no change explains no change-word
