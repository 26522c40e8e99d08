"""The report's audit: faithfulness by group, estimated ages per planned group, asked vs seen."""

from __future__ import annotations

import pytest

from tools.contracts import ManifestRecord, Status
from tools.outputs import report_audit as audit
from tools.outputs.contracts import ReportInputs
from tools.outputs.report import build_view, render_report


def record(i: int, *, status: Status = Status.accepted, identity: str | None = None,
           verified: dict | None = None, measured: dict | None = None, age: float | None = None,
           **attributes: str) -> ManifestRecord:
    return ManifestRecord(
        image_id=f"r{i}", item_id=f"i{i}", class_name="face", attributes=attributes,
        identity=identity, status=status, verified=verified or {}, measured=measured or {},
        estimates={} if age is None else {"age_years": age},
    )


def gender_drift() -> list[ManifestRecord]:
    """Gender is verified on every light-skinned face and on half of the dark-skinned ones."""
    out = []
    for i in range(10):
        out.append(record(i, skin_tone="monk_2", gender="female", verified={"gender": True}))
        out.append(record(100 + i, skin_tone="monk_9", gender="female",
                          verified={"gender": i % 2 == 0}))
    return out


def test_faithfulness_names_the_group_the_generator_drifts_on():
    (row,) = audit.faithfulness(gender_drift())
    assert row["factor"] == "gender" and row["judged"] == 20 and row["verified"] == 0.75
    assert row["widest"] == {"group": "skin_tone", "gap": 0.5, "best": "monk_2", "best_rate": 1.0,
                             "worst": "monk_9", "worst_rate": 0.5}
    assert row["groups"]["skin_tone"] == [("monk_2", 1.0, 10), ("monk_9", 0.5, 10)]


def test_a_group_with_too_few_judged_images_is_shown_but_not_compared():
    records = [r for r in gender_drift() if r.attributes["skin_tone"] == "monk_2"]
    records += [r for r in gender_drift() if r.attributes["skin_tone"] == "monk_9"][:4]
    (row,) = audit.faithfulness(records)
    assert [level for level, _, _ in row["groups"]["skin_tone"]] == ["monk_2", "monk_9"]
    assert row["widest"] is None


def test_estimated_ages_are_summarised_per_planned_age_group_in_order():
    records = [record(i, age_group="old", age=70.0 + i) for i in range(4)]
    records += [record(10 + i, age_group="child", age=8.0 + 10 * i) for i in range(3)]
    records.append(record(20, status=Status.pending, age_group="child", age=50.0))
    ages = audit.age_estimates(records)
    assert list(ages) == ["child", "old"] and ages["child"] == [8.0, 18.0, 28.0]
    child, old = audit.age_summary(ages)
    assert child["median"] == 18.0 and child["inside"] == pytest.approx(1 / 3)
    assert old["inside"] == 1.0 and old["years"] == (65, 120)


def test_each_persons_estimated_age_should_rise_with_the_planned_group():
    records = [
        record(1, identity="p1", age_group="child", age=10.0),
        record(2, identity="p1", age_group="young_adult", age=33.0),
        record(3, identity="p1", age_group="old", age=70.0),
        record(4, identity="p2", age_group="child", age=40.0),
        record(5, identity="p2", age_group="old", age=30.0),
        record(6, identity="p3", age_group="child", age=9.0),  # one group: not counted
    ]
    assert audit.ages_rise(records) == {"people": 2, "rising": 0.5, "steps_up": 2 / 3}
    assert audit.ages_rise([record(1, age_group="child", age=9.0)]) is None


def test_asked_versus_seen_is_a_total_variation_distance_over_accepted_images():
    records = [record(i, measured={"gender": "female"}) for i in range(3)]
    records.append(record(3, measured={"gender": "male"}))
    records.append(record(4, status=Status.rejected, measured={"gender": "male"}))
    (row,) = audit.asked_vs_seen(records, {"gender": {"female": 0.5, "male": 0.5},
                                           "hat": {"none": 1.0}})
    assert row["factor"] == "gender" and row["seen_n"] == 4
    assert row["tvd"] == pytest.approx(0.25)
    assert row["rows"] == [("female", 0.5, 0.75), ("male", 0.5, 0.25)]


def test_the_report_shows_the_audit_with_its_age_chart():
    records = gender_drift()
    for i, r in enumerate(records):
        r.attributes["age_group"] = "old" if i % 2 else "child"
        r.estimates = {"age_years": 70.0 if i % 2 else 12.0}
        r.measured = {"gender": "female"}
    inputs = ReportInputs(records=records, class_targets={"face": 20},
                          cell_targets={"face": {"gender": {"female": 20}}})
    view = build_view(inputs)
    assert view["audit"]["widest"]["factor"] == "gender"
    html = render_report(inputs)
    assert "Widest faithfulness gap" in html and "estimated age per planned age group" in html
    assert "Asked for versus seen" in html


def test_a_build_without_readings_has_no_audit_section():
    html = render_report(ReportInputs(records=[record(1, gender="female")]))
    assert "What the critic&#39;s models see" not in html and "What the critic's models see" \
        not in html


def test_an_attribute_by_its_own_levels_is_shown_but_is_no_gap_between_groups():
    records = [record(i, age_group="child", verified={"age_group": False}) for i in range(6)]
    records += [record(10 + i, age_group="old", verified={"age_group": True}) for i in range(6)]
    (row,) = audit.faithfulness(records)
    assert row["groups"]["age_group"] == [("child", 0.0, 6), ("old", 1.0, 6)]
    assert row["widest"] is None
