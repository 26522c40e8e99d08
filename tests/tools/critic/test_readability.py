"""Where `demographic_checks: auto` rejects: the model's measured readability per age group."""

from __future__ import annotations

from pathlib import Path

from tools.critic import readability
from tools.vocabulary import AGE_GROUP_YEARS


def measured(**backends: readability.Readability) -> readability.ReadabilityTable:
    return readability.ReadabilityTable(
        command="bench", bar={"age_group": 0.7, "gender": 0.9}, backends=backends)


def shares(age: dict[str, float], gender: dict[str, float]) -> readability.Readability:
    return readability.Readability(renders=30, age_group=age, gender=gender)


def test_a_check_is_enforced_on_the_age_groups_whose_readability_meets_its_bar():
    table = measured(procedural=shares(
        age={"child": 0.0, "teenager": 0.9, "young_adult": 0.7, "old": 0.69},
        gender={"child": 0.6, "young_adult": 0.9, "old": 0.95}))
    groups = readability.enforced_groups("procedural", table)
    assert groups == {"age_group": {"teenager", "young_adult"}, "gender": {"young_adult", "old"}}


def test_a_backend_never_measured_is_enforced_on_no_age_group():
    groups = readability.enforced_groups("some_new_backend", measured())
    assert groups == {"age_group": frozenset(), "gender": frozenset()}


def test_the_shipped_table_measures_every_age_group_of_the_procedural_renderer():
    procedural = readability.table().backends["procedural"]
    assert set(procedural.age_group) == set(procedural.gender) == set(AGE_GROUP_YEARS)
    assert all(0.0 <= v <= 1.0 for v in [*procedural.age_group.values(),
                                         *procedural.gender.values()])


def test_recording_one_backends_figures_keeps_the_others(tmp_path: Path):
    path = tmp_path / "readability.yaml"
    path.write_text(readability.TABLE.read_text(encoding="utf-8"), encoding="utf-8")
    figures = shares(age={"child": 0.8}, gender={"child": 0.95})
    readability.write("other", figures, path)
    table = readability.load(path)
    assert table.backends["other"] == figures
    assert table.backends["procedural"] == readability.table().backends["procedural"]
    assert readability.enforced_groups("other", table)["age_group"] == {"child"}
