"""How the offline reader reads levels and their shares (agent.language.reader.attributes)."""

from __future__ import annotations

import pytest

from agent.language.parse import load_spec_source
from agent.language.reader import parse_offline
from agent.language.spec import SpecError


@pytest.mark.parametrize("text", [
    "1000 faces, sunglasses 0.3, glasses 0.2",
    "faces w/ sunglasses: 0.3, w/ glasses: 0.2 -- 1000 total",
    "make 1000 faces with 0.3 sunglasses and 0.2 glasses",
])
def test_a_fraction_beside_a_level_is_its_share(text: str) -> None:
    eyewear = parse_offline(text).factor("eyewear").targets()
    assert eyewear == pytest.approx({"sunglasses": 0.3, "glasses": 0.2, "none": 0.5})


def test_the_others_with_none_is_the_rest_level_of_the_factor_shared() -> None:
    spec = parse_offline("Need 800 faces w/ sunglasses 0.3 and the others with none")
    assert spec.factor("eyewear").targets() == pytest.approx({"sunglasses": 0.3, "none": 0.7})


def test_a_fraction_beside_a_threshold_is_no_share() -> None:
    spec = parse_offline("500 faces, min critic score 0.8, glasses 0.5")
    assert spec.quality.min_critic_score == pytest.approx(0.8)
    assert spec.factor("eyewear").targets()["glasses"] == pytest.approx(0.5)


def test_a_level_word_two_factors_share_is_read_by_the_factor_its_clause_names() -> None:
    lit = parse_offline("1000 imgs, lighting from the left only")
    assert lit.factor("lighting").targets() == {"left": 1.0} and lit.factor("head_pose") is None
    turned = parse_offline("1000 faces, heads turned to the left")
    assert turned.factor("head_pose").targets() == {"left": 1.0}


def test_two_exclusions_joined_by_and_are_no_constraint() -> None:
    spec = parse_offline("1k faces, no hats and no masks")
    assert spec.factor("hat").targets() == {"none": 1.0}
    assert spec.factor("mask").targets() == {"none": 1.0}
    assert not spec.constraints


def test_a_share_of_the_people_said_without_of_is_a_share_of_the_people() -> None:
    spec = parse_offline("20 people, 30 shots per person, half the people male")
    assert spec.identities.count == 20 and spec.total == 600
    assert spec.factor("gender").targets() == pytest.approx({"male": 0.5, "female": 0.5})


@pytest.mark.parametrize("text", [
    "A classifier over three ethnicity classes: African, Asian, White; 200 each",
    "a set of over 3 facial expression categories: happy, sad and calm, 100 each",
])
def test_over_a_count_of_named_things_is_no_age(text: str) -> None:
    assert parse_offline(text).factor("age") is None


@pytest.mark.parametrize(("text", "years"), [
    ("200 faces of people over 65", (65, 90)),
    ("300 faces, everyone under 12 years old", (3, 12)),
])
def test_over_or_under_an_age_is_an_age_range(text: str, years: tuple[int, int]) -> None:
    numeric = parse_offline(text).factor("age").numeric
    assert (numeric.low, numeric.high) == years


def _age_groups(text: str) -> set[str]:
    """The age groups a request's plan draws (from a numeric age range or the age groups)."""
    spec = parse_offline(text)
    own = spec.factor("age_group")
    if own is not None:
        return {lv for lv, share in own.targets().items() if share > 0}
    return {g for f in spec.factors for d in f.derived().values() for k, g in d.items()
            if k == "age_group"}


def test_no_one_under_an_age_leaves_out_everyone_younger_instead_of_drawing_only_them() -> None:
    assert "child" not in _age_groups("600 faces, no one under 18")
    assert _age_groups("600 faces, no one under 18") >= {"old", "middle_aged"}


@pytest.mark.parametrize(("text", "group"), [
    ("500 faces of 16 year olds", "teenager"),
    ("500 portraits of 70-year-olds", "old"),
    ("a set of 300 faces of 8 yo kids", "child"),
])
def test_one_age_in_years_is_that_age(text: str, group: str) -> None:
    assert _age_groups(text) == {group}


@pytest.mark.parametrize("text", [
    "1000 faces of every age except children",
    "1000 faces without kids, balanced across age groups",
])
def test_an_excluded_age_group_of_balanced_ages_leaves_the_others_equally(text: str) -> None:
    ages = parse_offline(text).factor("age_group").targets()
    assert "child" not in ages and len(ages) == 5
    assert all(v == pytest.approx(0.2) for v in ages.values())


def test_an_excluded_level_of_a_factor_not_listed_as_excludable_is_not_planned() -> None:
    with pytest.raises(SpecError, match="nobody smiling"):
        load_spec_source("1000 faces, nobody smiling", offline=True)


