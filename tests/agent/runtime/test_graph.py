"""The build graph end to end on stand-in tools: review, batches, retries, budget, resume."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from agent.language.spec import DatasetSpec
from agent.planning.plan_file import write_plan, write_spec
from agent.planning.planner import make_plan
from agent.runtime.context import BuildContext, Options, Services
from agent.runtime.progress import build_status
from agent.runtime.runner import run_graph
from tests.agent.fakes import FakeCritic, FakeGenerator, fake_embedder
from tools.atomic import write_text
from tools.build_dir import BuildPaths
from tools.contracts import Status


def make_build(
    root: Path, *, quota: int = 10, budget: float = 3.0, batch: int = 4,
    quality: dict | None = None,
) -> BuildPaths:
    spec = DatasetSpec(
        name="tiny",
        classes=[
            {"name": "glasses", "quota": quota, "attributes": {"eyewear": "glasses"}},
            {"name": "none", "quota": quota, "attributes": {"eyewear": "none"}},
        ],
        factors=[
            {"name": "gender", "balanced": True, "levels": [{"name": "female"}, {"name": "male"}]}
        ],
        budget={"max_attempts_factor": budget, "batch_size": batch},
        quality=quality or {},
        seed=3,
    )
    paths = BuildPaths(root)
    paths.root.mkdir(parents=True, exist_ok=True)
    write_text(paths.spec_txt, "twenty tiny faces")
    write_spec(spec, paths.spec_yaml)
    write_plan(make_plan(spec), paths.plan_yaml)
    return paths


def context(
    paths: BuildPaths, *, yes: bool = True, reject: float = 0.25, twin_every: int = 0,
    embedder=fake_embedder,
) -> BuildContext:
    services = Services(
        generator=FakeGenerator(twin_every=twin_every),
        critic=FakeCritic(reject_share=reject),
        embedder=embedder,
    )
    return BuildContext(paths=paths, options=Options(no_train=True, yes=yes), services=services)


def accepted_bytes(paths: BuildPaths) -> dict[str, str]:
    ctx = BuildContext(paths=paths)
    return {
        r.item_id: hashlib.sha256((paths.root / r.path).read_bytes()).hexdigest()
        for r in ctx.manifest.records(Status.accepted)
    }


def test_review_pauses_until_approved(tmp_path: Path) -> None:
    paths = make_build(tmp_path / "b")
    first = run_graph(context(paths))
    assert first.outcome == "review"
    assert first.review["plan"].endswith("plan.yaml")
    done = run_graph(context(paths), resume={"action": "approve"})
    assert done.outcome == "done"
    # --no-train (as here) skips YOLO but still writes the report
    assert paths.report.is_file() and not paths.runs.exists()


def test_feedback_at_the_review_pause_replans_and_a_refused_one_changes_nothing(
    tmp_path: Path,
) -> None:
    paths = make_build(tmp_path / "b")
    write_text(paths.spec_txt, "20 faces in two eyewear classes (glasses, none)")
    assert run_graph(context(paths)).outcome == "review"
    plan = paths.plan_yaml.read_bytes()
    refused = run_graph(context(paths), resume={"action": "feedback",
                                                "text": "children with bruises"})
    assert refused.outcome == "review" and "refused" in refused.review["error"]
    assert "bruises" in refused.review["error"]
    assert paths.plan_yaml.read_bytes() == plan
    again = run_graph(context(paths))  # still waiting, on the same plan, the failure gone
    assert again.outcome == "review" and again.review["error"] is None
    revised = run_graph(context(paths), resume={"action": "feedback", "text": "30% wear hats"})
    assert revised.outcome == "review" and revised.review["error"] is None, revised.review
    assert paths.plan_yaml.read_bytes() != plan
    assert run_graph(context(paths), resume={"action": "approve"}).outcome == "done"


def test_feedback_left_in_an_older_checkpoint_is_dropped_not_applied(tmp_path: Path) -> None:
    """Older facetory stored feedback in the state before applying it; one that failed
    stayed there and was applied by the next run. Now it is dropped and logged."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    from agent.runtime.graph import build_graph
    from agent.runtime.runner import CONFIG

    paths = make_build(tmp_path / "b")
    assert run_graph(context(paths)).outcome == "review"
    plan = paths.plan_yaml.read_bytes()
    conn = sqlite3.connect(paths.state_db)
    graph = build_graph(SqliteSaver(conn))
    graph.update_state(CONFIG, {"approved": False, "feedback": "30% wear hats"}, as_node="review")
    conn.close()
    assert run_graph(context(paths)).outcome == "review"
    assert paths.plan_yaml.read_bytes() == plan
    events = BuildContext(paths=paths).events.read()
    assert [e["feedback"] for e in events if e["event"] == "feedback_dropped"] == [
        "30% wear hats"
    ]


