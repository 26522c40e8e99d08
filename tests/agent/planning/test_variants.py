"""Augmentation variants in the loop, offline, with the procedural renderer and the real critic:
planned as rows of their own, drawn once their base is accepted, counted and exported with
their parent's id."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli.app import app
from agent.language.spec import DatasetSpec
from agent.planning.planner import make_plan
from agent.planning.variants import plan_variants
from agent.runtime.context import BuildContext
from agent.runtime.progress import build_status
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


@pytest.mark.slow
def test_an_offline_build_draws_counts_and_exports_the_variants(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    out = tmp_path / "build"
    planned = runner.invoke(app, ["plan", str(spec), "--out", str(out), "--offline"])
    assert planned.exit_code == 0, planned.output
    assert "none ~ smile" in planned.output  # the plan review shows the variants as rows
    review = runner.invoke(app, ["review", str(out), "--json"])
    assert json.loads(review.stdout)["variants"] == {"none ~ smile": 2, "sunglasses ~ smile": 2}

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


def test_a_variant_may_look_like_its_parent_but_not_like_any_other_image(tmp_path: Path) -> None:
    """The stand-in generator draws from the seed alone, so a first variant (its base's seed)
    is pixel for pixel its parent: accepted. Two augmentations asking the same change draw the
    same picture: the second is a copy of the first, rejected, and drawn again."""
    from agent.planning.plan_file import write_plan, write_spec
    from agent.runtime.context import Options, Services
    from agent.runtime.runner import run_graph
    from tests.agent.fakes import FakeCritic, FakeGenerator, fake_embedder
    from tools.atomic import write_text

    text = SPEC.replace("fraction: 0.5}", "fraction: 0.5}\n  - {name: grin, attributes: "
                        "{expression: smile}, fraction: 0.5}")
    spec = DatasetSpec.from_yaml(text)
    paths = BuildPaths(tmp_path / "b")
    paths.root.mkdir()
    write_text(paths.spec_txt, text)
    write_spec(spec, paths.spec_yaml)
    write_plan(make_plan(spec), paths.plan_yaml)
    services = Services(generator=FakeGenerator(), critic=FakeCritic(reject_share=0.0),
                        embedder=fake_embedder)
    ctx = BuildContext(paths=paths, options=Options(no_train=True), services=services)
    assert run_graph(ctx, resume={"action": "approve"}).outcome == "review"
    assert run_graph(ctx, resume={"action": "approve"}).outcome == "done"

    records = ctx.manifest.records()
    accepted = {r.item_id: r for r in records if r.status is Status.accepted}
    assert len(accepted) == 8 + 4 + 4  # bases, smiles, grins: every item in the end
    same_as_parent = [
        r for item_id, r in accepted.items()
        if r.parent and r.seed == accepted[item_id.split("~")[0]].seed
    ]
    assert len(same_as_parent) == 4  # one per base, accepted although it is its parent's copy
    for record in same_as_parent:
        parent = ctx.paths.root / ctx.manifest.get([record.parent])[record.parent].path
        assert (ctx.paths.root / record.path).read_bytes() == parent.read_bytes()
    copies = [r for r in records if r.status is Status.duplicate]
    assert len(copies) == 4  # the other augmentation's first try, a copy of its sibling
    for r in copies:
        base, copied = r.item_id.split("~")[0], r.duplicate_of.rsplit("-a", 1)[0]
        assert copied.startswith(f"{base}~") and copied != r.item_id
