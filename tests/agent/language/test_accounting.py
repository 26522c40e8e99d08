"""Every number and vocabulary word of a request is explained by the spec, or the person is asked
(agent.language.accounting)."""

from __future__ import annotations

import pytest

from agent.language.accounting import Question, account
from agent.language.parse import parse_spec
from agent.language.reader import parse_offline
from agent.language.spec import DatasetSpec, SpecError


def _spec(classes: dict[str, int], **extra: object) -> DatasetSpec:
    data = {"classes": [{"name": n, "quota": q} for n, q in classes.items()], **extra}
    return DatasetSpec.from_data(data, where="test")


def _expressions(quotas: dict[str, int]) -> DatasetSpec:
    """Classes that fix the expression their name says ('smiling' -> smile)."""
    level = {"smiling": "smile", "neutral": "neutral", "happy": "smile", "sad": "sad"}
    classes = [{"name": n, "quota": q, "attributes": {"expression": level[n]}}
               for n, q in quotas.items()]
    return DatasetSpec.from_data({"classes": classes}, where="test")


def test_a_right_reading_explains_every_number_and_word() -> None:
    text = "900 faces, three classes: no glasses, reading glasses and sunglasses, 300 of each"
    acc = account(text, parse_offline(text))
    assert acc.ok, [u.line() for u in acc.unexplained]
    assert ("900", "the total") in acc.explained


def test_a_class_count_the_spec_lacks_is_unexplained() -> None:
    acc = account("six classes, 300 images each", _spec({"happy": 300, "sad": 300}))
    assert [u.words for u in acc.unexplained] == ["6"]
    assert "levels" in acc.unexplained[0].why


def test_a_share_must_be_a_share_of_the_plan() -> None:
    text = "1000 faces, 30% wear glasses"
    assert account(text, _spec({"face": 1000})).unexplained[0].words == "30%"
    glasses = {"factors": [{"name": "eyewear", "levels": [
        {"name": "glasses", "proportion": 0.3}, {"name": "none", "proportion": 0.7}]}]}
    assert account(text, _spec({"face": 1000}, **glasses)).ok


def test_a_ratio_is_explained_by_quotas_in_that_proportion() -> None:
    text = "1000 faces, smiling to neutral 4:1"
    assert account(text, _expressions({"smiling": 800, "neutral": 200})).ok
    assert not account(text, _expressions({"smiling": 500, "neutral": 500})).ok


def test_model_names_versions_and_years_ask_for_nothing() -> None:
    text = "300 faces for YOLOv8 (ultralytics v8.1.0), collected in 2024"
    assert account(text, _spec({"face": 300})).ok


def test_a_words_share_quantifier_is_not_read_as_every_image() -> None:
    every = {"factors": [{"name": "hat", "levels": [{"name": "hat"}]}]}
    acc = account("2000 faces, some people wearing hats", _spec({"face": 2000}, **every))
    assert acc.unexplained[0].candidates == ("25%", "50%")


def test_a_reading_that_drops_a_listed_level_is_asked_about() -> None:
    adults = {"factors": [{"name": "age_group", "balanced": True, "levels": [
        {"name": "young_adult"}, {"name": "middle_aged"}]}]}
    acc = account("600 faces of kids and adults", _spec({"face": 600}, **adults))
    assert [u.words for u in acc.unexplained] == ["kids"]


def test_parse_asks_instead_of_planning_hats_in_every_image() -> None:
    with pytest.raises(Question) as err:
        parse_spec("2000 faces, some people wearing hats", offline=True)
    assert "'some people wearing hats' - what share? 25% / 50% / other" in str(err.value)


def test_kids_and_adults_keeps_both() -> None:
    spec = parse_spec("600 faces, include both kids and adults", offline=True)
    assert spec.factor("age_group").targets()["child"] == pytest.approx(0.5)


def test_a_hyphenated_split_order_is_read_in_that_order() -> None:
    spec = parse_spec("500 faces with a 60/20/20 train-val-test split", offline=True)
    assert (spec.splits.train, spec.splits.val, spec.splits.test) == (0.6, 0.2, 0.2)


def test_a_level_word_in_a_class_name_that_does_not_fix_it_is_unexplained() -> None:
    # 'bearded vs clean-shaven men' read as a class 'clean-shaven men' drew women too (and,
    # since facial hair is a factor, beardless 'bearded' people)
    text = "bearded vs clean-shaven men, 300 of each"
    acc = account(text, _spec({"bearded": 300, "clean-shaven men": 300}))
    assert [u.words for u in acc.unexplained] == ["bearded", "men"]


def test_a_level_word_is_read_as_the_factor_its_sentence_names() -> None:
    text = "3000 faces -- eye colour: blue 20%, green 10%, brown 70%"
    acc = account(text, parse_offline(text))  # read as hair colour brown 70%
    assert [u.words for u in acc.unexplained] == ["brown 70%", "blue, green"]  # eyes' other 70%?


def test_the_rest_goes_to_one_level_or_the_person_is_asked() -> None:
    text = "3000 faces -- blue eyes 20%, green eyes 10%, everything else brown"
    spread = {"factors": [{"name": "eye_color", "levels": [
        {"name": "blue", "proportion": 0.2}, {"name": "green", "proportion": 0.1},
        {"name": "brown"}, {"name": "hazel"}, {"name": "grey"}]}]}
    acc = account(text, _spec({"face": 3000}, **spread))
    assert [u.words for u in acc.unexplained] == ["everything else brown", "blue, green"]
    spread["factors"][0]["levels"] = spread["factors"][0]["levels"][:3]
    assert account(text, _spec({"face": 3000}, **spread)).ok


