"""What the offline reader's draft makes of the numbers and names it read
(agent.language.reader.draft): a split part said without a unit, class names that are a group
of levels."""

from __future__ import annotations

import pytest

from agent.language.reader import parse_offline
from agent.language.spec import SpecError


def test_a_held_out_count_said_without_a_unit_is_asked_about_not_read_as_a_percentage() -> None:
    with pytest.raises(SpecError, match="images or percent"):
        parse_offline("make 2000 images, hold out 50 for testing")


@pytest.mark.parametrize(("text", "test_share"), [
    ("make 2000 images, hold out 50 images for testing", 0.025),
    ("make 2000 images, hold out 5% for testing", 0.05),
    ("make 2000 images, hold out 500 for testing", 0.25),
])
def test_a_held_out_part_with_its_unit_or_above_100_is_planned(text: str, test_share: float):
    assert parse_offline(text).splits.test == pytest.approx(test_share)


def test_a_class_named_adults_draws_only_adult_age_groups() -> None:
    spec = parse_offline("two classes, adults and kids, 300 each")
    kids = next(c for c in spec.classes if c.name == "kids")
    assert kids.attributes == {"age_group": "child"}
    ages = spec.factor("age_group").targets()
    assert ages["child"] == 0 and ages.get("teenager", 0) == 0
    assert sum(ages.values()) == pytest.approx(1)


def test_adults_said_in_a_list_of_age_groups_with_children_is_asked_about() -> None:
    with pytest.raises(SpecError, match="'adults' beside child"):
        parse_offline("1200 faces of children, adults and seniors")
