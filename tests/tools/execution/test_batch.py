"""What a batch's executor produced, and how a stage fills in only what is missing."""

from __future__ import annotations

import numpy as np

from tools.contracts import GeneratedImage, PlanItem, Verdict
from tools.execution.batch import BatchResult, fill
from tools.execution.image_tasks import Prepared


def picture(image_id: str) -> GeneratedImage:
    return GeneratedImage(item_id=image_id, path=f"/x/{image_id}.png", width=8, height=8,
                          backend="painter", model="test", seed=1)


def item(prompt: str = "a face") -> PlanItem:
    return PlanItem.model_validate({"id": "i1", "class": "face", "prompt": prompt, "seed": 1})


def test_a_verdict_counts_only_for_the_item_it_was_judged_against() -> None:
    verdict = Verdict(item_id="i1", passed=True, score=0.9)
    result = BatchResult({"i1-a0": Prepared(picture("i1"), judged=item(), verdict=verdict)})
    assert result.verdict("i1-a0", item()) == verdict
    assert result.verdict("i1-a0", item("another face")) is None  # replanned since: judge again
    assert result.verdict("i2-a0", item()) is None


def test_a_descriptor_counts_only_for_the_face_box_it_describes() -> None:
    described = Prepared(picture("i1"), box=(1.0, 2.0, 3.0, 4.0), descriptor=np.ones(3),
                         embedding=np.zeros(2))
    result = BatchResult({"i1-a0": described})
    assert result.descriptor("i1-a0", (1.0, 2.0, 3.0, 4.0)) is not None
    assert result.descriptor("i1-a0", (0.0, 2.0, 3.0, 4.0)) is None
    assert result.embedding("i1-a0") is not None
    assert BatchResult.drawn({"i1-a0": picture("i1")}).embedding("i1-a0") is None


def test_fill_computes_what_is_missing_in_one_call_and_keeps_the_order() -> None:
    calls: list[list[str]] = []

    def compute(args: list[str]) -> list[str]:
        calls.append(args)
        return [a.upper() for a in args]

    assert fill(["known", None, None], ["a", "b", "c"], compute) == ["known", "B", "C"]
    assert calls == [["b", "c"]]
    assert fill(["x"], ["a"], compute) == ["x"] and len(calls) == 1
