"""An identity dataset end to end on the procedural backend and the real critic: identities
stay in one split, every accepted face has a descriptor, and the build writes identity
metrics, per-person folders and a verification pairs file."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from agent.language.spec import DatasetSpec
from agent.planning.plan_file import write_plan, write_spec
from agent.planning.planner import make_plan
from agent.runtime.context import BuildContext, Options
from agent.runtime.runner import run_graph
from tools.atomic import write_text
from tools.build_dir import BuildPaths
from tools.contracts import Status

SPEC = {
    "name": "people",
    "classes": [{"name": "face", "quota": 15}],
    "identities": {"count": 5, "images_per_identity": 3},
    "factors": [{"name": "expression", "balanced": True,
                 "levels": [{"name": "neutral"}, {"name": "smile"}, {"name": "surprise"}]}],
    "generation": {"fault_rate": 0.1},
    "image_size": 192,
    "seed": 5,
}


def test_identity_build_measures_people_and_exports_pairs(tmp_path: Path) -> None:
    spec = DatasetSpec.model_validate(SPEC)
    paths = BuildPaths(tmp_path / "people")
    paths.root.mkdir()
    write_text(paths.spec_txt, "five people, three images each")
    write_spec(spec, paths.spec_yaml)
    write_plan(make_plan(spec), paths.plan_yaml)
    ctx = BuildContext(paths=paths, options=Options(no_train=True))
    assert run_graph(ctx).outcome == "review"
    result = run_graph(ctx, resume={"action": "approve"})
    assert result.state["stop_reason"] == "complete"
    assert not ctx.enforce_identity  # procedural people are who they are by construction

    accepted = ctx.manifest.records(Status.accepted)
    splits = defaultdict(set)
    for record in accepted:
        splits[record.identity].add(record.split)
    assert len(splits) == 5 and all(len(s) == 1 for s in splits.values())
    assert set(ctx.manifest.accepted_embeddings("descriptor")) == {r.image_id for r in accepted}

    metrics = json.loads((paths.metrics / "identity.json").read_text())
    assert metrics["identities"] == 5 and metrics["images"] == 15
    assert metrics["mated_pairs_total"] == 5 * 3
    folders = paths.dataset / "identities"
    assert (folders / "pairs.txt").exists()
    assert sorted(p.name for p in folders.iterdir() if p.is_dir()) == sorted(splits)


@pytest.mark.slow
def test_an_identity_build_on_two_workers_records_what_one_process_records(
    tmp_path: Path,
) -> None:
    def built(name: str, workers: int) -> tuple[list, dict[str, np.ndarray]]:
        paths = BuildPaths(tmp_path / name)
        paths.root.mkdir()
        spec = DatasetSpec.model_validate(SPEC)
        write_text(paths.spec_txt, "five people, three images each")
        write_spec(spec, paths.spec_yaml)
        write_plan(make_plan(spec), paths.plan_yaml)
        ctx = BuildContext(paths=paths, options=Options(no_train=True, workers=workers))
        run_graph(ctx)
        assert run_graph(ctx, resume={"action": "approve"}).state["stop_reason"] == "complete"
        records = [r.model_dump(exclude={"created_at", "updated_at"})
                   for r in ctx.manifest.records()]
        return records, ctx.manifest.accepted_embeddings("descriptor")

    one, one_faces = built("one", workers=1)
    two, two_faces = built("two", workers=2)
    assert two == one
    assert two_faces.keys() == one_faces.keys()
    for image_id, descriptor in two_faces.items():
        np.testing.assert_array_equal(descriptor, one_faces[image_id])


def test_with_a_diffusion_backend_off_identity_images_are_rejected_and_redrawn(
        tmp_path: Path) -> None:
    from agent.runtime.context import Services
    from tests.agent.fakes import FakeCritic, FakeGenerator, fake_embedder

    spec = DatasetSpec.model_validate({**SPEC, "generation": {}, "image_size": 64})
    paths = BuildPaths(tmp_path / "people")
    paths.root.mkdir()
    write_text(paths.spec_txt, "five people, three images each")
    write_spec(spec, paths.spec_yaml)
    plan = make_plan(spec)
    write_plan(plan, paths.plan_yaml)
    person = {item.id: int(item.identity.split("-")[1]) for item in plan.items}
    anchor_of_person_1 = next(item.id for item in plan.items if person[item.id] == 1)

    def describer(path: Path, box) -> np.ndarray:
        item_id, attempt = path.stem.rsplit("-a", 1)
        vector = np.zeros(8, dtype=np.float32)
        vector[person[item_id] % 8] = 1.0
        if attempt == "0" and person[item_id] == 1 and item_id != anchor_of_person_1:
            vector = np.roll(vector, 3)  # drawn as somebody else on the first try
        return vector

    services = Services(generator=FakeGenerator(), critic=FakeCritic(reject_share=0.0),
                        embedder=fake_embedder, describer=describer)
    ctx = BuildContext(paths=paths, options=Options(no_train=True), services=services)
    assert ctx.enforce_identity
    run_graph(ctx)
    result = run_graph(ctx, resume={"action": "approve"})
    assert result.state["stop_reason"] == "complete"
    rejected = ctx.manifest.records(Status.rejected)
    assert rejected and {tuple(r.reasons) for r in rejected} <= {("identity_mismatch",),
                                                                 ("identity_collision",)}
    assert any(r.reasons == ["identity_mismatch"] for r in rejected)
    assert len(ctx.manifest.records(Status.accepted)) == 15


def identity_build(root: Path, services, *, batch: int = 32):
    """An approved identity build (5 people x 3 images) on stand-in services, ready to run."""
    from agent.runtime.context import Services

    spec = DatasetSpec.model_validate({**SPEC, "generation": {}, "image_size": 64,
                                       "budget": {"batch_size": batch}})
    paths = BuildPaths(root)
    paths.root.mkdir()
    write_text(paths.spec_txt, "five people, three images each")
    write_spec(spec, paths.spec_yaml)
    write_plan(make_plan(spec), paths.plan_yaml)
    return BuildContext(paths=paths, options=Options(no_train=True), services=Services(**services))


def firsts(ctx: BuildContext) -> dict[str, str]:
    """person -> their first item's id (the plan numbers a person's items consecutively)."""
    out: dict[str, str] = {}
    for item in ctx.plan.items:
        out.setdefault(item.identity, item.id)
    return out


def test_generate_draws_a_new_persons_later_images_from_their_first(tmp_path: Path) -> None:
    from langgraph.runtime import Runtime

    from agent.runtime.nodes.generate import generate
    from agent.runtime.nodes.review import schedule_first_round
    from tests.agent.fakes import FakeReferenceGenerator

    gen = FakeReferenceGenerator()
    ctx = identity_build(tmp_path / "people", {"generator": gen}, batch=5)
    schedule_first_round(ctx)
    batch = generate({"round": 0, "cursor": 0}, Runtime(context=ctx))["batch"]
    # items 1-5: person 1 whole, person 2's first two; nobody has an accepted image yet
    assert batch == [f"face-00000{i}-a0" for i in range(1, 6)]
    assert gen.calls == 2  # the first image of each new person, then the rest
    refs = {i: (r.name if r else None) for i, r in gen.references.items()}
    assert refs == {"face-000001-a0": None, "face-000002-a0": "face-000001-a0.png",
                    "face-000003-a0": "face-000001-a0.png", "face-000004-a0": None,
                    "face-000005-a0": "face-000004-a0.png"}
    drawn = {i: (ctx.paths.root / r.path).read_bytes() for i, r in ctx.manifest.get(batch).items()}

    # a re-run after a crash draws the same files from the same references
    again = FakeReferenceGenerator()
    ctx.services.generator = again
    assert generate({"round": 0, "cursor": 0}, Runtime(context=ctx))["batch"] == batch
    assert again.references == gen.references
    assert drawn == {i: (ctx.paths.root / r.path).read_bytes()
                     for i, r in ctx.manifest.get(batch).items()}


def test_an_identity_conditioned_build_draws_each_person_from_one_anchor(tmp_path: Path) -> None:
    from tests.agent.fakes import FakeCritic, FakeReferenceGenerator, fake_embedder

    gen = FakeReferenceGenerator()
    services = {"generator": gen, "critic": FakeCritic(reject_share=0.0),
                "embedder": fake_embedder, "describer": gen.describe}
    ctx = identity_build(tmp_path / "people", services, batch=4)  # people span batches
    assert ctx.enforce_identity
    run_graph(ctx)
    assert run_graph(ctx, resume={"action": "approve"}).state["stop_reason"] == "complete"
    # everyone looks like themselves at the first try: nothing rejected, nothing redrawn
    assert ctx.manifest.attempts() == 15 and len(ctx.manifest.records(Status.accepted)) == 15
    anchors = ctx.manifest.anchors()
    first = firsts(ctx)
    assert {who: r.item_id for who, r in anchors.items()} == first
    for record in ctx.manifest.records(Status.accepted):
        reference = gen.references[record.image_id]
        if record.item_id == first[record.identity]:
            assert reference is None
        else:  # the anchor, drawn earlier in the batch or accepted in an earlier one
            assert reference.name == Path(anchors[record.identity].path).name


@pytest.mark.parametrize("batch", [2, 32])
def test_an_image_is_checked_against_the_anchor_not_the_nearest_face(
        tmp_path: Path, batch: int) -> None:
    """Person 1 drifts 24 degrees an image: the third is near the second, far from the first."""
    from tests.agent.fakes import FakeCritic, FakeGenerator, fake_embedder

    def describer(path: Path, box) -> np.ndarray:
        item_id, attempt = path.stem.rsplit("-a", 1)
        person = int(ctx.items[item_id].identity.split("-")[1])
        turn = {"face-000002": 24.0, "face-000003": 48.0 if attempt == "0" else 10.0}
        angle = np.radians(turn.get(item_id, 0.0))
        vector = np.zeros(16, dtype=np.float32)
        vector[2 * person], vector[2 * person + 1] = np.cos(angle), np.sin(angle)
        return vector

    services = {"generator": FakeGenerator(), "critic": FakeCritic(reject_share=0.0),
                "embedder": fake_embedder, "describer": describer}
    ctx = identity_build(tmp_path / "people", services, batch=batch)
    run_graph(ctx)
    assert run_graph(ctx, resume={"action": "approve"}).state["stop_reason"] == "complete"
    rejected = ctx.manifest.records(Status.rejected)
    assert [(r.image_id, r.reasons) for r in rejected] == [
        ("face-000003-a0", ["identity_mismatch"])]
    assert ctx.manifest.anchors()["id-0001"].image_id == "face-000001-a0"
    assert len(ctx.manifest.records(Status.accepted)) == 15
