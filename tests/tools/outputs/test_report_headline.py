"""The report's first screen: independent checks against the plan, not labels against it."""

from __future__ import annotations

from tools.contracts import ManifestRecord, Requirement, Status
from tools.outputs.contracts import ReportInputs
from tools.outputs.detection_score import DetectionScore, RealFaceEvaluation
from tools.outputs.report import render_report
from tools.outputs.report_headline import check_agreement, headline


def _accepted(i: int, verified: dict[str, bool], **attrs: str) -> ManifestRecord:
    return ManifestRecord(image_id=f"im{i}", item_id=f"it{i}", class_name="faces",
                          attributes=attrs, status=Status.accepted, verified=verified)


def _build(n_wrong_age: int, n: int = 10) -> list[ManifestRecord]:
    return [
        _accepted(i, {"age_group": i >= n_wrong_age, "gender": True},
                  age_group="old", gender="male")
        for i in range(n)
    ]


def test_checks_count_what_an_independent_model_saw_on_accepted_images_only():
    records = _build(n_wrong_age=3) + [
        ManifestRecord(image_id="r", item_id="r", class_name="faces", status=Status.rejected,
                       attributes={"age_group": "old"}, verified={"age_group": False}),
        _accepted(99, {}, age_group="old", gender="male"),  # judged by nothing
    ]
    by_factor = {c.factor: c for c in check_agreement(records)}
    age = by_factor["age_group"]
    assert (age.accepted, age.judged, age.agree, age.contradict) == (11, 10, 7, 3)
    assert age.agreement == 0.7


def test_met_quotas_with_contradicting_images_are_not_complete_and_the_gap_is_said():
    top = headline(_build(n_wrong_age=3), [], quotas_met=True)
    assert not top.complete and top.contradicting_images == 3
    assert top.gaps[0].startswith("age group: the check sees 3 of 10")


def test_met_quotas_with_every_check_agreeing_are_complete():
    top = headline(_build(n_wrong_age=0), [], quotas_met=True)
    assert top.complete and top.gaps == []


def test_unchecked_requirements_and_shifted_distributions_are_named_as_gaps():
    seen = [{"factor": "age_group", "tvd": 0.4, "seen_n": 10,
             "rows": [("child", 0.5, 0.1), ("adult", 0.25, 0.45), ("old", 0.25, 0.45)]}]
    photo = Requirement(asked="photorealistic", drawn_by="nothing", checked_by="nothing",
                        flags=["not checked"])
    top = headline(_build(0), [photo], quotas_met=True, seen=seen)
    assert top.gaps == ["age group: asked 50% child, the independent models see 10% "
                        "(10 accepted images read)", "photorealistic: nothing checks it"]
    assert top.unchecked == ["photorealistic"]


def test_the_page_opens_with_the_measured_table_and_no_complete_when_checks_disagree():
    html = render_report(ReportInputs(class_targets={"faces": 10}, records=_build(4)))
    assert "Complete." not in html
    assert "Quotas met, but 4 accepted" in html
    first_screen = html[:html.index('id="plan"')]
    assert "What the independent checks saw, against what was asked" in first_screen
    assert "Largest gaps" in first_screen


def _score(detector: str, found: int, faces: int = 57) -> DetectionScore:
    return DetectionScore(detector=detector, images=32, faces=faces, conf=None,
                          recall=found / faces, precision=1.0, true_positives=found,
                          detections=found, mAP50=found / faces)


def test_a_detector_that_misses_real_faces_haar_finds_is_the_first_gap():
    real = RealFaceEvaluation(real_set="embedded-v1", real_set_path="x", weights="best.pt",
                              imgsz=160, model=_score("yolo", 1), haar=_score("haar", 50))
    top = headline(_build(n_wrong_age=3), [], quotas_met=True, real=real)
    assert top.gaps[0] == ("real faces: the detector trained on this dataset finds 1 of 57 "
                           "faces in real photographs (2%); OpenCV's Haar cascade finds 50 (88%)")
    level = real.model_copy(update={"model": _score("yolo", 50)})
    assert not any(g.startswith("real faces") for g in
                   headline(_build(0), [], quotas_met=True, real=level).gaps)
