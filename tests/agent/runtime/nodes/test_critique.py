"""The critique node takes what the batch's executor already judged (the state's
`batch_result`) and judges only the rest."""

from __future__ import annotations

from pathlib import Path

from langgraph.runtime import Runtime

from agent.runtime.nodes.critique import critique
from agent.runtime.nodes.generate import generate
from agent.runtime.nodes.review import schedule_first_round
from tests.agent.fakes import FakeCritic
from tests.agent.runtime.test_graph import context, make_build
from tools.contracts import PlanItem, Status, Verdict
from tools.execution.batch import BatchResult
from tools.execution.image_tasks import Prepared


class CountingCritic(FakeCritic):
    """Passes everything and notes each image it judged."""

    def __init__(self) -> None:
        super().__init__(reject_share=0.0)
        self.judged: list[str] = []

    def judge(self, image_path: Path, item: PlanItem) -> Verdict:
        self.judged.append(Path(image_path).stem)
        return super().judge(image_path, item)


def test_critique_takes_the_verdicts_the_batch_s_executor_computed_and_judges_the_rest(
    tmp_path: Path,
) -> None:
    ctx = context(make_build(tmp_path / "b", batch=4))
    critic = ctx.services.critic = CountingCritic()
    schedule_first_round(ctx)
    drawn = generate({"round": 0, "cursor": 0}, Runtime(context=ctx))
    batch, result = drawn["batch"], drawn["batch_result"]
    assert isinstance(result, BatchResult) and sorted(result.images) == sorted(batch)

    first = ctx.manifest.get(batch)[batch[0]]
    item = ctx.items[first.item_id]
    dark = Verdict(item_id=item.id, passed=False, score=0.1, reasons=["exposure"])
    judged = BatchResult({**result.images,
                          batch[0]: Prepared(result.image(batch[0]), judged=item, verdict=dark)})
    critique({"batch": batch, "batch_result": judged}, Runtime(context=ctx))

    assert critic.judged == [Path(r.path).stem for r in
                             (ctx.manifest.get(batch)[i] for i in batch[1:])]
    record = ctx.manifest.get(batch)[batch[0]]
    assert record.status is Status.rejected and record.reasons == ["exposure"]


def test_critique_resumed_without_a_batch_result_judges_the_whole_batch(tmp_path: Path) -> None:
    ctx = context(make_build(tmp_path / "b", batch=4))
    critic = ctx.services.critic = CountingCritic()
    schedule_first_round(ctx)
    batch = generate({"round": 0, "cursor": 0}, Runtime(context=ctx))["batch"]
    critique({"batch": batch}, Runtime(context=ctx))  # a resume: the result was not saved
    assert len(critic.judged) == len(batch) == 4
