"""A diffusion model's next batch, drawn ahead (on a thread) while this batch is judged.

Without it a GPU build is one thing at a time: the model draws batch k, then waits while the
critic pool judges it and the duplicate store takes it, then draws batch k+1 (issue 16: the
GPU waits for the CPU). The round's work list is fixed before its first batch, so batch k+1's
units are known while batch k is still being judged: `generate` starts drawing them here
before it records batch k, and takes the pictures when batch k+1 comes.

What keeps the output exact (the same rules as `tools.execution.render_ahead` for the pool):
- a speculation is taken only if its jobs are exactly the batch's jobs (same attempts, same
  items with the same seeds and prompts): the same generator call, the same batch shape, so
  the same pictures; otherwise it is waited out and the batch is drawn here;
- one thing uses the generator at a time: `take` waits for the thread before the caller
  draws anything (variants' img2img shares the pipeline's components and scheduler);
- a speculation that failed is drawn again here, where its error is the batch's own;
- nothing is recorded from the thread: the caller records the batch whole, as before. Files
  drawn ahead that no record names are deleted by `close` (a stopped build), or by the
  start-up clean-up (`agent.runtime.integrity.leftover_images`) after a kill.

`DrawAhead` wraps any executor (`tools.execution.base.BatchExecutor`): by default one
thread of this process (`tools.execution.thread.OnThread`), where the model is loaded.

Only for generators that draw from the plan item alone (no `references`: an identity-
conditioned model draws a new person from images the critic has not passed yet).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from tools.contracts import GeneratedImage, PlanItem
from tools.execution.base import BatchExecutor, Pending
from tools.execution.thread import OnThread
from tools.generate.base import image_filename

Job = tuple[int, PlanItem]  # (attempt, the item as this attempt renders it)
Drawn = dict[str, GeneratedImage]  # image id -> picture


class DrawAhead:
    """`draw` of the next batch's jobs on `executor` (one thread by default), taken by the
    batch with the same jobs."""

    def __init__(
        self, draw: Callable[[list[Job]], Drawn], out_dir: Path,
        executor: BatchExecutor | None = None,
    ) -> None:
        self._draw = draw
        self._out_dir = out_dir
        self._executor = executor if executor is not None else OnThread("draw-ahead")
        self._pending: tuple[list[Job], Pending[Drawn]] | None = None
        self._unclaimed: set[Path] = set()  # drawn ahead, and not taken by their batch

    def start(self, jobs: Sequence[Job]) -> None:
        """Start drawing `jobs` (the next batch's) now; a speculation not taken is dropped."""
        self._drop()
        if jobs:
            started = self._executor.map_async(self._draw, [list(jobs)],
                                               what="drawing the next batch ahead")
            self._pending = (list(jobs), started)

    def take(self, jobs: Sequence[Job]) -> Drawn | None:
        """The pictures of `jobs` if they were drawn ahead, else None (draw them now: no
        thread uses the generator any more when this returns)."""
        if self._pending is None:
            return None
        started, pending = self._pending
        if _key(started) != _key(jobs):
            self._drop()
            return None
        self._pending = None
        try:
            return pending.result()[0]
        except Exception:  # noqa: BLE001 -- drawn again by the caller, whose error it then is
            return None

    def close(self, recorded: Callable[[Path], bool]) -> None:
        """Wait for the executor, then delete what it drew that no record names."""
        self._drop()
        self._executor.close()
        for path in sorted(self._unclaimed):
            if path.is_file() and not recorded(path):
                path.unlink()
        self._unclaimed.clear()

    def _drop(self) -> None:
        """Wait out the pending speculation and remember its files as unclaimed."""
        if self._pending is None:
            return
        started, pending = self._pending
        self._pending = None
        pending.wait()  # its error does not matter, it is not taken
        self._unclaimed.update(self._out_dir / image_filename(item, a) for a, item in started)


def _key(jobs: Sequence[Job]) -> list[tuple[int, str]]:
    """What decides a generator call's pictures: every attempt and item, in order."""
    return [(attempt, item.model_dump_json()) for attempt, item in jobs]
