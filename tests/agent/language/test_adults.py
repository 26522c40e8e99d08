"""Levels drawn on adults only (factors.yaml `adult: true`) against a spec's minors: refused
where every person of a class is a minor, a planned constraint where ages are mixed."""

from __future__ import annotations

import pytest

from agent.language.spec import DatasetSpec, SpecError

AGES = {"name": "age_group", "balanced": True,
        "levels": [{"name": "child"}, {"name": "young_adult"}, {"name": "old"}]}


def spec(classes: list[dict], *factors: dict) -> DatasetSpec:
    return DatasetSpec.from_data({"name": "t", "classes": classes, "factors": list(factors)})


def test_a_class_of_children_that_fixes_a_beard_is_refused_in_one_line():
    with pytest.raises(SpecError, match="never draws facial hair on minors") as err:
        spec([{"name": "kids", "quota": 10,
               "attributes": {"age_group": "child", "facial_hair": "beard"}}])
    assert "\n" not in str(err.value) and "class 'kids'" in str(err.value)


def test_a_clean_shaven_class_of_children_is_fine_and_adds_no_rule():
    s = spec([{"name": "kids", "quota": 10,
               "attributes": {"age_group": "child", "facial_hair": "none"}}])
    assert s.rules() == []


def test_mixed_ages_with_beards_get_the_vocabularys_rule_but_spec_yaml_does_not():
    s = spec([{"name": "face", "quota": 30}], AGES,
             {"name": "facial_hair", "levels": [{"name": "beard", "proportion": 0.3},
                                               {"name": "none"}]})
    [rule] = s.rules()
    assert rule.describe() == "when age_group=child, not facial_hair=beard"
    assert s.constraints == [] and "constraints: []" in s.to_yaml()


def test_a_numeric_age_range_that_reaches_minors_cannot_carry_a_moustache():
    ages = {"name": "age", "numeric": {"low": 10, "high": 60, "bins": 5}}
    with pytest.raises(SpecError, match="age range reaches minors"):
        spec([{"name": "m", "quota": 50, "attributes": {"facial_hair": "moustache"}}], ages)
