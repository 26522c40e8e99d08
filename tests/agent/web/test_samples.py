"""Sample cells: every class and every factor level, constraints honoured, keys that change
when (and only when) the pixels would."""

from __future__ import annotations

from agent.language.spec import DatasetSpec
from agent.web.samples import sample_cells
from tests.agent.web.builds import SPEC


def test_there_is_a_sample_for_every_class_and_every_level() -> None:
    spec = DatasetSpec.from_data(SPEC)
    cells = sample_cells(spec)
    assert [(s.group, s.label) for s in cells] == [
        ("none", "none"), ("sunglasses", "sunglasses"),
        ("gender", "female"), ("gender", "male"),
        ("expression", "neutral"), ("expression", "smile"),
    ]
    assert cells[3].item.attributes["gender"] == "male"
    assert cells[1].item.attributes["eyewear"] == "sunglasses"


def test_a_sample_honours_the_constraints() -> None:
    data = {**SPEC, "constraints": [{"when": {"gender": "female"},
                                     "forbid": {"expression": ["smile"]}}]}
    cells = {(s.group, s.label): s.item for s in sample_cells(DatasetSpec.from_data(data))}
    assert cells[("expression", "smile")].attributes["gender"] == "male"
    assert cells[("gender", "female")].attributes["expression"] == "neutral"


def test_sample_keys_follow_what_the_pixels_depend_on() -> None:
    spec = DatasetSpec.from_data(SPEC)
    keys = [s.key for s in sample_cells(spec)]
    assert keys == [s.key for s in sample_cells(DatasetSpec.from_data(SPEC))]
    bigger = DatasetSpec.from_data({**SPEC, "image_size": 128})
    assert set(keys).isdisjoint(s.key for s in sample_cells(bigger))
    more = DatasetSpec.from_data({**SPEC, "classes": [{**c, "quota": 60}
                                                      for c in SPEC["classes"]]})
    assert keys == [s.key for s in sample_cells(more)]  # quotas do not change a picture
