"""Large plans keep their items in a compact store beside plan.yaml; review, approve, run and
resume work on them exactly as on a plan that lists its items."""

from __future__ import annotations

from pathlib import Path

import pytest

import agent.planning.plan_file
from agent.language.spec import SpecError
from agent.planning.approval import approve, is_approved
from agent.planning.plan_file import read_plan
from agent.planning.plan_review import review_plan
from agent.runtime.runner import run_graph
from tests.agent.runtime.test_graph import accepted_bytes, context, make_build


@pytest.fixture
def small_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Treat any plan over 5 items as large (the real bar is 10,000)."""
    monkeypatch.setattr(agent.planning.plan_file, "INLINE_MAX", 5)


def stores(root: Path) -> list[Path]:
    return sorted(root.glob("plan_items-*.bin"))


def test_a_large_plan_lists_its_summary_and_names_its_item_store(tmp_path, small_inline):
    paths = make_build(tmp_path / "b")
    text = paths.plan_yaml.read_text()
    (store,) = stores(paths.root)
    assert f"items_file: {store.name}" in text and "\n- {" not in text
    plan = read_plan(paths.plan_yaml)
    assert len(plan.items) == 20 and plan.summary()["total"] == 20
    assert plan.items[0].id == "glasses-000001" and plan.items[0].prompt
    assert review_plan(paths.root).changed is False
    approve(paths.root)
    assert is_approved(paths.root)


def test_the_item_store_gives_the_same_items_as_the_listed_plan(tmp_path, monkeypatch):
    listed = make_build(tmp_path / "listed")
    monkeypatch.setattr(agent.planning.plan_file, "INLINE_MAX", 5)
    stored = make_build(tmp_path / "stored")
    assert list(read_plan(stored.plan_yaml).items) == list(read_plan(listed.plan_yaml).items)
    again = make_build(tmp_path / "again")
    assert stores(again.root)[0].read_bytes() == stores(stored.root)[0].read_bytes()


def test_an_edited_item_store_is_refused_and_a_spec_edit_replans(tmp_path, small_inline):
    paths = make_build(tmp_path / "b")
    (store,) = stores(paths.root)
    original = store.read_bytes()
    store.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    with pytest.raises(SpecError, match="was changed"):
        review_plan(paths.root)
    store.write_bytes(original)

    text = paths.plan_yaml.read_text()
    paths.plan_yaml.write_text(text.replace("quota: 10", "quota: 12", 1))
    result = review_plan(paths.root)
    assert result.changed and result.kind == "spec" and len(result.plan.items) == 22
    assert len(stores(paths.root)) == 1 and not store.exists()  # the old store is gone
    assert len(read_plan(paths.plan_yaml).items) == 22


def test_a_build_from_an_item_store_resumes_to_the_same_dataset(tmp_path, monkeypatch):
    reference = make_build(tmp_path / "reference")  # items listed in plan.yaml
    run_graph(context(reference))
    run_graph(context(reference), resume={"action": "approve"})

    monkeypatch.setattr(agent.planning.plan_file, "INLINE_MAX", 5)
    paths = make_build(tmp_path / "stored")
    assert stores(paths.root)
    run_graph(context(paths))
    stopped = run_graph(context(paths), resume={"action": "approve"}, stop_requested=lambda: True)
    assert stopped.outcome == "stopped"
    assert run_graph(context(paths)).outcome == "done"
    assert accepted_bytes(paths) == accepted_bytes(reference)
