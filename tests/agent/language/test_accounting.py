"""Every number and vocabulary word of a request is explained by the spec, or the person is asked
(agent.language.accounting)."""

from __future__ import annotations

import pytest

from agent.language.accounting import Question, account
from agent.language.parse import parse_spec
from agent.language.reader import parse_offline
from agent.language.spec import DatasetSpec


def _spec(classes: dict[str, int], **extra: object) -> DatasetSpec:
    data = {"classes": [{"name": n, "quota": q} for n, q in classes.items()], **extra}
    return DatasetSpec.from_data(data, where="test")


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
    assert account(text, _spec({"smiling": 800, "neutral": 200})).ok
    assert not account(text, _spec({"smiling": 500, "neutral": 500})).ok


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
