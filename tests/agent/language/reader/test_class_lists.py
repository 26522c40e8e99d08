"""How the offline reader reads class lists in their less usual shapes
(agent.language.reader.class_lists and agent.language.reader.classes)."""

from __future__ import annotations

import pytest

from agent.language.parse import parse_spec
from agent.language.spec import SpecError


def quotas(text: str) -> dict[str, int]:
    return {c.name: c.quota for c in parse_spec(text, offline=True).classes}


@pytest.mark.parametrize(("text", "want"), [
    ("happy/sad/angry classes, 200 each", {"happy": 200, "sad": 200, "angry": 200}),
    ("happy | sad | neutral classes, 150 images each", {"happy": 150, "sad": 150, "neutral": 150}),
    ("we want masked/unmasked classes, 300 faces", {"masked": 150, "unmasked": 150}),
])
def test_a_list_said_before_the_word_classes_is_the_class_list(text, want) -> None:
    assert quotas(text) == want


def test_other_words_before_a_list_and_classes_stay_attributes_of_every_image() -> None:
    spec = parse_spec("900 faces with glasses and hats, smiling/neutral classes", offline=True)
    assert {c.name: c.quota for c in spec.classes} == {"smiling": 450, "neutral": 450}
    assert spec.factor("eyewear").targets() == {"glasses": 1.0}


def test_factor_names_before_classes_are_asked_about_not_made_classes() -> None:
    with pytest.raises(SpecError, match="gender and age"):
        parse_spec("900 faces, gender and age classes", offline=True)


@pytest.mark.parametrize(("text", "want"), [
    ("3 classes x 200: happy, sad, angry", {"happy": 200, "sad": 200, "angry": 200}),
    ("2 classes x 350: masked, unmasked", {"masked": 350, "unmasked": 350}),
    ("3 classes of 200 each: happy, sad, angry", {"happy": 200, "sad": 200, "angry": 200}),
])
def test_a_count_of_classes_times_images_each_before_the_names_is_the_per_class_count(
    text, want
) -> None:
    assert quotas(text) == want


@pytest.mark.parametrize(("text", "said"), [
    ("3 classes x 200: happy, sad", "3 classes announced but 2 listed"),
    ("1000 faces, 3 classes of 400: happy, sad, angry", "add up to 1200, but .* 1000"),
    ("3 classes, 100 each: happy, sad, angry, neutral", None),
])
def test_class_counts_that_disagree_with_the_list_or_the_total_are_asked_about(text, said):
    with pytest.raises(SpecError, match=said):
        parse_spec(text, offline=True)


def test_class_names_said_without_separators_are_split_when_each_word_is_a_level() -> None:
    assert quotas("classes happy sad angry, 100 each") == {"happy": 100, "sad": 100, "angry": 100}
    assert quotas("900 faces, happy sad angry classes") == {"happy": 300, "sad": 300, "angry": 300}


@pytest.mark.parametrize("text", [
    "classes black white, 100 each",  # hair colours or ethnicities?
    "classes: short hair long hair, 100 each",  # where does one name end?
])
def test_unseparated_names_that_could_split_more_than_one_way_are_asked_about(text) -> None:
    with pytest.raises(SpecError):
        parse_spec(text, offline=True)


def test_counts_said_respectively_after_a_list_and_classes_are_the_quotas() -> None:
    text = "surprise / fear / neutral classes with 90, 90 and 180 images"
    assert quotas(text) == {"surprise": 90, "fear": 90, "neutral": 180}


def test_images_for_each_at_the_end_of_a_clause_is_the_per_class_count() -> None:
    text = "teenager and child are my two classes; 400 images for each"
    assert quotas(text) == {"teenager": 400, "child": 400}


def test_a_class_count_said_after_a_list_and_classes_is_checked_against_the_list() -> None:
    assert quotas("smiling and neutral, 2 classes, 200 each") == {"smiling": 200, "neutral": 200}
    with pytest.raises(SpecError, match="3 classes announced but 2 listed"):
        parse_spec("smiling and neutral, 3 classes, 200 each", offline=True)


def test_one_name_holding_slashes_after_the_word_classes_is_a_list_of_names() -> None:
    spec = parse_spec("classes: curly/straight/wavy hair, 200 each", offline=True)
    assert [c.name for c in spec.classes] == ["curly", "straight", "wavy"]
    assert spec.classes[0].attributes == {"hair_style": "curly"}


def test_one_vocabulary_phrase_holding_a_slash_stays_one_name() -> None:
    with pytest.raises(SpecError, match="single class"):
        parse_spec("classes: south asian/indian, 100 faces", offline=True)


def test_a_per_class_count_between_the_list_and_classes_is_read_with_them() -> None:
    assert quotas("curly, straight, wavy classes, 100 each") == {
        "curly": 100, "straight": 100, "wavy": 100}
    assert quotas("happy and sad, 300 of each, two classes") == {"happy": 300, "sad": 300}


def test_a_count_of_emotions_times_images_before_the_names_is_the_class_list() -> None:
    assert quotas("3 emotions x 300 images: happy, sad, neutral") == {
        "happy": 300, "sad": 300, "neutral": 300}
    with pytest.raises(SpecError, match="4 classes announced but 2 listed"):
        parse_spec("4 emotions x 100: happy, sad", offline=True)
