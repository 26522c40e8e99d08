"""Every word of a request read offline is used by the reading or asked about (issue 24).

The reader used to fail only on leftover words that looked like a requirement (numbers,
vocabulary), so a word it dropped ('blurry', 'lads', 'a few hundred') went silently into a plan
without it.
"""

from __future__ import annotations

import pytest

from agent.language.accounting import account
from agent.language.parse import parse_spec
from agent.language.reader import parse_offline
from agent.language.reader.content import safe, unexplained_words
from agent.language.reader.words import correct_spelling
from agent.language.spec import SpecError
from tests.agent.language.test_reader_corpus import factor_problems


def read(text: str):
    return parse_spec(text, offline=True)


def test_a_word_no_fact_of_the_plan_explains_is_asked_about_not_planned_without() -> None:
    with pytest.raises(SpecError, match="blurry"):
        read("need 500 blurry faces")


def test_a_vague_count_asks_for_the_number() -> None:
    with pytest.raises(SpecError, match="a few 100' - how many exactly"):
        read("a few hundred faces of women")
    with pytest.raises(SpecError, match="couple of 1000"):
        read("a couple of thousand faces")


def test_greetings_and_what_the_data_is_for_are_safe_to_leave_out() -> None:
    spec = read("Hi! Could you please generate 300 faces for a quick webcam smoke test? Thanks")
    assert spec.total == 300


def test_a_safe_word_is_found_in_its_plural_and_verb_forms() -> None:
    assert safe("photographed") and safe("pics") and safe("selfie-style")
    assert not safe("blurry") and not safe("sepia-toned")


def test_words_the_reading_used_are_explained_and_the_others_quoted_together() -> None:
    low = "attentive and distracted sleepy drivers"
    used = bytearray(len(low))
    used[: len("attentive and distracted")] = b"\x01" * len("attentive and distracted")
    assert unexplained_words(low, used) == [
        ("sleepy drivers", "not in the plan: what should it change?")]


def test_slang_nouns_for_people_read_as_their_gender() -> None:
    spec = read("300 lads and 300 lasses")
    assert {c.name: c.attributes.get("gender") for c in spec.classes} == {
        "lads": "male", "lasses": "female"}


def test_a_spelling_slip_keeps_its_first_letter() -> None:
    assert correct_spelling("300 pics of people wearing glasess") == (
        "300 pics of people wearing glasses")
    assert correct_spelling("lasses") != "glasses"


def test_looking_straight_at_the_camera_is_the_frontal_pose() -> None:
    spec = read("400 headshots, everyone looking straight at the camera")
    assert factor_problems(spec, "head_pose", ["frontal"]) == []


def test_no_one_wearing_a_hat_means_no_hat() -> None:
    spec = read("five hundred portraits, no one wearing a hat")
    assert factor_problems(spec, "hat", ["none"]) == []


def test_a_count_for_each_gender_and_age_group_is_per_combination() -> None:
    spec = read("50 images for each gender and age group")
    assert spec.total == 2 * 6 * 50
    assert sorted(f.name for f in spec.factors) == ["age_group", "gender"]


def test_the_accounting_never_takes_a_count_per_combination_for_the_total() -> None:
    words = [u.words for u in account("50 images for each gender", parse_offline("50 images")
                                      ).unexplained]
    assert "50" in words


def test_a_decade_of_age_the_reading_left_out_is_asked_about() -> None:
    with pytest.raises(SpecError, match="'30s' - an age"):
        read("300 faces of 30s people")  # "in their 30s" is read since session 6


def test_a_short_misspelt_word_is_asked_about_with_the_words_it_may_be() -> None:
    with pytest.raises(SpecError, match="'wmen' - not in the plan: did you mean 'women'"):
        read("400 faces of wmen")