def test_a_quoted_name_must_be_a_name_of_the_plan() -> None:
    text = "Could I get a single-class dataset called 'person' with 750 pictures?"
    assert [u.words for u in account(text, _spec({"face": 750})).unexplained] == ["person"]
    assert account(text, _spec({"person": 750})).ok


def test_a_class_name_with_a_counting_word_is_a_misreading() -> None:
    text = "classes: masked 70%, unmasked the remainder; 2000 images"
    spec = _spec({"masked": 1400, "unmasked the remainder": 600})
    assert "unmasked the remainder" in [u.words for u in account(text, spec).unexplained]


def test_a_hedge_leaves_the_request_open() -> None:
    text = "600 faces split across happy and sad and maybe angry"
    acc = account(text, _expressions({"happy": 300, "sad": 300}))
    assert "maybe angry" in [u.words for u in acc.unexplained]


def test_a_two_part_split_without_its_parts_named_is_asked_about() -> None:
    spec = _spec({"face": 1000}, splits={"train": 0.6, "val": 0.0, "test": 0.4})
    assert [u.words for u in account("1000 faces with a 60/40 split", spec).unexplained] == [
        "60/40"]
    assert account("1000 faces with a 60/40 train/test split", spec).ok


def test_faces_facetory_does_not_draw_are_refused_naming_the_word() -> None:
    with pytest.raises(SpecError, match="'dog' - facetory draws human faces only"):
        parse_spec("800 dog faces, classes labrador and poodle", offline=True)


def test_n_images_for_each_is_a_class_quota_not_the_total() -> None:
    text = "classes: teenager and child; 400 images for each"

    def ages(quota: int) -> DatasetSpec:
        classes = [{"name": n, "quota": quota, "attributes": {"age_group": n}}
                   for n in ("teenager", "child")]
        return DatasetSpec.from_data({"classes": classes}, where="test")

    assert [u.words for u in account(text, ages(200)).unexplained] == ["400"]
    assert account(text, ages(400)).ok


def test_n_classes_counts_the_classes_not_a_factors_levels() -> None:
    text = "2 classes: masked, unmasked, partially masked; 300 each"
    spec = DatasetSpec.from_data({"classes": [
        {"name": "masked", "quota": 300, "attributes": {"mask": "mask"}},
        {"name": "unmasked", "quota": 300, "attributes": {"mask": "none"}},
        {"name": "partially masked", "quota": 300}]}, where="test")
    assert "2" in [u.words for u in account(text, spec).unexplained]


def test_a_count_of_classes_apart_from_their_list_is_read() -> None:
    spec = parse_spec("Five classes, 100 images each: african, asian, white, south asian, "
                      "hispanic.", offline=True)
    assert [(c.name, c.quota) for c in spec.classes] == [
        ("african", 100), ("asian", 100), ("white", 100), ("south asian", 100),
        ("hispanic", 100)]


def test_classes_asked_for_but_planned_as_one_class_are_unexplained() -> None:
    from agent.language.accounting import account
    from agent.language.reader import parse_offline

    spec = parse_offline("old and young 1:3 with 800 imgs")  # one class, age shares
    said = [u.words for u in account("classes old/young at 1:3 with 800 imgs", spec).unexplained]
    assert "classes" in said


def test_a_level_said_with_a_negation_is_unexplained_in_a_plan_that_has_it() -> None:
    from agent.language.accounting import account
    from agent.language.reader import parse_offline

    spec = parse_offline("500 portraits, everyone smiling")
    said = [(u.words, u.why) for u in account("500 portraits, nobody smiling", spec).unexplained]
    assert said == [("nobody smiling", "said without it, but the plan has it")]
    assert account("500 portraits, nobody smiling", parse_offline("500 portraits")).ok


def test_none_before_a_worn_level_says_without_it() -> None:
    from agent.language.parse import parse_spec
    from tests.agent.language.test_reader_corpus import factor_problems

    spec = parse_spec("800 pics of women, none in sunglasses", offline=True)
    assert factor_problems(spec, "eyewear", ["none"]) == []


@pytest.mark.parametrize(("text", "bound"), [
    ("1000 faces, at least 40% women", "'at least 40%' - a bound"),
    ("1000 faces, no more than 20% with hats", "'no more than 20%' - a bound"),
    ("1000 faces at minimum, half of them women", "'minimum'"),
])
def test_a_bound_is_asked_about_not_planned_as_an_exact_share(text: str, bound: str) -> None:
    with pytest.raises(SpecError) as err:
        parse_spec(text, offline=True)
    assert bound in str(err.value)


def test_a_bound_on_faces_per_image_is_no_question() -> None:
    text = "500 images with up to 3 faces per image"
    assert account(text, parse_offline(text)).ok


def test_a_count_per_combination_is_never_the_total() -> None:
    gender = {"name": "gender", "levels": [{"name": "female"}, {"name": "male"}]}
    spec = _spec({"face": 100}, factors=[gender])
    acc = account("100 faces for every combination of gender", spec)
    assert [u.words for u in acc.unexplained] == ["100"]


def test_a_count_for_every_combination_of_factors_plans_each_combination() -> None:
    spec = parse_offline("100 faces for every combination of gender and ethnicity")
    assert spec.total == 1000
