"""The LangGraph state of a build: small on purpose.

Only ids, counters and decisions live here, so checkpoints stay cheap and resume is exact.
Per-image records are in `manifest.sqlite`, pixels on disk, embeddings in the chroma store.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

from langgraph.channels import UntrackedValue

from tools.execution.batch import BatchResult

StopReason = Literal["complete", "budget"]
NextStep = Literal["generate", "replan", "export"]


class BuildState(TypedDict, total=False):
    request: dict[str, Any] | None
    """How the parse node reads a new build's words: `is_yaml` (they are a YAML spec file),
    `newline_added` (spec.txt ends in a newline the person did not type), `seed` (--seed) and
    `settings` (the recorded command-line options)."""
    approved: bool
    feedback: str | None
    """Words from the reviewer that the plan node turns into a revised plan."""
    replan_requested: bool
    """The reviewer edited the spec in plan.yaml: the plan node plans it again."""
    plan_version: int
    round: int
    """Generation round: 0 is the plan itself, later rounds retry the items still short."""
    cursor: int
    """Position of the next batch in the round's work list (`manifest.work`)."""
    batch: list[str]
    """Image ids of the batch in flight between generate, critique and dedup."""
    batch_result: Annotated[BatchResult | None, UntrackedValue(object)]
    """What generate's executor produced for the batch (pictures, and verdicts, embeddings
    and descriptors where it computed them), the input of critique and dedup. Never
    checkpointed (`UntrackedValue`): it holds embeddings, and is passed only from one node to
    the next within a run; a build resumed between them has none, and those nodes compute
    it all again (the same functions, so the same values)."""
    review_error: str | None
    """Why the last answer to the review pause failed (shown with the next pause)."""
    review_question: list[dict] | None
    """The words that failure left unexplained, when it was a `Question` (the same question
    box asks them on the web as offline)."""
    plan_sha256: str | None
    """sha256 of the plan.yaml this build runs (recorded at approval): a different approved
    plan at the next `run` is a revision (`agent.planning.revision`)."""
    next_step: NextStep
    stop_reason: StopReason | None
    exported: bool
    skip_train: bool
    trained: bool
