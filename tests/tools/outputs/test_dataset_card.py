"""The dataset card carries a trained detector's real-face scores once it has them."""

from __future__ import annotations

from pathlib import Path

from tests.tools.outputs.test_report import evaluation
from tools.outputs.dataset_card import add_model_scores, with_model_scores

CARD = "# tiny\n\n## Splits\n\nsome table\n\n## Intended use and limits\n\n- research\n"


def test_the_scores_go_before_the_intended_use_with_each_test_sets_size() -> None:
    card = with_model_scores(CARD, evaluation())
    scores = card[card.index("## How a detector"):card.index("## Intended use")]
    assert "| YOLO trained on this dataset | synthetic test split | 30 | 33 | 0.939 | 0.969 | " \
           "0.932 (95% CI 0.881-0.964) |" in scores
    assert "| YOLO trained on this dataset | real faces (embedded-v1) | 32 | 57 | 0.035 |" in scores
    assert "| OpenCV Haar cascade | real faces (embedded-v1) | 32 | 57 | 0.877 | 0.962 |" in scores
    assert "astronaut (skimage `data/astronaut.png`): No known copyright" in scores
    assert "LFW-subset faces 0-49" in scores and card.startswith("# tiny")


def test_scoring_again_replaces_the_section_instead_of_adding_one(tmp_path: Path) -> None:
    path = tmp_path / "README.md"
    path.write_text(CARD)
    add_model_scores(path, evaluation())
    once = path.read_text()
    add_model_scores(path, evaluation())
    assert path.read_text() == once and once.count("## How a detector") == 1
    add_model_scores(tmp_path / "absent.md", evaluation())  # no card: nothing written
    assert not (tmp_path / "absent.md").exists()