def test_build_retries_rejections_until_every_item_is_accepted(tmp_path: Path) -> None:
    paths = make_build(tmp_path / "b")
    ctx = context(paths, reject=0.3)
    run_graph(ctx)
    result = run_graph(ctx, resume={"action": "approve"})
    status = build_status(ctx.plan, ctx.manifest, stop_reason=result.state.get("stop_reason"))
    assert result.state["stop_reason"] == "complete"
    assert status["complete"]
    assert status["total"]["attempts"] > status["total"]["target"]  # some were retried
    assert all(c["accepted"] == c["target"] == 10 for c in status["classes"].values())
    assert result.state["round"] >= 1
    assert ctx.manifest.decisions()  # each retry round logs its reasons
    card = (paths.dataset / "README.md").read_text()
    rejected = sum(sum(c["rejected"].values()) for c in status["classes"].values())
    assert rejected  # the card counts every attempt, not the accepted ones alone
    assert (f"{status['total']['attempts']} images were generated: 0 pending, 20 accepted, "
            f"{rejected} rejected") in card


def test_budget_spent_exports_what_it_has_and_names_the_shortfall(tmp_path: Path) -> None:
    paths = make_build(tmp_path / "b", budget=1.0)
    ctx = context(paths, reject=0.5)
    run_graph(ctx)
    result = run_graph(ctx, resume={"action": "approve"})
    status = build_status(ctx.plan, ctx.manifest)
    assert result.state["stop_reason"] == "budget"
    assert status["total"]["attempts"] == 20
    assert not status["complete"]
    assert any(c["rejected"].get("blurry") for c in status["classes"].values())
    assert (paths.dataset / "README.md").exists()


def test_near_copies_are_marked_duplicate_and_replaced(tmp_path: Path) -> None:
    paths = make_build(tmp_path / "b")
    ctx = context(paths, reject=0.0, twin_every=3)
    run_graph(ctx)
    result = run_graph(ctx, resume={"action": "approve"})
    duplicates = ctx.manifest.records(Status.duplicate)
    assert duplicates and all(r.duplicate_of for r in duplicates)
    assert result.state["stop_reason"] == "complete"


def crowded_embedder(path: Path) -> np.ndarray:
    """Every picture about 0.89 from every other (identical bytes: 1.0), the way distinct
    pictures of people with the darkest skin crowd together in the image embedding."""
    seed = int.from_bytes(hashlib.sha256(Path(path).read_bytes()).digest()[:4], "little")
    rng = np.random.default_rng(seed)
    spread = rng.normal(size=64)
    spread[0] = 0.0
    vector = np.eye(64)[0] + rng.uniform(0.25, 0.55) * spread / np.linalg.norm(spread)
    return (vector / np.linalg.norm(vector)).astype(np.float32)


@pytest.mark.parametrize("weight", [0.5, 0.0])
def test_a_crowd_of_distinct_pictures_is_not_taken_for_copies(tmp_path: Path, weight) -> None:
    paths = make_build(tmp_path / "b", quality={"duplicate_runner_up_weight": weight})
    ctx = context(paths, reject=0.0, twin_every=3, embedder=crowded_embedder)
    run_graph(ctx)
    run_graph(ctx, resume={"action": "approve"})
    copies = [r for r in ctx.manifest.records(Status.duplicate)
              if r.similarity is not None and r.similarity > 0.999]
    crowd = [r for r in ctx.manifest.records(Status.duplicate) if r not in copies]
    if weight:  # most have a runner-up as close as the best match: distinct, not copies
        assert len(ctx.manifest.records(Status.accepted)) == 20  # complete (10 in the crowd)
        assert copies and len(crowd) < 15
    else:  # a plain threshold takes most of the crowd for copies and the budget runs out
        assert len(crowd) >= 25 and len(ctx.manifest.records(Status.accepted)) < 20


