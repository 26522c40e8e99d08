"""How the offline reader reads levels said in proportion (agent.language.reader.ratios)."""

from __future__ import annotations

import pytest

from agent.language.parse import parse_spec
from agent.language.spec import SpecError


def shares(text: str, factor: str) -> dict[str, float]:
    spec = parse_spec(text, offline=True)
    return {lv: round(s, 3) for lv, s in spec.factor(factor).targets().items() if s}


@pytest.mark.parametrize(("text", "factor", "want"), [
    ("1200 faces, twice as many women as men", "gender", {"female": 0.667, "male": 0.333}),
    ("900 faces, three times more smiling than neutral", "expression",
     {"smile": 0.75, "neutral": 0.25}),
    ("600 faces with 4 times as many open eyes as closed eyes", "eyes",
     {"open": 0.8, "closed": 0.2}),
    ("generate 750 face, three time more men than woman", "gender", {"male": 0.75, "female": 0.25}),
    ("3000 faces with as many women as men", "gender", {"female": 0.5, "male": 0.5}),
])
def test_n_times_as_many_of_one_level_as_another_is_their_shares(text, factor, want) -> None:
    assert shares(text, factor) == want


@pytest.mark.parametrize(("text", "factor", "want"), [
    ("800 faces, men to women 3 to 1", "gender", {"male": 0.75, "female": 0.25}),
    ("1000 faces where women outnumber men 4 to 1", "gender", {"female": 0.8, "male": 0.2}),
    ("600 faces, blond:black:red hair 1:1:1", "hair_color",
     {"blond": 0.333, "black": 0.333, "red": 0.333}),
    ("1,000 faces: blue eyes:brown eyes:green eyes = 2:2:1", "eye_color",
     {"blue": 0.4, "brown": 0.4, "green": 0.2}),
])
def test_a_ratio_of_named_levels_is_their_shares(text, factor, want) -> None:
    assert shares(text, factor) == want


@pytest.mark.parametrize("text", [
    "500 faces, twice as many men as smiling",  # levels of two factors: no one proportion
    "1000 faces where women outnumber men 1 to 4",  # the numbers say the opposite of the verb
])
def test_a_proportion_that_cannot_be_one_factors_shares_is_asked_about(text) -> None:
    with pytest.raises(SpecError):
        parse_spec(text, offline=True)


def test_numbers_said_as_from_to_stay_a_range_not_a_ratio() -> None:
    spec = parse_spec("600 pics, 1 to 3 faces per pic", offline=True)
    assert spec.faces_range() == (1, 3)


@pytest.mark.parametrize(("text", "factor", "total"), [
    ("300 per ethnicity, five ethnicities", "ethnicity", 1500),
    ("200 per hair colour, 6 hair colours", "hair_color", 1200),
])
def test_a_count_of_a_balanced_factors_levels_that_agrees_is_read(text, factor, total) -> None:
    spec = parse_spec(text, offline=True)
    assert spec.total == total
    assert len(spec.factor(factor).targets()) == int(total / int(text.split()[0]))


def test_a_count_of_levels_the_vocabulary_does_not_have_asks_which_ones() -> None:
    with pytest.raises(SpecError, match="'4 ethnicities' - facetory has 5 .*which 4"):
        parse_spec("300 per ethnicity, four ethnicities", offline=True)


def test_a_ratio_after_levels_listed_with_or_is_their_shares() -> None:
    text = "1,800 faces whose expressions are neutral, smiling or surprised in a 1:1:1 ratio"
    assert shares(text, "expression") == {"neutral": 0.333, "smile": 0.333, "surprise": 0.333}


@pytest.mark.parametrize(("text", "factor", "want"), [
    ("faces looking left to faces looking right 3:1, 1200 total", "head_pose",
     {"left": 0.75, "right": 0.25}),
    ("Create 900 faces with a 2:1 split of indoor and outdoor backgrounds, and hold out 10% "
     "for testing", "background", {"indoor": 0.667, "outdoor": 0.333}),
    ("1000 faces, a 60/40 split of men and women", "gender", {"male": 0.6, "female": 0.4}),
])
def test_a_ratio_said_before_or_between_its_levels_with_count_nouns_is_their_shares(
    text, factor, want
) -> None:
    assert shares(text, factor) == want


@pytest.mark.parametrize("text", ["1,000 faces with a 60/40 split",
                                  "classes happy and sad, 400 images, a 70/30 split"])
def test_a_two_part_split_with_no_levels_or_split_parts_named_is_still_asked_about(text) -> None:
    with pytest.raises(SpecError, match="no classes, levels or splits of the plan"):
        parse_spec(text, offline=True)
