"""How the reader's words module writes a request before reading it (issue 24)."""

from __future__ import annotations

import pytest

from agent.language.parse import parse_spec
from agent.language.reader.words import negated, normalised
from agent.language.spec import SpecError
from tests.agent.language.test_reader_corpus import factor_problems


def test_a_bulleted_list_on_its_own_lines_is_one_comma_separated_list() -> None:
    assert normalised("Classes:\n- happy\n- sad\n- surprised\n200 each") == (
        "Classes: happy, sad, surprised\n200 each")
    assert normalised("Expressions:\n1. calm\n2. angry\n") == "Expressions: calm, angry\n"


def test_shorthand_is_read_as_the_words_it_stands_for() -> None:
    assert normalised("300 ea, guys w/ hats") == "300 each, guys with hats"
    assert normalised("Classes -> a, b") == "Classes: a, b"


def test_a_bulleted_class_list_plans_its_classes() -> None:
    spec = parse_spec("Classes:\n- happy\n- sad\n- surprised\n200 each", offline=True)
    assert {c.name: c.quota for c in spec.classes} == {"happy": 200, "sad": 200, "surprised": 200}


def test_a_share_of_a_level_starting_with_in_is_that_level() -> None:
    spec = parse_spec("1000 faces, 40% indoor, 60% outdoor", offline=True)
    assert factor_problems(spec, "background", {"indoor": 0.4, "outdoor": 0.6}) == []


@pytest.mark.parametrize(("text", "want"), [
    ("1000 faces and no masks, hats or glasses", "no mask, no hat or no glasses"),
    ("500 faces without glasses, hats or masks", "no glasses, no hat or no mask"),
    ("30% glasses, no hats", "30% glasses, no hat"),
])
def test_a_negation_before_a_list_of_accessories_negates_each(text: str, want: str) -> None:
    assert want in negated(text)


def test_a_list_of_negated_accessories_plans_none_of_them() -> None:
    spec = parse_spec("1000 faces and no masks, hats or glasses", offline=True)
    for factor in ("mask", "hat", "eyewear"):
        assert spec.factor(factor).targets() == {"none": 1.0}


@pytest.mark.parametrize("text", [
    "um, like, 600 faces, uh, with glasses and 30% or so with hats",
    "600-ish faces, with glasses, 30%ish with hats",
    "600 faces, give or take, with glasses and 30% give or take with hats",
])
def test_hedges_and_filler_read_like_about(text: str) -> None:
    spec = parse_spec(text, offline=True)
    assert spec.total == 600 and spec.factor("eyewear").targets() == {"glasses": 1.0}
    assert spec.factor("hat").targets() == pytest.approx({"hat": 0.3, "none": 0.7})


@pytest.mark.parametrize(("text", "words"), [
    ("1000 faces, lots with beards", "lots with beards"),
    ("1000 faces, plenty of glasses", "plenty of glasses"),
    ("1000 faces, smiling where possible", "where possible"),
    ("1000 faces, glasses if you can", "if you can"),
    ("1000 faces, hats are fine", "are fine"),
    ("1000 faces, with or without glasses", "with or without glasses"),
])
def test_a_vague_amount_or_a_wish_is_asked_about_never_planned_on_every_face(
        text: str, words: str) -> None:
    with pytest.raises(SpecError, match=words):
        parse_spec(text, offline=True)


@pytest.mark.parametrize(("text", "want"), [
    ("1000 faces, no one should wear a mask", {"mask": {"none": 1.0}}),
    ("1000 faces, glasses: none", {"eyewear": {"none": 1.0}}),
    ("1000 faces, we don't want anyone with sunglasses", {"eyewear": {"none": 1.0}}),
    ("1000 faces, glasses: none, hats: 20%", {"eyewear": {"none": 1.0},
                                              "hat": {"hat": 0.2, "none": 0.8}}),
    ("1000 faces, no sunglasses, hats on 20%", {"eyewear": {"none": 1.0},
                                                "hat": {"hat": 0.2, "none": 0.8}}),
])
def test_an_accessory_nobody_has_is_none_and_a_listed_one_with_a_share_keeps_it(
        text: str, want: dict) -> None:
    spec = parse_spec(text, offline=True)
    for factor, targets in want.items():
        assert spec.factor(factor).targets() == pytest.approx(targets)
