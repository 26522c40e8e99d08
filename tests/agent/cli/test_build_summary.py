"""The closing summary of a build: reasons in words, the model's score, all inside 80 columns."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from agent.cli import build_summary
from agent.cli.build_summary import print_status, score_lines, top_reasons


@pytest.fixture
def narrow(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    out = io.StringIO()
    monkeypatch.setattr(build_summary, "console", Console(file=out, width=80))
    return out


def test_top_reasons_are_words_commonest_first() -> None:
    rejected = {"blurry": 3, "attribute_mismatch:eyewear": 12, "face_cut_off": 3, "noisy": 1}
    assert top_reasons(rejected) == (
        "eyewear not as planned 12, blurry 3, face cut off by the frame 3"
    )


def test_the_status_table_folds_inside_80_columns_instead_of_cutting(narrow) -> None:
    reasons = {"attribute_mismatch:eyewear": 40, "attribute_mismatch:skin_tone": 9,
               "identity_collision": 2}
    row = {"target": 1200, "accepted": 1190, "attempts": 1300, "duplicates": 3,
           "rejected": reasons}
    print_status({"classes": {"sunglasses and a hat": row}, "complete": False,
                  "total": {"target": 1200, "accepted": 1190, "attempts": 1300}})

    out = narrow.getvalue()
    assert all(len(line) <= 80 for line in out.splitlines())
    assert "…" not in out and "..." not in out
    flat = " ".join(out.replace("│", " ").split())
    assert "eyewear not as" in flat and "skin tone not as" in flat and "looks like" in flat
    assert "1,190 / 1,200 accepted in 1,300 attempts: incomplete" in flat


def test_the_score_line_gives_the_test_split_size() -> None:
    metrics = {"task": "detect", "images": {"test": 30},
               "overall": {"images": 30, "mAP50": 0.9791, "precision": 1.0, "recall": 0.7667}}
    assert score_lines(metrics) == [
        "model on the synthetic test split (30 images): mAP50 0.979, precision 1.000, "
        "recall 0.767"
    ]
    assert score_lines(None) == []
