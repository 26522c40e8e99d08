"""Approval (`agent.planning.approval.approve`) of a plan the caller holds: not read again when
plan.yaml and spec.yaml are as facetory wrote them, checked in full when either was edited."""

from __future__ import annotations

from pathlib import Path

import pytest

import agent.planning.approval as approval
from agent.language.spec import DatasetSpec, SpecError
from agent.planning.approval import approve, is_approved
from agent.planning.plan_file import write_plan, write_spec
from agent.planning.planner import make_plan
from tests.agent.web.builds import SPEC


def written(root: Path):
    """A plan and its spec as the graph's plan node leaves them; the plan it holds."""
    spec = DatasetSpec.from_data(SPEC)
    plan = make_plan(spec)
    root.mkdir(parents=True)
    write_spec(spec, root / "spec.yaml")
    write_plan(plan, root / "plan.yaml")
    return plan


def test_a_plan_approved_as_it_was_written_is_not_read_and_validated_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = written(tmp_path / "b")

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("plan.yaml was reviewed again")

    monkeypatch.setattr(approval, "review_plan", never)
    assert approve(tmp_path / "b", plan=plan)["items"] == len(plan.items)
    assert is_approved(tmp_path / "b")


def test_a_spec_edited_after_the_plan_was_written_is_caught_with_the_plan_in_hand(
    tmp_path: Path,
) -> None:
    root = tmp_path / "b"
    plan = written(root)
    text = (root / "spec.yaml").read_text()
    (root / "spec.yaml").write_text(text.replace("quota: 6", "quota: 7", 1))
    with pytest.raises(SpecError, match="spec.yaml was edited since it was last reviewed"):
        approve(root, plan=plan)
    assert not is_approved(root)
