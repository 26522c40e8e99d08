"""An identity dataset end to end on the procedural backend and the real critic: identities
stay in one split, every accepted face has a descriptor, and the build writes identity
metrics, per-person folders and a verification pairs file."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from agent.context import BuildContext, Options
from agent.plan_io import write_plan, write_spec
from agent.planner import make_plan
from agent.runner import run_graph
from agent.spec import DatasetSpec
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


def test_with_a_diffusion_backend_off_identity_images_are_rejected_and_redrawn(
        tmp_path: Path) -> None:
    import numpy as np

    from agent.context import Services
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