@pytest.mark.parametrize(("text", "words"), [
    ("1000 faces, glasses on 20% of the men only", "20% of the men"),
    ("1000 faces, 50% kids, 10% of the kids in sunglasses", "10% of the kids"),
    ("1000 faces: the children with glasses, the adults without", "children with glasses"),
])
def test_a_share_within_one_group_is_asked_about_never_planned_over_all_images(
        text: str, words: str) -> None:
    with pytest.raises(SpecError, match=words):
        parse_offline(text)


@pytest.mark.parametrize("text", [
    "500 men, glasses on 20% of the men",
    "400 faces of kids, 10% of the kids in sunglasses",
])
def test_a_share_within_a_group_that_is_every_image_is_a_share_of_all(text: str) -> None:
    eyewear = parse_offline(text).factor("eyewear").targets()
    worn = max(v for k, v in eyewear.items() if k != "none")
    assert worn == pytest.approx(0.2 if "men" in text else 0.1)


@pytest.mark.parametrize(("text", "factor", "level", "share"), [
    ("1000 faces, a fifth photographed outdoors", "background", "outdoor", 0.2),
    ("900 faces, roughly a third in some sort of cap", "hat", "hat", 1 / 3),
    ("1000 faces, 20% pictured with sunglasses", "eyewear", "sunglasses", 0.2),
])
def test_a_share_said_with_an_everyday_verb_or_noun_is_the_share_of_its_level(
        text: str, factor: str, level: str, share: float) -> None:
    spec = load_spec_source(text, offline=True)[1]
    assert spec.factor(factor).targets()[level] == pytest.approx(share, abs=0.001)


@pytest.mark.parametrize(("text", "words"), [
    ("1000 faces, men with beards and women without", "men with beards and women without"),
    ("1000 faces; among the women, 40% wear hats", "among the women, 40%"),
    ("1000 faces, women with long hair, men with short hair", "women with long hair, men with"),
])
def test_groups_given_their_own_attributes_are_asked_about_never_planned_as_one(
        text: str, words: str) -> None:
    with pytest.raises(SpecError, match=words):
        parse_offline(text)


def test_one_group_with_its_attributes_is_every_image() -> None:
    spec = parse_offline("300 elderly women with glasses")
    assert spec.factor("eyewear").targets() == {"glasses": 1.0}
    assert spec.factor("gender").targets() == {"female": 1.0}


@pytest.mark.parametrize("text", [
    "1000 faces, 5% sun hat and 15% cap",
    "1000 faces, 10% hats 10% caps",
])
def test_shares_of_two_words_for_one_level_add_up(text: str) -> None:
    spec = load_spec_source(text, offline=True)[1]
    assert spec.factor("hat").targets() == pytest.approx({"hat": 0.2, "none": 0.8})


def test_a_share_said_again_with_the_same_word_is_asked_about_not_added() -> None:
    with pytest.raises(SpecError, match="hats 20%"):
        load_spec_source("1000 faces, 20% hats, 30% hats", offline=True)


@pytest.mark.parametrize(("text", "years"), [
    ("1000 faces, not under 18", (18, 100)),
    ("1000 faces of people in their 60s", (60, 69)),
    ("1000 faces of people in their late twenties", (26, 29)),
])
def test_ages_said_with_not_or_a_decade_are_their_range(text: str, years: tuple[int, int]) -> None:
    numeric = parse_offline(text).factor("age").numeric
    assert (numeric.low, numeric.high) == years


@pytest.mark.parametrize(("text", "factor", "level", "share"), [
    ("1000 faces, every other face smiling", "expression", "smile", 0.5),
    ("1000 faces, every second person with glasses", "eyewear", "glasses", 0.5),
    ("1000 faces, every third one in a hat", "hat", "hat", 1 / 3),
])
def test_every_other_or_third_one_is_a_share(
        text: str, factor: str, level: str, share: float) -> None:
    spec = load_spec_source(text, offline=True)[1]
    assert spec.factor(factor).targets()[level] == pytest.approx(share, abs=0.001)


@pytest.mark.parametrize(("text", "words"), [
    ("1000 faces, 30% women with glasses", "30% women with glasses"),
    ("1000 faces, 25% bearded men", "25% bearded men"),
    ("1000 faces, 20% glasses and hats", "20% glasses and hats"),
    ("1000 faces, glasses and hats 20% each", "glasses and hats 20%"),
    ("1000 faces, 40% men, half of them bearded", "40% men, 50% of them"),
])
def test_a_share_of_a_combination_or_of_a_group_is_asked_about(text: str, words: str) -> None:
    with pytest.raises(SpecError, match=words):
        parse_offline(text)


def test_a_share_of_a_combination_whose_group_is_every_image_is_planned() -> None:
    spec = parse_offline("1000 men, 25% bearded men")
    assert spec.factor("facial_hair").targets() == pytest.approx({"beard": 0.25, "none": 0.75})
