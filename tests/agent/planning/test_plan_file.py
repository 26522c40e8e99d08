"""plan.yaml: written for people, read back exactly, edits validated (errors name the line),
reviewed (rebalanced, diffed) and approved (an edit after approval withdraws it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from agent.language.spec import DatasetSpec, SpecError
from agent.planning import plan_file, plan_review
from agent.planning.approval import approval_problem, approve, is_approved
from agent.planning.plan_file import read_plan, read_spec, write_plan, write_spec
from agent.planning.plan_review import review_plan
from agent.planning.planner import make_plan


def small_spec(**extra) -> DatasetSpec:
    return DatasetSpec.from_data(
        {
            "name": "tiny",
            "classes": [
                {"name": "glasses", "quota": 20, "attributes": {"eyewear": "glasses"}},
                {"name": "none", "quota": 20, "attributes": {"eyewear": "none"}},
            ],
            "factors": [
                {
                    "name": "gender",
                    "balanced": True,
                    "levels": [{"name": "female"}, {"name": "male"}],
                },
                {
                    "name": "expression",
                    "levels": [{"name": "smile", "proportion": 0.5}, {"name": "neutral"}],
                },
            ],
            "seed": 5,
            **extra,
        }
    )


@pytest.fixture()
def build(tmp_path: Path) -> Path:
    spec = small_spec()
    write_spec(spec, tmp_path / "spec.yaml")
    write_plan(make_plan(spec), tmp_path / "plan.yaml")
    return tmp_path


def edit(build: Path, old: str, new: str, count: int = 1) -> None:
    path = build / "plan.yaml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, count))


def line_of_item(build: Path, item_id: str) -> int:
    lines = (build / "plan.yaml").read_text().splitlines()
    return next(i + 1 for i, ln in enumerate(lines) if ln.startswith(f"- {{id: {item_id},"))


def test_plan_yaml_has_summary_first_then_spec_then_one_line_per_item(build):
    text = (build / "plan.yaml").read_text()
    order = [text.index(k) for k in ("\nsummary:", "\nspec:", "\nitems:")]
    assert order == sorted(order)
    data = yaml.safe_load(text)
    assert data["summary"]["classes"] == {"glasses": 20, "none": 20}
    assert data["summary"]["per_class"]["none"]["gender"] == {"female": 10, "male": 10}
    first = data["items"][0]
    assert set(first) >= {"id", "class", "attributes", "identity", "split", "seed", "prompt"}
    assert len(text.split("\nitems:\n")[1].splitlines()) == 40


def test_reading_back_gives_the_same_plan(build):
    plan = read_plan(build / "plan.yaml")
    assert list(plan.items) == list(make_plan(small_spec()).items)
    assert read_spec(build / "spec.yaml") == plan.spec


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("gender: female", "gender: fmale", "gender=fmale is not a level of gender (female, male)"),
        ("eyewear: glasses}", "eyewear: sunglasses}", "class 'glasses' fixes eyewear=glasses"),
        ("split: train", "split: holdout", "split: Input should be 'train', 'val' or 'test'"),
        ("class: glasses", "class: monocles", "class 'monocles' is not in the spec"),
        ("faces: 1,", "faces: 3,", "faces 3 is outside 1..1"),
        ("split: train,", "split: train, colour: red,", "unknown field 'colour'"),
        ("gender: female, ", "", "attributes is missing gender"),
        ("lighting: ", "lighting: dim_", "variation lighting=dim_"),
        ("variation: {", "variation: {hat: hat, ", "variation hat=hat: a level of a factor the"),
    ],
)
def test_a_malformed_item_edit_names_its_line_and_field(build, old, new, message):
    target = next(
        ln for ln in (build / "plan.yaml").read_text().splitlines()
        if ln.startswith("- {id: glasses-") and old in ln
    )  # fmt: skip
    item_id = re.match(r"- \{id: ([\w-]+)", target).group(1)
    line = line_of_item(build, item_id)
    edit(build, target, target.replace(old, new, 1))
    with pytest.raises(SpecError) as err:
        read_plan(build / "plan.yaml")
    assert f"line {line}: items[" in str(err.value) and message in str(err.value)


def test_yaml_syntax_errors_and_bad_spec_fields_name_the_line(build):
    text = (build / "plan.yaml").read_text()
    lines = text.splitlines(keepends=True)
    quota = next(i for i, ln in enumerate(lines) if ln.strip() == "quota: 20")
    lines[quota] = lines[quota].replace("20", "-3")
    (build / "plan.yaml").write_text("".join(lines))
    with pytest.raises(SpecError, match=rf"line {quota + 1}: spec\.classes\.0\.quota"):
        read_plan(build / "plan.yaml")
    lines[quota] = "  quota: [20\n"
    (build / "plan.yaml").write_text("".join(lines))
    with pytest.raises(SpecError, match=r"not valid YAML: line \d+"):
        read_plan(build / "plan.yaml")


def test_duplicate_ids_name_both_lines(build):
    lines = (build / "plan.yaml").read_text().splitlines(keepends=True)
    first = line_of_item(build, "glasses-000001")
    second = line_of_item(build, "glasses-000002")
    lines[second - 1] = lines[second - 1].replace("glasses-000002", "glasses-000001")
    (build / "plan.yaml").write_text("".join(lines))
    with pytest.raises(SpecError, match=rf"line {second}: .*repeats line {first}"):
        read_plan(build / "plan.yaml")


def test_reviewing_a_quota_edit_rebalances_the_whole_plan(build):
    assert not review_plan(build).changed
    edit(build, "  quota: 20\n", "  quota: 30\n")
    result = review_plan(build)
    assert result.kind == "spec"
    assert "spec.classes[glasses].quota: 20 -> 30" in result.changes
    assert "class glasses: 20 -> 30 images" in result.changes
    plan = read_plan(build / "plan.yaml")
    assert plan.summary()["per_class"]["glasses"]["gender"] == {"female": 15, "male": 15}
    assert read_spec(build / "spec.yaml").classes[0].quota == 30
    assert not review_plan(build).changed


def test_reviewing_an_unedited_plan_reads_its_yaml_once_and_an_edited_one_twice(
        build, monkeypatch):
    loads: list[str] = []
    real = plan_file.load_yaml

    def counted(text: str, where: str) -> dict:
        loads.append(where)
        return real(text, where)

    monkeypatch.setattr(plan_review, "load_yaml", counted)  # the edit's
    monkeypatch.setattr(plan_file, "load_yaml", counted)  # the base's (parse_plan)
    assert not review_plan(build, commit=False).changed
    assert len(loads) == 1  # the base is the same text: its YAML is not read again
    edit(build, "  quota: 20\n", "  quota: 30\n")
    loads.clear()
    assert review_plan(build, commit=False).changed
    assert len(loads) == 2  # the edit and its base, each read


def test_reviewing_item_edits_keeps_them_and_updates_quotas_and_prompts(build):
    target = next(
        ln for ln in (build / "plan.yaml").read_text().splitlines()
        if ln.startswith("- {id: none-") and "expression: neutral" in ln
    )  # fmt: skip
    old_prompt = re.search(r'prompt: "([^"]*)"', target).group(1)
    edit(build, target, target.replace("expression: neutral", "expression: smile"))
    deleted = next(
        ln for ln in (build / "plan.yaml").read_text().splitlines() if "glasses-000003" in ln
    )
    edit(build, deleted + "\n", "")
    result = review_plan(build)
    assert result.kind == "items"
    assert "class glasses: 20 -> 19 images" in result.changes
    assert any("none / expression=smile: 10 -> 11" in c for c in result.changes)
    assert any("off target" in w or "smile" in w for w in result.warnings)
    item_id = re.match(r"- \{id: ([\w-]+)", target).group(1)
    item = next(it for it in read_plan(build / "plan.yaml").items if it.id == item_id)
    assert item.attributes["expression"] == "smile" and item.prompt != old_prompt
    assert "smiling" in item.prompt
    assert read_spec(build / "spec.yaml").classes[0].quota == 19


def test_editing_spec_and_items_at_once_is_refused(build):
    edit(build, "  quota: 20\n", "  quota: 30\n")
    edit(build, "gender: female", "gender: male")
    with pytest.raises(SpecError, match="both spec and items were edited"):
        review_plan(build)


def test_editing_the_computed_summary_is_an_error_naming_it(build):
    edit(build, "classes: {glasses: 20, none: 20}", "classes: {glasses: 25, none: 20}")
    with pytest.raises(SpecError, match=r"line \d+: summary\.classes\.glasses was edited"):
        review_plan(build)


def test_approval_is_recorded_and_withdrawn_by_a_later_edit(build):
    assert not is_approved(build)
    record = approve(build)
    assert record["items"] == 40 and is_approved(build)
    edit(build, "gender: female", "gender: male")
    assert not is_approved(build)
    with pytest.raises(SpecError, match="edited since it was last reviewed"):
        approve(build)
    review_plan(build)
    assert not is_approved(build)
    approve(build)
    assert is_approved(build)


def edit_spec_yaml(build: Path, old: str, new: str) -> None:
    path = build / "spec.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_approval_covers_spec_yaml_too(build):
    """A changed image size in spec.yaml changes every image: it withdraws the approval."""
    approve(build)
    edit_spec_yaml(build, "image_size: 256", "image_size: 96")
    assert not is_approved(build)
    assert "not approved as it is now: spec.yaml changed after approval" in approval_problem(build)
    assert "facetory review" in approval_problem(build)
    with pytest.raises(SpecError, match="edited since it was last reviewed"):
        approve(build)


def test_review_takes_an_edit_of_spec_yaml_into_the_plan(build):
    edit_spec_yaml(build, "image_size: 256", "image_size: 96")
    result = review_plan(build)
    assert result.changed and "spec.image_size: 256 -> 96" in result.changes
    assert read_plan(build / "plan.yaml").spec.image_size == 96
    assert read_spec(build / "spec.yaml").image_size == 96
    approve(build)
    assert is_approved(build) and approval_problem(build) is None


def test_spec_yaml_and_the_spec_block_edited_differently_is_refused(build):
    edit_spec_yaml(build, "image_size: 256", "image_size: 96")
    edit(build, "  image_size: 256\n", "  image_size: 128\n")
    with pytest.raises(SpecError, match="both its spec: block and .*spec.yaml were edited"):
        review_plan(build)


def test_review_refuses_an_unsafe_item_prompt_naming_its_line(build):
    edit(build, 'prompt: "', 'prompt: "a bruised, bleeding child, ')
    with pytest.raises(SpecError, match=r"plan.yaml line \d+: items\[0\] \(\S+\): refused: .*"
                                        r"bruised, bleeding"):
        review_plan(build)
