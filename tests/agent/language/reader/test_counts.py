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