def test_stop_request_ends_after_a_committed_batch_and_run_continues(tmp_path: Path) -> None:
    paths = make_build(tmp_path / "stopped")
    ctx = context(paths)
    run_graph(ctx)
    stopped = run_graph(ctx, resume={"action": "approve"}, stop_requested=lambda: True)
    assert stopped.outcome == "stopped"
    assert 0 < context(paths).manifest.attempts() < 20
    finished = run_graph(context(paths))
    assert finished.outcome == "done"

    reference = make_build(tmp_path / "reference")
    run_graph(context(reference))
    run_graph(context(reference), resume={"action": "approve"})
    assert accepted_bytes(paths) == accepted_bytes(reference)


def test_a_kill_between_a_nodes_writes_and_its_checkpoint_still_resumes(tmp_path: Path) -> None:
    paths = make_build(tmp_path / "b")
    run_graph(context(paths))
    stopped = run_graph(context(paths), resume={"action": "approve"}, stop_requested=lambda: True)
    assert stopped.outcome == "stopped"
    # as after a SIGKILL once `assess` had saved its writes but not the step's checkpoint
    with sqlite3.connect(paths.state_db) as conn:
        (last,) = conn.execute("SELECT max(checkpoint_id) FROM checkpoints").fetchone()
        conn.execute("DELETE FROM checkpoints WHERE checkpoint_id = ?", (last,))
        conn.execute("DELETE FROM writes WHERE checkpoint_id = ?", (last,))
    finished = run_graph(context(paths))
    assert finished.outcome == "done"
    ctx = context(paths)
    assert build_status(ctx.plan, ctx.manifest)["complete"]

    reference = make_build(tmp_path / "reference")
    run_graph(context(reference))
    run_graph(context(reference), resume={"action": "approve"})
    assert accepted_bytes(paths) == accepted_bytes(reference)


def test_a_batch_recorded_before_its_checkpoints_were_lost_is_not_drawn_again(
        tmp_path: Path) -> None:
    paths = make_build(tmp_path / "b")
    run_graph(context(paths))
    run_graph(context(paths), resume={"action": "approve"}, stop_requested=lambda: True)
    before_batch_2 = paths.state_db.read_bytes()
    run_graph(context(paths), stop_requested=lambda: True)
    # as if the checkpoints of batch 2's steps never reached the disk (a kill while they were
    # being saved, or an older state.sqlite put back): the manifest has recorded batch 2
    paths.state_db.write_bytes(before_batch_2)
    assert run_graph(context(paths)).outcome == "done"

    records = BuildContext(paths=paths).manifest.records()
    assert not [r.image_id for r in records if r.duplicate_of == r.image_id]
    reference = make_build(tmp_path / "reference")
    run_graph(context(reference))
    run_graph(context(reference), resume={"action": "approve"})
    assert accepted_bytes(paths) == accepted_bytes(reference)


@pytest.mark.parametrize("stop_after", [1, 3, 7])
def test_resume_from_any_checkpoint_gives_the_same_dataset(tmp_path: Path, stop_after: int) -> None:
    paths = make_build(tmp_path / "resumed")
    run_graph(context(paths))
    calls = {"n": 0}

    def stop() -> bool:
        calls["n"] += 1
        return calls["n"] >= stop_after

    run_graph(context(paths), resume={"action": "approve"}, stop_requested=stop)
    run_graph(context(paths))
    reference = make_build(tmp_path / "reference")
    run_graph(context(reference))
    run_graph(context(reference), resume={"action": "approve"})
    assert accepted_bytes(paths) == accepted_bytes(reference)


class SlowGenerator(FakeGenerator):
    """A generator that takes a known minimum time per batch."""

    pause = 0.05

    def generate(self, items, out_dir, *, attempt=0):
        import time

        time.sleep(self.pause)
        return super().generate(items, out_dir, attempt=attempt)


def test_the_report_counts_the_build_time_of_the_run_that_writes_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tools.outputs.report

    seen = []
    monkeypatch.setattr(tools.outputs.report, "write_report",
                        lambda inputs, path: seen.append(inputs) or Path(path))
    paths = make_build(tmp_path / "b")
    ctx = context(paths, reject=0.0)
    ctx.services.generator = SlowGenerator()
    run_graph(ctx)  # plan and review: a short first run
    run_graph(ctx, resume={"action": "approve"})  # the whole build, then the report

    (inputs,) = seen
    assert {"generate", "critique", "dedup", "assess", "export"} <= set(inputs.timing)
    batches = ctx.services.generator.calls
    assert inputs.timing["generate"] >= batches * SlowGenerator.pause
