"""The facts about a build that the dataset card and the report both show are declared once."""

from __future__ import annotations

from tools.outputs.contracts import BuildFacts, ExportInfo, ReportInputs


def test_a_field_both_the_export_and_the_report_take_is_a_build_fact() -> None:
    """Declared twice, the two drifted apart: add such a field to BuildFacts."""
    shared = set(ExportInfo.model_fields) & set(ReportInputs.model_fields)
    assert shared == set(BuildFacts.model_fields)


def test_the_report_is_given_the_facts_the_export_was_given() -> None:
    info = ExportInfo(
        name="kids", class_names=["a", "b"], spec_text="200 faces", task="classify",
        class_targets={"a": 100, "b": 100}, generator="procedural", thresholds={"blur": 0.4},
    )
    report = ReportInputs(**info.facts(), title="facetory: kids")
    assert {k: getattr(report, k) for k in BuildFacts.model_fields} == info.facts()
    assert "name" not in info.facts() and "class_names" not in info.facts()
