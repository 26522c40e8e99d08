"""Candidate readings: where the first reading leaves words unexplained, other readings of the
same words are tried and kept only if they explain every number and word
(agent.language.candidates)."""

from __future__ import annotations

import pytest

from agent.language.accounting import Question
from agent.language.candidates import read_offline
from agent.language.parse import parse_spec


@pytest.mark.parametrize(
    "text",
    [
        "classes: calm | surprised | scared, 250 images per class",
        "calm vs. surprised vs. scared -- 250 pics per category",
    ],
)
def test_a_list_in_another_shape_is_read_as_the_class_list(text: str) -> None:
    spec = read_offline(text)
    assert {c.name: c.quota for c in spec.classes} == {"calm": 250, "surprised": 250, "scared": 250}


def test_no_reading_explains_a_product_so_the_first_question_stands() -> None:
    with pytest.raises(Question, match="'300 faces x 3' - the plan has no count"):
        read_offline("300 faces x 3 lighting conditions (front, left, right)")


def test_a_request_the_first_reading_explains_is_planned_as_read() -> None:
    assert read_offline("900 faces, 30% wear glasses").total == 900


def test_names_said_as_the_classes_are_read_as_the_class_list() -> None:
    spec = parse_spec("Female and male as classes. 2,400 images in all, split evenly.",
                      offline=True)
    assert [(c.name.lower(), c.quota) for c in spec.classes] == [("female", 1200), ("male", 1200)]


def test_a_hyphenated_three_part_split_is_read_as_train_val_test() -> None:
    spec = parse_spec("1.5k faces, 3 classes (bald/short/long), equal, 80-10-10 split.",
                      offline=True)
    assert (spec.splits.train, spec.splits.val, spec.splits.test) == (0.8, 0.1, 0.1)
    assert [c.quota for c in spec.classes] == [500, 500, 500]
