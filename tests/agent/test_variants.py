"""Augmentation variants in the loop, offline, with the procedural renderer and the real critic:
planned as rows of their own, drawn once their base is accepted, counted and exported with
their parent's id."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from agent.cli import app
from agent.context import BuildContext
from agent.planner import make_plan
from agent.progress import build_status
from agent.spec import DatasetSpec
from agent.variants import plan_variants
from tools.build_dir import BuildPaths
from tools.contracts import Status

SPEC = """\
name: aug
classes:
  - {name: none, quota: 4, attributes: {eyewear: none}}
  - {name: sunglasses, quota: 4, attributes: {eyewear: sunglasses}}
augmentations:
  - {name: smile, attributes: {expression: smile}, fraction: 0.5}
budget: {batch_size: 4, max_attempts_factor: 3}
image_size: 128
seed: 4
"""
runner = CliRunner()


def test_variants_are_items_of_their_own_keeping_split_and_base(tmp_path: Path) -> None:
    plan = make_plan(DatasetSpec.from_yaml(SPEC))
    variants = plan_variants(plan)
    bases = {item.id: item for item in plan.items}
    assert len(variants) == 4  # half of each class's 4 images, one variant each
    for v in variants:
        base = bases[v.parent]
        assert v.id == f"{base.id}~smile0" and v.augmentation == "smile"
        assert v.attributes == {**base.attributes, "expression": "smile"}
        assert (v.split, v.class_name, v.seed) == (base.split, base.class_name, base.seed)
    assert plan_variants(make_plan(DatasetSpec.from_yaml(SPEC))) == variants  # derived alike


def test_an_offline_build_draws_counts_and_exports_the_variants(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    out = tmp_path / "build"
    planned = runner.invoke(app, ["plan", str(spec), "--out", str(out), "--offline"])
    assert planned.exit_code == 0, planned.output
    assert "none ~ smile" in planned.output  # the plan review shows the variants as rows

    built = runner.invoke(app, ["build", str(spec), "--out", str(out), "--yes", "--offline",
                                "--no-train"])
    assert built.exit_code == 0, built.output
    ctx = BuildContext(paths=BuildPaths(out))
    status = build_status(list(ctx.items.values()), ctx.manifest)
    assert status["complete"]
    assert status["classes"]["none ~ smile"]["target"] == 2
    assert status["classes"]["sunglasses ~ smile"]["accepted"] == 2

    accepted = {r.image_id: r for r in ctx.manifest.records(Status.accepted)}
    variants = [r for r in accepted.values() if r.parent]
    assert len(variants) == 4
    for record in variants:
        parent = accepted[record.parent]  # drawn from an accepted image...
        assert record.item_id == f"{parent.item_id}~smile0"
        assert record.attributes["expression"] == "smile"
        assert record.attributes["eyewear"] == parent.attributes["eyewear"]
        assert record.split == parent.split
    # ...and exported with their labels and their parent's id
    rows = [json.loads(line) for meta in (out / "dataset" / "hf").glob("*/metadata.jsonl")
            for line in meta.read_text().splitlines()]
    exported = {row["image_id"]: row for row in rows}
    for record in variants:
        assert exported[record.image_id]["parent"] == record.parent
        assert exported[record.image_id]["expression"] == "smile"
