"""Quotas edited after a build started: the accepted images that still fit are kept, the rest
re-labelled or dropped as the review said, and the next run completes the revised plan."""

from __future__ import annotations

from pathlib import Path

from agent.planning.approval import approve
from agent.planning.plan_file import read_plan
from agent.planning.plan_review import review_plan
from agent.planning.revision import DROPPED
from agent.runtime.context import BuildContext
from agent.runtime.progress import build_status
from agent.runtime.runner import run_graph
from tests.agent.runtime.test_graph import accepted_bytes, context, make_build
from tools.build_dir import BuildPaths
from tools.contracts import Status


def set_quotas(paths: BuildPaths, glasses: int, none: int) -> list[str]:
    """Edit the quotas in plan.yaml's spec block, review and approve: the review's lines."""
    text = paths.plan_yaml.read_text()
    head, items = text.split("\nitems:\n", 1)
    head = head.replace("  - name: glasses\n    description: ''\n    quota: 10",
                        f"  - name: glasses\n    description: ''\n    quota: {glasses}")
    head = head.replace("  - name: none\n    description: ''\n    quota: 10",
                        f"  - name: none\n    description: ''\n    quota: {none}")
    paths.plan_yaml.write_text(head + "\nitems:\n" + items)
    result = review_plan(paths.root)
    assert result.kind == "spec"
    approve(paths.root)
    return result.changes


def test_a_finished_build_with_revised_quotas_keeps_what_fits_and_completes(
    tmp_path: Path,
) -> None:
    paths = make_build(tmp_path / "b", quota=10)
    assert run_graph(context(paths)).outcome == "review"
    assert run_graph(context(paths), resume={"action": "approve"}).outcome == "done"
    before = accepted_bytes(paths)
    assert len(before) == 20

    changes = set_quotas(paths, glasses=6, none=14)
    summary = next(line for line in changes if line.startswith("accepted images:"))
    assert summary.startswith("accepted images: 16 still fit the revised plan")
    assert summary.endswith(", 4 dropped (they fit no line)")
    assert any(line.startswith("dropped at the next run: glasses-") for line in changes)

    result = run_graph(context(paths))
    assert result.outcome == "done" and result.state["stop_reason"] == "complete"
    ctx = BuildContext(paths=paths)
    status = build_status(ctx.plan, ctx.manifest)
    assert status["complete"]
    assert {c: s["accepted"] for c, s in status["classes"].items()} == {"glasses": 6, "none": 14}
    after = accepted_bytes(paths)
    kept = {i for i in before if i in after}
    assert len(kept) == 16 and all(before[i] == after[i] for i in kept)  # same images, untouched
    dropped = [r for r in ctx.manifest.records(Status.rejected) if DROPPED in r.reasons]
    assert len(dropped) == 4 and all(r.class_name == "glasses" for r in dropped)
    assert all((paths.root / r.path).exists() for r in dropped)  # kept on disk, like rejections
    assert any(e["event"] == "plan_revised" for e in ctx.events.read())
    exported = (paths.dataset / "yolo_detect").rglob("*.png")
    assert len(list(exported)) == 20


def test_a_build_stopped_part_way_continues_after_a_quota_edit(tmp_path: Path) -> None:
    paths = make_build(tmp_path / "b", quota=10, batch=4)
    assert run_graph(context(paths)).outcome == "review"
    stopped = run_graph(context(paths), resume={"action": "approve"}, stop_requested=lambda: True)
    assert stopped.outcome == "stopped"
    assert 0 < len(accepted_bytes(paths)) < 20

    set_quotas(paths, glasses=7, none=12)
    result = run_graph(context(paths))
    assert result.outcome == "done" and result.state["stop_reason"] == "complete"
    ctx = BuildContext(paths=paths)
    accepted = ctx.manifest.accepted_item_ids()
    assert accepted == {item.id for item in read_plan(paths.plan_yaml).items}
    assert len(accepted) == 19


def test_a_quota_cut_relabels_an_accepted_image_onto_a_line_that_fits(tmp_path: Path) -> None:
    """Cutting 10 -> 4 rebalances gender over fewer ids: an accepted image whose id now names
    a line of the other gender moves to a free line of its own gender."""
    paths = make_build(tmp_path / "b", quota=10)
    assert run_graph(context(paths)).outcome == "review"
    assert run_graph(context(paths), resume={"action": "approve"}).outcome == "done"
    plan = read_plan(paths.plan_yaml)
    changes = set_quotas(paths, glasses=4, none=10)
    revised = read_plan(paths.plan_yaml)
    old = {it.id: it for it in plan.items}
    for item in revised.items:
        if item.class_name == "glasses":  # every kept line is an accepted image that fits
            assert old[item.id].attributes == item.attributes
            assert old[item.id].seed == item.seed
            assert old[item.id].variation == item.variation  # what the kept image shows
    assert len({it.id for it in revised.items}) == 14
    assert any(line.startswith("accepted images: ") for line in changes)
    assert run_graph(context(paths)).state["stop_reason"] == "complete"


def test_a_drawing_setting_changed_under_accepted_images_is_said_in_the_review(
    tmp_path: Path,
) -> None:
    paths = make_build(tmp_path / "b", quota=4)
    assert run_graph(context(paths)).outcome == "review"
    assert run_graph(context(paths), resume={"action": "approve"}).outcome == "done"
    spec = paths.spec_yaml
    spec.write_text(spec.read_text().replace("image_size: 256", "image_size: 128"))
    changes = review_plan(paths.root).changes
    assert "spec.image_size: 256 -> 128" in changes
    assert "accepted images: 8 still fit the revised plan (0 re-labelled to another line), " \
           "0 dropped (they fit no line)" in changes
    assert any(c.startswith("note: the 8 accepted images stay as they were drawn") for c in changes)
    approve(paths.root)
    assert run_graph(context(paths)).state["stop_reason"] == "complete"


def test_a_plan_fixed_after_the_generators_door_refused_it_starts_from_its_first_seeds(
    tmp_path: Path,
) -> None:
    """Approval forged over an unsafe prompt: generation refuses before drawing; once the
    plan is put right, reviewed and approved, round 0 is the new plan's, seeds included."""
    import json

    import pytest

    from agent.planning.approval import approval_record
    from agent.planning.plan_file import APPROVAL
    from tools.safety import UnsafePrompt

    paths = make_build(tmp_path / "b", quota=4)
    good = paths.plan_yaml.read_text()
    paths.plan_yaml.write_text(good.replace('prompt: "', 'prompt: "a child, beaten, ', 1))
    (paths.root / APPROVAL).write_text(json.dumps(approval_record(paths.root)))
    with pytest.raises(UnsafePrompt, match="nothing was generated for it"):
        run_graph(context(paths))
    assert BuildContext(paths=paths).manifest.attempts() == 0

    paths.plan_yaml.write_text(good)
    review_plan(paths.root)
    approve(paths.root)
    assert run_graph(context(paths)).state["stop_reason"] == "complete"
    ctx = BuildContext(paths=paths)
    first = {r.item_id: r.seed for r in ctx.manifest.records() if r.attempt == 0}
    assert first == {item.id: item.seed for item in ctx.plan.items}
