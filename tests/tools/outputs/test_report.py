"""The report's figures (shortfalls, cells, group disparities, distributions, FNMR) and the
self-contained page they render to."""

from __future__ import annotations

import re

import pytest

from tests.tools.synthetic_records import CLASSES, SKIN, make_records
from tools.contracts import ManifestRecord, Status
from tools.outputs import report_charts as charts
from tools.outputs.contracts import IdentityScores, ReportInputs
from tools.outputs.detection_score import DetectionScore, Interval, RealFaceEvaluation
from tools.outputs.report import _duration, build_view, render_report, write_report
from tools.outputs.report_analysis import (
    cell_tables,
    class_rows,
    disparity,
    distributions,
    fnmr_at_fmr,
    group_stats,
    reason_matrix,
)


def _rec(i: int, cls: str, status: Status, reasons=(), **attrs) -> ManifestRecord:
    return ManifestRecord(image_id=f"{cls}-{i}", item_id=f"{cls}-{i}", class_name=cls,
                          attributes=attrs, status=status, reasons=list(reasons),
                          score=0.9 if status == Status.accepted else 0.2,
                          faithfulness=1.0 if status == Status.accepted else 0.5)


@pytest.fixture
def inputs(tmp_path) -> ReportInputs:
    records = make_records(tmp_path, per_class=6, size=64, multi_face_every=3)
    cells = {c: {"skin_tone": {s: 2 for s in SKIN}} for c in CLASSES}
    return ReportInputs(title="tiny", spec_text="18 faces <b>please</b>",
                        class_targets={"African": 6, "Asian": 8, "White": 6},
                        cell_targets=cells, records=records, base_dir=tmp_path)


def test_class_rows_explain_shortfalls_with_the_rejection_reasons(inputs):
    rows = {r.name: r for r in class_rows(inputs)}
    assert rows["African"].explanation == "met"
    asian = rows["Asian"]
    assert (asian.accepted, asian.shortfall, asian.rejected, asian.duplicate) == (6, 2, 3, 1)
    assert asian.explanation.startswith("2 short; 10 attempts, 60% accepted; mostly ")
    reasons = {x for r in inputs.records if r.class_name == "Asian" for x in r.reasons}
    assert len(asian.top_reasons) == 3 and {k for k, _ in asian.top_reasons} <= reasons
    assert all(f"{k} ({n})" in asian.explanation for k, n in asian.top_reasons)


def test_cell_tables_count_accepted_images_per_class_and_level(inputs):
    table = cell_tables(inputs)["skin_tone"]
    assert table["levels"] == SKIN
    accepted = [r for r in inputs.records if r.status == Status.accepted]
    for row in table["rows"]:
        for level, cell in zip(table["levels"], row["cells"], strict=True):
            expected = sum(r.class_name == row["name"] and r.attributes["skin_tone"] == level
                           for r in accepted)
            assert (cell["achieved"], cell["target"]) == (expected, 2)
    short = [s for s in table["short"] if s.startswith("Asian")] + table["short"]
    assert all(" — " in s for s in short)


def test_group_stats_and_disparity_show_who_is_rejected_more():
    records = (
        [_rec(i, "a", Status.accepted, skin_tone="monk_2") for i in range(9)]
        + [_rec(9, "a", Status.rejected, ["blurry"], skin_tone="monk_2")]
        + [_rec(10 + i, "a", Status.accepted, skin_tone="monk_9") for i in range(5)]
        + [_rec(20 + i, "a", Status.rejected, ["attribute_mismatch:skin_tone"],
                skin_tone="monk_9") for i in range(5)]
        + [_rec(30, "a", Status.pending, skin_tone="monk_9")]  # not judged yet: not counted
    )
    rows = {g.level: g for g in group_stats(records, "skin_tone")}
    assert (rows["monk_2"].attempts, rows["monk_2"].pass_rate) == (10, 0.9)
    assert (rows["monk_9"].attempts, rows["monk_9"].pass_rate) == (10, 0.5)
    assert rows["monk_9"].mismatch_rate == 0.5 and rows["monk_2"].mismatch_rate == 0.0
    assert rows["monk_9"].mean_faithfulness == pytest.approx(0.75)
    gap = disparity(list(rows.values()))
    assert gap["worst"] == "monk_9" and gap["best"] == "monk_2"
    assert gap["gap"] == pytest.approx(0.4)


