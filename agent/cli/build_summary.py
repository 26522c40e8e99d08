"""What a build's end (and `facetory status`) prints: counts per class with the top rejection
reasons in words, the trained model's scores with their test set's size, and where things are.
Every line folds to the terminal's width (80 columns included) instead of being cut."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from agent.cli.shared import console
from agent.wording import COMPLETE, INCOMPLETE
from tools.vocabulary import reason_words


def top_reasons(rejected: dict[str, int], n: int = 3) -> str:
    """'eyewear not as planned 12, blurry 3': the commonest reasons first, in words."""
    top = sorted(rejected.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return ", ".join(f"{reason_words(code)} {count}" for code, count in top)


def print_status(status: dict[str, Any]) -> None:
    """Per class: accepted of planned, images tried, duplicates, why the others were rejected."""
    table = Table(title="Build status")
    table.add_column("class", overflow="fold")
    table.add_column("accepted", justify="right", no_wrap=True)
    table.add_column("tried", justify="right")
    table.add_column("dup", justify="right")
    table.add_column("top rejections", overflow="fold", ratio=1)
    for name, c in status["classes"].items():
        table.add_row(escape(name), f"{c['accepted']:,} / {c['target']:,}", f"{c['attempts']:,}",
                      f"{c['duplicates']:,}", escape(top_reasons(c["rejected"])))
    console.print(table)
    total = status["total"]
    state = COMPLETE if status["complete"] else INCOMPLETE
    console.print(f"{total['accepted']:,} / {total['target']:,} accepted in "
                  f"{total['attempts']:,} attempts: {state}", highlight=False)


def score_lines(metrics: dict[str, Any] | None) -> list[str]:
    """The trained model's figures on the held-out synthetic test split, with its size."""
    if not metrics:
        return []
    overall = metrics.get("overall", {})
    images = overall.get("images") or metrics.get("images", {}).get("test")
    if metrics.get("task") == "classify":
        figures = f"top-1 {overall.get('top1', 0):.3f}"
    else:
        figures = (f"mAP50 {overall.get('mAP50', 0):.3f}, precision "
                   f"{overall.get('precision', 0):.3f}, recall {overall.get('recall', 0):.3f}")
    return [f"model on the synthetic test split ({images} images): {figures}"]


def print_scores(runs: Path, dataset: Path) -> bool:
    """The newest model trained on this export, if any (an older export's model is not shown):
    its real-face check beside the Haar cascade's when the build made one (with the synthetic
    test split's mAP50 and interval), else its synthetic test figures. False: no model."""
    from agent.cli.evaluate_commands import print_evaluation
    from tools.outputs.real_faces import read_evaluation
    from tools.outputs.train import latest_metrics

    metrics = latest_metrics(runs, dataset)
    evaluation = read_evaluation(metrics)
    if evaluation is not None:
        print_evaluation(evaluation)
        return True
    for line in score_lines(metrics):
        console.print(line, highlight=False, markup=False)
    return bool(metrics)


def print_paths(paths: dict[str, Path]) -> None:
    """'  report: builds/demo/report.html', one a line, for those that exist."""
    for label, path in paths.items():
        if path.exists():
            console.print(f"{label:>8}: {escape(str(path))}", highlight=False)
