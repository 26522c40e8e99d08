"""Unsafe words that arrive after the request was checked, as a user would try them: a hand
edit of plan.yaml, a class description in a spec, feedback. Each is refused at review time;
one that slips past review is refused at the generator's door, before anything is drawn."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from agent.planning.approval import approval_record
from agent.planning.plan_file import APPROVAL
from tests.agent.cli.test_run_commands import facetory

KIDS = """\
name: kids
classes:
  - {name: none, quota: 4, attributes: {eyewear: none, age_group: child}}
  - {name: glasses, quota: 4, attributes: {eyewear: glasses, age_group: child}}
factors:
  - {name: gender, balanced: true, levels: [{name: female}, {name: male}]}
budget: {batch_size: 4}
image_size: 128
seed: 4
"""
HARM = "injured, bruised child with a bloody nose"


def planned(tmp_path: Path, spec: str = KIDS) -> Path:
    path = tmp_path / "kids.yaml"
    path.write_text(spec)
    out = tmp_path / "build"
    result = facetory("plan", str(path), "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


def edit_first_prompt(out: Path, words: str = HARM) -> str:
    """Rewrite the first item's prompt in plan.yaml; return that item's id."""
    plan = out / "plan.yaml"
    lines = plan.read_text().splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.startswith("- {id: "))
    lines[first] = lines[first].replace('prompt: "', f'prompt: "{words}, ', 1)
    plan.write_text("".join(lines))
    return lines[first].split("id: ", 1)[1].split(",", 1)[0]


def assert_refused(result, *words: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "refused" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for word in words:
        assert word in result.stderr


def test_a_hand_edited_item_prompt_is_refused_at_review_approve_and_run(tmp_path: Path) -> None:
    out = planned(tmp_path)
    assert facetory("approve", str(out)).returncode == 0
    item = edit_first_prompt(out)
    assert_refused(facetory("review", str(out)), item, "bruised")
    assert_refused(facetory("approve", str(out)), item, "bruised")
    assert_refused(facetory("run", str(out), "--yes", "--no-train"), item, "bruised")
    assert not (out / "images").exists() and not (out / "manifest.sqlite").exists()


def test_a_prompt_that_slips_past_review_is_refused_at_the_generators_door(
    tmp_path: Path,
) -> None:
    """Approval forged by hand over an unsafe edit: the build stops before drawing it."""
    out = planned(tmp_path)
    item = edit_first_prompt(out)
    (out / APPROVAL).write_text(json.dumps(approval_record(out)))
    result = facetory("run", str(out), "--no-train")
    assert_refused(result, f"item {item}", "nothing was generated for it")
    images = out / "images"
    assert not images.exists() or not list(images.rglob(f"{item}-*"))
    assert not (out / "dataset").exists()


def test_a_class_description_edited_in_the_plans_spec_block_is_refused(tmp_path: Path) -> None:
    out = planned(tmp_path)
    plan = out / "plan.yaml"
    data = yaml.safe_load(plan.read_text())
    data["spec"]["classes"][0]["description"] = "injured and bruised"
    plan.write_text(yaml.safe_dump(data, sort_keys=False))
    before = (out / "spec.yaml").read_text()
    assert_refused(facetory("review", str(out)), "injured", "bruised")
    assert_refused(facetory("approve", str(out)), "injured", "bruised")
    assert_refused(facetory("run", str(out), "--yes", "--no-train"), "injured")
    assert (out / "spec.yaml").read_text() == before
    assert not (out / "manifest.sqlite").exists()


def test_a_yaml_spec_whose_class_description_depicts_harm_is_refused(tmp_path: Path) -> None:
    spec = tmp_path / "welts.yaml"
    spec.write_text(KIDS.replace(
        "attributes: {eyewear: none, age_group: child}}",
        "attributes: {eyewear: none}, description: a child with welts, cuts and a split lip}",
    ))
    out = tmp_path / "b"
    assert_refused(facetory("plan", str(spec), "--out", str(out)), "welts", "cuts", "split lip")
    assert not out.exists()


def test_a_refused_feedback_changes_nothing_and_the_approved_plan_still_runs(
    tmp_path: Path,
) -> None:
    out = tmp_path / "words"
    words = "8 child faces in two eyewear classes (none, glasses), 4 per class, 128 px"
    assert facetory("plan", words, "--out", str(out), "--offline").returncode == 0
    assert facetory("approve", str(out)).returncode == 0
    files = {p: (out / p).read_bytes() for p in ("plan.yaml", "spec.yaml", "spec.txt", APPROVAL)}
    assert_refused(facetory("review", str(out), "--feedback", "give them bruises", "--offline"),
                   "bruises")
    assert {p: (out / p).read_bytes() for p in files} == files
    ok = facetory("review", str(out), "--feedback", "30% wear hats", "--offline")
    assert ok.returncode == 0, ok.stderr
    assert "hat=hat" in ok.stdout
    assert facetory("approve", str(out)).returncode == 0
    run = facetory("run", str(out), "--no-train")
    assert run.returncode == 0, run.stderr
    assert "8 / 8 accepted" in run.stdout


@pytest.mark.parametrize(
    ("words", "named"),
    [
        ("child, no nudity, bruise-covered and tear-streaked", "bruise, tear"),
        ("a girl in a classroom holding a kite", "'kite' is not a reviewed word"),
    ],
)
def test_variations_in_a_hand_edited_prompt_are_refused_at_review_and_approve(
    tmp_path: Path, words: str, named: str
) -> None:
    out = planned(tmp_path)
    item = edit_first_prompt(out, words)
    assert_refused(facetory("review", str(out)), item, named)
    assert_refused(facetory("approve", str(out)), item, named)