def test_distributions_compare_asked_with_produced():
    records = [_rec(i, "a", Status.accepted, gender="female") for i in range(3)]
    records += [_rec(9, "a", Status.accepted, gender="male")]
    inputs = ReportInputs(class_targets={"a": 4},
                          cell_targets={"a": {"gender": {"female": 2, "male": 2}}},
                          records=records)
    by_factor = {d["factor"]: d for d in distributions(inputs)}
    assert by_factor["class"]["tvd"] == 0.0
    assert by_factor["gender"]["rows"] == [("female", 0.5, 0.75), ("male", 0.5, 0.25)]
    assert by_factor["gender"]["tvd"] == pytest.approx(0.25)


def test_reason_matrix_counts_duplicates_too(inputs):
    matrix = reason_matrix(inputs.records, CLASSES)
    totals = {row["reason"]: row["total"] for row in matrix["rows"]}
    assert totals["duplicate"] == 3
    assert sum(totals.values()) == sum(len(r.reasons) for r in inputs.records
                                       if r.status != Status.accepted)


def test_fnmr_at_fmr():
    non_mated = [i / 100 for i in range(100)]  # 0.00 .. 0.99
    mated = [0.5, 0.97, 0.99, 0.995]
    threshold, fnmr = fnmr_at_fmr(mated, non_mated, fmr=0.02)
    assert threshold == pytest.approx(0.98)
    assert sum(s > threshold for s in non_mated) / len(non_mated) <= 0.02
    assert fnmr == pytest.approx(0.5)  # 0.5 and 0.97 do not clear 0.98


def test_the_page_is_self_contained_and_escapes_user_text(inputs, tmp_path):
    inputs = inputs.model_copy(update={
        "identity": IdentityScores(mated=[0.8, 0.9], non_mated=[0.1, 0.3], threshold=0.6),
        "training": {"task": "detect", "overall": {"mAP50": 0.91, "precision": 0.8},
                     "face_detection": {"mAP50": 0.995},
                     "per_class": {"African": {"mAP50": 0.9}},
                     "curves": {"train/box_loss": [2.0, 1.0], "metrics/mAP50(B)": [0.5, 0.9]}},
        "timing": {"generate": 2.0, "train": 5.0},
    })
    path = write_report(inputs, tmp_path / "out" / "report.html")
    html = path.read_text()

    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", html)
    assert "http://" not in html and "https://" not in html and "<link" not in html
    assert "18 faces &lt;b&gt;please&lt;/b&gt;" in html  # the user's words, escaped
    thumbs = html.count('src="data:image/jpeg;base64,')
    accepted = sum(r.status == Status.accepted for r in inputs.records)
    assert thumbs == accepted + 9 + 3 * 2  # gallery (all fit) + rejected + duplicate pairs
    assert "test mAP50" in html and "0.910" in html
    assert "faces · mAP50" in html and "0.995" in html
    assert "FNMR at FMR 0.01" in html
    assert html.count('<svg class="chart"') >= 6
    assert "2 short" in html


def test_an_empty_or_partial_build_still_renders(tmp_path):
    html = render_report(ReportInputs(title="nothing yet"))
    assert "nothing yet" in html and "No plan targets" in html
    assert 'id="training"' not in html and 'id="identity"' not in html

    missing = ManifestRecord(image_id="gone", item_id="gone", class_name="a",
                             status=Status.accepted, path="images/gone.png")
    html = render_report(ReportInputs(class_targets={"a": 1}, records=[missing],
                                      base_dir=tmp_path))
    assert ">missing<" in html and "Complete." in html


def test_headline_counts_match_the_records(inputs):
    view = build_view(inputs)
    assert view["accepted"] == 18 and view["status"]["rejected"] == 9
    assert view["acceptance"] == pytest.approx(18 / 30)
    assert [c.name for c in view["short_classes"]] == ["Asian"]
    assert not view["complete"]


def test_charts_draw_what_they_are_given():
    svg = charts.line_chart({"loss": [3.0, None, 1.0]})
    assert svg.count("<circle") == 2  # a gap splits the line into two single points
    assert charts.line_chart({}) == "" and charts.histogram({}) == ""
    hist = charts.histogram({"mated": [0.9, 0.95], "non": [0.1]}, bins=10,
                            value_range=(0.0, 1.0), threshold=0.5)
    assert hist.count("<rect") == 2 + 2 and "threshold 0.50" in hist  # legend + 2 bins
    assert charts.heat_color(1.2) == charts.heat_color(1.0) != charts.heat_color(0.2)
    bars = charts.hbars([("a", 0.5), ("b", 1.0)], max_value=1.0)
    assert "50%" in bars and "100%" in bars


