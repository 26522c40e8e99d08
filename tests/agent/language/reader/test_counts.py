"""How the offline reader reads counts (agent.language.reader.counts)."""

from __future__ import annotations

import pytest

from agent.language.parse import parse_spec
from agent.language.reader import parse_offline
from agent.language.spec import SpecError


def test_a_count_after_x_at_the_end_is_how_many_images_of_what_was_described() -> None:
    spec = parse_offline("faces of middle aged women with long hair x 350")
    assert spec.total == 350
    assert spec.factor("gender").targets() == {"female": 1.0}


def test_a_heading_is_the_dataset_name_but_its_words_are_checked_like_any_other() -> None:
    assert parse_spec("Face dataset: 300 faces", offline=True).name == "Face dataset"
    with pytest.raises(SpecError, match="'blurry' - not in the plan"):
        parse_spec("Blurry faces: 300 faces", offline=True)


def test_a_request_naming_several_unknown_tasks_is_refused_naming_each() -> None:
    with pytest.raises(SpecError, match="'face parsing', 'segmentation'"):
        parse_offline("800 images for face parsing with semantic segmentation labels")


@pytest.mark.parametrize(("text", "total"), [
    ("Women with glasses.\n1200.", 1200),
    ("Smiling women outdoors. 400.", 400),
    ("1200. Women with glasses.", 1200),
])
def test_a_number_that_is_a_sentence_of_its_own_is_the_total(text: str, total: int) -> None:
    assert parse_spec(text, offline=True).total == total


def test_a_numbered_list_item_is_no_total() -> None:
    assert parse_spec("1. women with glasses\n2. 300 faces", offline=True).total == 300


@pytest.mark.parametrize("text", ["1000 faces; split 80/10/10 train val test",
                                  "1000 faces, 80/10/10 train, val and test"])
def test_split_names_said_with_spaces_after_the_numbers_name_the_parts(text: str) -> None:
    s = parse_spec(text, offline=True).splits
    assert (s.train, s.val, s.test) == (0.8, 0.1, 0.1)


def test_a_split_of_numbers_and_names_that_adds_up_to_more_than_100_is_refused() -> None:
    with pytest.raises(SpecError, match="adds up to 110"):
        parse_spec("500 faces, 80/10/20 train val test", offline=True)


def test_people_named_by_a_level_word_with_photos_of_each_are_the_identities() -> None:
    spec = parse_spec("100 adults, 20 photos of each", offline=True)
    assert (spec.identities.count, spec.identities.images_per_identity) == (100, 20)
    assert "child" not in spec.factor("age_group").targets()
    women = parse_spec("50 women, 10 pictures of each", offline=True)
    assert (women.total, women.factor("gender").targets()) == (500, {"female": 1.0})


def test_people_times_photos_that_contradict_the_total_are_refused_naming_both() -> None:
    with pytest.raises(SpecError, match="100 people x 20 images = 2000, but the request says 1000"):
        parse_spec("1000 faces, 100 adults, 20 photos of each", offline=True)


def test_split_parts_named_before_a_colon_ratio_are_the_split() -> None:
    s = parse_spec("2000 images, train and val 85:15, no test split", offline=True).splits
    assert (s.train, s.val, s.test) == (0.85, 0.15, 0.0)


def test_a_colon_ratio_with_no_split_part_named_is_never_a_split() -> None:
    spec = parse_spec("900 faces 1:1:1 happy, sad, angry classes", offline=True)
    assert {c.name: c.quota for c in spec.classes} == {"happy": 300, "sad": 300, "angry": 300}
    assert spec.splits.test == pytest.approx(0.1)  # the default, not a third


def test_split_parts_said_in_images_leave_the_rest_to_the_part_said_with_everything_else() -> None:
    text = "1200 faces; test set of 200, validation set of 100, everything else for training"
    s = parse_spec(text, offline=True).splits
    assert (round(s.train * 1200), round(s.val * 1200), round(s.test * 1200)) == (900, 100, 200)


def test_photos_for_each_class_after_a_level_count_are_not_read_as_photos_per_person() -> None:
    with pytest.raises(SpecError):
        parse_spec("300 men, 10 photos for each class", offline=True)


def test_the_rest_split_evenly_between_two_parts_gives_each_half_of_what_is_left() -> None:
    s = parse_spec("1000 faces, 80% train, rest split evenly between val and test",
                   offline=True).splits
    assert (s.train, s.val, s.test) == pytest.approx((0.8, 0.1, 0.1))


def test_split_parts_said_as_a_colon_ratio_are_proportions_whatever_they_add_up_to() -> None:
    s = parse_spec("5000 faces, train/val/test = 8:1:1", offline=True).splits
    assert (s.train, s.val, s.test) == pytest.approx((0.8, 0.1, 0.1))


@pytest.mark.parametrize("text", ["300 faces, batch size 64", "300 faces, batch_size 64",
                                  "300 faces, batch-size 64"])
def test_a_batch_size_is_never_read_as_the_image_size(text: str) -> None:
    spec = parse_offline(text)
    assert spec.budget.batch_size == 64
    assert spec.image_size == parse_offline("300 faces").image_size
