"""DatasetSpec: what a valid request looks like, and the one-line errors for invalid ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from agent.language.factors import NumericRange
from agent.language.spec import DatasetSpec, SpecError, schema_json, slugify

ROOT = Path(__file__).resolve().parents[3]


def spec(**fields) -> DatasetSpec:
    data = {"classes": [{"name": "face", "quota": 10}], **fields}
    return DatasetSpec.from_data(data)


def eyewear(*levels) -> dict:
    return {
        "name": "eyewear",
        "levels": [dict(zip(("name", "proportion"), lv, strict=False)) for lv in levels],
    }


def test_open_levels_share_what_the_given_proportions_leave():
    s = spec(factors=[eyewear(("glasses", 0.2), ("none",), ("sunglasses",))])
    assert s.factors[0].targets() == pytest.approx({"glasses": 0.2, "none": 0.4, "sunglasses": 0.4})


@pytest.mark.parametrize(
    ("factor", "message"),
    [
        (eyewear(("glasses", 0.7), ("sunglasses", 0.5)), "add up to 120% (over 100%)"),
        (eyewear(("glasses", 0.3), ("sunglasses", 0.5)), "add up to 80%, not 100%"),
        (eyewear(("glasses", 1.0), ("none",)), "leave nothing for none"),
        (eyewear(("glasses",), ("glasses",)), "repeats a level"),
        (eyewear(("monocle",), ("none",)), "unknown level(s) monocle"),
        ({"name": "Skin Tone", "levels": [{"name": "a"}]}, "lowercase letters"),
        ({"name": "mood", "levels": []}, "has no levels"),
        (
            {"name": "mood", "balanced": True, "levels": [{"name": "a", "proportion": 0.5}]},
            "balanced but also gives proportions",
        ),
    ],
)
def test_bad_factors_fail_with_one_line_naming_the_factor(factor, message):
    with pytest.raises(SpecError) as err:
        spec(factors=[factor])
    text = str(err.value)
    assert message in text and "\n" not in text and text.startswith("spec: factors.0")


def test_numeric_ranges_become_named_buckets_and_imply_the_age_group():
    s = spec(factors=[{"name": "age", "numeric": {"low": 4, "high": 12}}])
    age = s.factors[0]
    assert age.level_names() == ["4-6", "7-9", "10-12"]
    assert age.derived() == {lv: {"age_group": "child"} for lv in age.level_names()}
    split = NumericRange(low=10, high=30, edges=[10, 15, 20, 30])
    assert split.level_names() == ["10-14", "15-19", "20-30"]
    assert NumericRange(low=0, high=1, bins=4).level_names() == [
        "0-0.25",
        "0.25-0.5",
        "0.5-0.75",
        "0.75-1",
    ]


def test_age_range_and_class_age_group_must_agree():
    teen_and_child = [{"name": "age", "numeric": {"low": 10, "high": 18, "edges": [10, 15, 18]}}]
    with pytest.raises(SpecError, match="fixes age_group=child, but the age range gives child"):
        DatasetSpec.from_data(
            {
                "classes": [{"name": "kid", "quota": 4, "attributes": {"age_group": "child"}}],
                "factors": teen_and_child,
            }
        )
    with pytest.raises(SpecError, match="either a numeric age range or age groups"):
        spec(
            factors=[
                {"name": "age", "numeric": {"low": 20, "high": 60}},
                {"name": "age_group", "balanced": True, "levels": [{"name": "elderly"}]},
            ]
        )


def test_class_names_keep_their_label_and_get_a_safe_slug():
    s = DatasetSpec.from_data({"classes": [{"name": "South Asian/Indian", "quota": 5}]})
    assert s.classes[0].name == "South Asian/Indian"
    assert s.classes[0].slug == "south_asian_indian"
    assert slugify("../../etc/passwd") == "etc_passwd" and slugify("***") == "class"
    with pytest.raises(SpecError, match="collide once made directory-safe"):
        DatasetSpec.from_data(
            {"classes": [{"name": "a/b", "quota": 1}, {"name": "a b", "quota": 1}]}
        )
    with pytest.raises(SpecError, match="control characters"):
        DatasetSpec.from_data({"classes": [{"name": "a\x07", "quota": 1}]})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"classes": []}, "at least one class"),
        ({"classes": [{"name": "a", "quota": 0}]}, "greater than or equal to 1"),
        ({"classes": [{"name": "a", "quota": -4}]}, "greater than or equal to 1"),
        (
            {"classes": [{"name": f"c{i}", "quota": 4_000_000} for i in range(3)]},
            "12,000,000 images is over the limit of 10,000,000",
        ),
        ({"classes": [{"name": "a", "quota": 1}], "task": "segment"}, "'detect' or 'classify'"),
        ({"classes": [{"name": "a", "quota": 1}], "faces_per_image": [3, 1]}, "between 1 and 16"),
        ({"classes": [{"name": "a", "quota": 1}], "faces_per_image": 17}, "between 1 and 16"),
        ({"classes": [{"name": "a", "quota": 1}], "faces_per_image": [2, 20]},
         "between 1 and 16"),
        (
            {
                "classes": [{"name": "a", "quota": 1}],
                "splits": {"train": 0.9, "val": 0.2, "test": 0},
            },
            "add up to 1.1",
        ),
        (
            {
                "classes": [{"name": "a", "quota": 100}],
                "identities": {"count": 9, "images_per_identity": 10},
            },
            "9 identities x 10 images = 90, but the class quotas add up to 100",
        ),
        (
            {
                "classes": [{"name": "a", "quota": 15}, {"name": "b", "quota": 5}],
                "identities": {"count": 2, "images_per_identity": 10},
            },
            "quota 15 is not a multiple of 10",
        ),
        (
            {
                "classes": [{"name": "a", "quota": 10}],
                "factors": [
                    {
                        "name": "gender",
                        "scope": "identity",
                        "balanced": True,
                        "levels": [{"name": "female"}, {"name": "male"}],
                    }
                ],
            },
            "per identity, but the spec has no identities",
        ),
        (
            {
                "classes": [{"name": "a", "quota": 1}],
                "factors": [eyewear(("glasses", 0.5), ("none",))],
                "constraints": [{"when": {"eyes": "closed"}, "forbid": {"eyewear": ["glasses"]}}],
            },
            "names unknown eyes=closed",
        ),
        ({"classes": [{"name": "a", "quota": 1}], "surprise": 1}, "Extra inputs are not permitted"),
        ({"classes": [{"name": "a", "quota": 1}], "image_size": 40},
         "40 px is too small: the critic cannot judge faces in images under 48 px"),
    ],
)
def test_bad_specs_fail_with_one_line(data, message):
    with pytest.raises(SpecError) as err:
        DatasetSpec.from_data(data)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_yaml_round_trip_is_lossless_and_errors_name_the_line():
    s = spec(
        factors=[
            eyewear(("glasses", 0.2), ("none",)),
            {"name": "age", "numeric": {"low": 4, "high": 12}},
        ],
        constraints=[{"when": {"eyewear": "glasses"}, "forbid": {"age": ["4-6"]}}],
        identities=None,
        faces_per_image=[1, 3],
    )
    assert DatasetSpec.from_yaml(s.to_yaml()) == s
    with pytest.raises(SpecError, match=r"^spec: not valid YAML: line 2: found character"):
        DatasetSpec.from_yaml("classes:\n\t- {name: a, quota: 3}\n")


def test_the_executor_is_written_only_when_it_is_not_local():
    local = spec()
    assert "executor" not in local.to_yaml()  # spec.yaml reads as it did before Ray
    on_ray = local.model_copy(update={"executor": "ray"})
    assert "executor: ray" in on_ray.to_yaml()
    assert DatasetSpec.from_yaml(on_ray.to_yaml()).executor == "ray"
    with pytest.raises(SpecError, match="executor"):
        DatasetSpec.from_yaml(on_ray.to_yaml().replace("executor: ray", "executor: spark"))


def test_schema_json_is_up_to_date():
    """Regenerate with `.venv/bin/python -m agent.language.spec specs/schema.json`."""
    assert (ROOT / "specs" / "schema.json").read_text(encoding="utf-8") == schema_json()


def test_the_most_faces_a_spec_allows_are_what_the_renderer_draws(tmp_path) -> None:
    """One limit: a plan that passes the spec never fails later in `build` (17-20 faces once
    passed `plan` and `approve`, then the renderer refused them)."""
    from tools.config import MAX_FACES_PER_IMAGE
    from tools.contracts import PlanItem
    from tools.generate.procedural import ProceduralGenerator

    spec = DatasetSpec.model_validate({"classes": [{"name": "a", "quota": 1}],
                                       "faces_per_image": MAX_FACES_PER_IMAGE})
    item = PlanItem(id="i0", **{"class": "a"}, seed=1, faces=spec.faces_range()[1])
    image = ProceduralGenerator(image_size=256).generate([item], tmp_path)[0]
    assert len(image.truth.faces) == MAX_FACES_PER_IMAGE
    with pytest.raises(ValidationError, match=f"between 1 and {MAX_FACES_PER_IMAGE}"):
        DatasetSpec.model_validate({"classes": [{"name": "a", "quota": 1}],
                                    "faces_per_image": MAX_FACES_PER_IMAGE + 1})