def test_durations_read_short_enough_for_a_summary_card():
    assert [_duration(s) for s in (4.25, 42, 125, 1956, 3 * 3600 + 300)] == [
        "4.2 s", "42 s", "2 min 05 s", "33 min", "3 h 05 min"]


def test_the_report_shows_how_each_requirement_was_drawn_and_checked_with_flags(inputs):
    from tools.contracts import Requirement

    inputs = inputs.model_copy(update={
        "understood": "18 images; 3 classes",
        "requirements": [
            Requirement(asked="class 'tattoo': 6 images", drawn_by="nothing", checked_by="nothing",
                        flags=["not checked", "not drawn"]),
            Requirement(asked="skin tone balanced", drawn_by="renderer: skin colour",
                        checked_by="critic: skin tone"),
        ],
    })
    html = render_report(inputs)
    assert "How each requirement was drawn and checked" in html
    assert "Understood as: 18 images; 3 classes" in html
    assert '<tr class="flagged"><td>class &#39;tattoo&#39;: 6 images</td>' in html


def evaluation() -> RealFaceEvaluation:
    """Figures as `facetory evaluate` saves them: a model that finds few real faces."""
    def score(detector, images, faces, recall, precision, ap, ci=None):
        return DetectionScore(detector=detector, images=images, faces=faces, conf=0.25,
                              recall=recall, precision=precision, true_positives=0,
                              detections=0, mAP50=ap, mAP50_ci95=ci)
    interval = Interval(low=0.8812, high=0.9641, resamples=1000, seed=7)
    return RealFaceEvaluation(
        real_set="embedded-v1", real_set_path="/cache/embedded-v1",
        sources="tools/outputs/real_faces_sources.yaml", weights="runs/detect/weights/best.pt",
        imgsz=160, model=score("yolo", 32, 57, 0.0351, 0.25, 0.0123),
        haar=score("haar", 32, 57, 0.8772, 0.9615, 0.8748),
        synthetic=score("yolo", 30, 33, 0.9394, 0.9688, 0.9317, interval))


def test_the_report_shows_real_face_scores_beside_the_synthetic_one_near_the_top(inputs):
    html = render_report(inputs.model_copy(update={"real_faces": evaluation()}))
    section = html[html.index('<section id="real-faces">'):]
    section = section[:section.index("</section>")]
    text = " ".join(re.sub(r"<[^>]+>", " ", section).split())
    assert "synthetic test split, classes merged 30 33 0.939 0.969 0.932 (95% CI 0.881–0.964)" \
        in text
    assert "real faces: embedded-v1 32 57 0.035 0.250 0.012" in text
    assert "OpenCV Haar cascade real faces: embedded-v1 32 57 0.877 0.962 0.875" in text
    assert "real_faces_sources.yaml" in text
    assert html.index('id="real-faces"') < html.index('id="plan"')  # right after the summary
    assert 'id="real-faces"' not in render_report(inputs)


def test_the_two_test_split_map50_figures_say_which_is_which(inputs):
    trained = inputs.model_copy(update={
        "training": {"task": "detect", "overall": {"mAP50": 0.91},
                     "face_detection": {"mAP50": 0.995}},
        "real_faces": evaluation()})
    text = " ".join(re.sub(r"<[^>]+>", " ", render_report(trained)).split())
    assert "test mAP50, classes told apart 0.910" in text
    assert "synthetic test split, classes merged 30 33 0.939" in text
    assert "test mAP50 0.910" not in text  # never a bare label beside another figure
    single = inputs.model_copy(update={"training": {"task": "detect", "overall": {"mAP50": 0.9}}})
    assert "test mAP50 0.900" in " ".join(re.sub(r"<[^>]+>", " ", render_report(single)).split())


def test_the_training_note_counts_the_collages_beside_the_exported_images(inputs):
    trained = inputs.model_copy(update={
        "training": {"task": "detect", "overall": {"mAP50": 0.91},
                     "images": {"train": 240, "val": 30, "test": 30}, "collage_images": 120}})
    text = " ".join(re.sub(r"<[^>]+>", " ", render_report(trained)).split())
    assert "images train 240, val 30, test 30, and 120 collages of training faces" in text
    plain = inputs.model_copy(update={
        "training": {"task": "detect", "overall": {"mAP50": 0.91},
                     "images": {"train": 240, "val": 30, "test": 30}}})
    assert "collages" not in " ".join(re.sub(r"<[^>]+>", " ", render_report(plain)).split())
